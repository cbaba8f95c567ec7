package site

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// metaView is what a page says of itself to search engines and to the cards social sites
// make of links: description, canonical URL, OpenGraph and Twitter card tags, and feeds.
type metaView struct {
	Description string
	URL         string
	Type        string // OpenGraph type: website or article
	Title       string // the title without the site's name
	Image       string
	Published   string
	Feeds       []feedLink
}

func (h *Handler) homeMeta(m metaView) metaView {
	m.Title = h.cfg.Name
	m.Description = "Notes, articles and photos by " + h.cfg.Name + "."
	m.URL = h.cfg.URL.String()
	m.Type = "website"
	m.Image = h.cfg.Photo
	return m
}

func (h *Handler) postMeta(m metaView, v *postView) metaView {
	m.Title = v.Title
	m.Description = v.Description
	m.URL = v.URL
	m.Type = "article"
	if v.Published != nil {
		m.Published = v.Published.Text
	}
	for _, media := range v.Media {
		if media.Kind == "photo" {
			m.Image = media.URL
			break
		}
	}
	if m.Image == "" {
		m.Image = h.cfg.Photo
	}
	return m
}

// plainText is the text of an HTML fragment, its white space collapsed.
func plainText(fragment string) string {
	z := html.NewTokenizer(strings.NewReader(fragment))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "td":
				b.WriteByte(' ')
			}
		}
	}
}

// firstWords cuts text at a word boundary to at most max characters, with an ellipsis when
// something was cut.
func firstWords(text string, max int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= max {
		return text
	}
	runes := []rune(text)
	cut := string(runes[:max])
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:-–—") + "…"
}
