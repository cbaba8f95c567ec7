package site

import (
	stdhtml "html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
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
	return template.HTML(c.policy.Sanitize(dropControls(s)))
}

// dropControls removes the control characters and non-characters that HTML does not allow in
// text and XML cannot carry at all (tabs and line breaks stay).
func dropControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == 0xfffe || r == 0xffff {
			return -1
		}
		return r
	}, s)
}

// Text renders plain text: blank lines part paragraphs, single newlines become <br>, and
// http(s) URLs become links.
func (c *contentRenderer) Text(s string) template.HTML {
	s = dropControls(s)
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
		b.WriteString(stdhtml.EscapeString(line[last:m[0]]))
		u := line[m[0]:m[1]]
		b.WriteString(`<a href="` + stdhtml.EscapeString(u) + `">` + stdhtml.EscapeString(u) + `</a>`)
		last = m[1]
	}
	b.WriteString(stdhtml.EscapeString(line[last:]))
}

// firstParagraph returns the first block of sanitised HTML (a paragraph, a heading, a list,
// or text up to the first block), and whether more follows it.
func firstParagraph(content template.HTML) (template.HTML, bool) {
	nodes, err := html.ParseFragment(strings.NewReader(string(content)), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return content, false
	}
	var b strings.Builder
	i := 0
	for ; i < len(nodes); i++ {
		n := nodes[i]
		if n.Type == html.TextNode && strings.TrimSpace(n.Data) == "" {
			continue
		}
		if n.Type == html.ElementNode && isBlock(n.DataAtom) {
			if b.Len() == 0 {
				html.Render(&b, n)
				i++
			}
			break
		}
		html.Render(&b, n) // inline content before the first block
	}
	for ; i < len(nodes); i++ {
		if n := nodes[i]; !(n.Type == html.TextNode && strings.TrimSpace(n.Data) == "") {
			return template.HTML(b.String()), true
		}
	}
	return template.HTML(b.String()), false
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Blockquote,
		atom.Pre, atom.Table, atom.Figure, atom.Hr, atom.Dl:
		return true
	}
	return false
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n\s*`)

func splitParagraphs(s string) []string {
	s = strings.Trim(s, "\n")
	if s == "" {
		return nil
	}
	return blankLines.Split(s, -1)
}
