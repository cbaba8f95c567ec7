package site

import (
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"mvdan.cc/xurls/v2"
)

// contentRenderer turns content values into safe HTML: posted HTML through a sanitiser,
// plain text escaped with its paragraphs, line breaks and links kept.
type contentRenderer struct {
	policy *bluemonday.Policy
	links  *regexp.Regexp
}

func newContentRenderer() *contentRenderer {
	links, err := xurls.StrictMatchingScheme(`https?://`)
	if err != nil {
		panic(err) // a constant pattern
	}
	policy := bluemonday.UGCPolicy()
	policy.AddTargetBlankToFullyQualifiedLinks(false)
	// Task lists (from Markdown) show their boxes; a checkbox does nothing outside a form.
	policy.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	policy.AllowAttrs("checked", "disabled").OnElements("input")
	return &contentRenderer{policy: policy, links: links}
}

// Value renders one content value: a string, or {"html": ...} / {"value": ...}.
func (c *contentRenderer) Value(v any) template.HTML {
	switch v := v.(type) {
	case string:
		return c.Text(v)
	case map[string]any:
		if h, ok := v["html"].(string); ok {
			return c.HTML(h)
		}
		if s, ok := v["value"].(string); ok {
			return c.Text(s)
		}
	}
	return ""
}

// HTML sanitises posted HTML.
func (c *contentRenderer) HTML(s string) template.HTML {
	return template.HTML(c.policy.Sanitize(s))
}

// Text renders plain text: blank lines part paragraphs, single newlines become <br>, and
// http(s) URLs become links.
func (c *contentRenderer) Text(s string) template.HTML {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	for i, para := range splitParagraphs(s) {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("<p>")
		for j, line := range strings.Split(para, "\n") {
			if j > 0 {
				b.WriteString("<br>\n")
			}
			c.linkify(&b, line)
		}
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

func (c *contentRenderer) linkify(b *strings.Builder, line string) {
	last := 0
	for _, m := range c.links.FindAllStringIndex(line, -1) {
		b.WriteString(html.EscapeString(line[last:m[0]]))
		u := line[m[0]:m[1]]
		b.WriteString(`<a href="` + html.EscapeString(u) + `">` + html.EscapeString(u) + `</a>`)
		last = m[1]
	}
	b.WriteString(html.EscapeString(line[last:]))
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n\s*`)

func splitParagraphs(s string) []string {
	s = strings.Trim(s, "\n")
	if s == "" {
		return nil
	}
	return blankLines.Split(s, -1)
}
