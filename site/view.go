package site

import (
	"encoding/json"
	"fmt"
	"html/template"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// postView is a post as the templates render it, its properties sorted into the parts of a page.
type postView struct {
	URL        string
	Type       string // "entry", "event", "card", "cite"
	PostType   string
	Status     string
	Visibility string
	Names      []string
	Content    []template.HTML
	Media      []valueView // photo, video, audio
	Context    []propView  // in-reply-to, like-of, ...
	Categories []valueView
	Place      []propView // location, checkin
	Published  *valueView
	Updated    *valueView
	OwnURLs    []string // a post's own url values (a venue's website); the permalink is then u-uid only
	Details    []propView
	Syndicated []string
	HasAuthor  bool
}

// propView is one property with its microformats class prefix worked out per value.
type propView struct {
	Name   string
	Label  string
	Values []valueView
}

// valueView is one value: Kind says which element renders it.
type valueView struct {
	Kind    string // text, link, photo, video, audio, time, html, item
	Class   string
	Text    string
	Display string // a date-time as people read it; Text keeps the exact value
	URL     string
	Alt     string
	HTML    template.HTML
	Item    *itemView
	Geo     *micropubd.Geo
}

// itemView is a nested microformats object (an h-card location, an h-cite, an h-measure).
type itemView struct {
	Types string
	Props []propView
}

var (
	contextProps = []string{"in-reply-to", "like-of", "repost-of", "bookmark-of", "quotation-of", "rsvp"}
	placeProps   = []string{"location", "checkin"}
	mediaProps   = []string{"photo", "video", "audio"}
	// hidden are Micropub bookkeeping, not content.
	hidden = []string{"post-status", "visibility"}
	// vendorPrefixes mark properties clients add for themselves, such as Quill's
	// p3k-content-type: kept and returned by q=source, never shown on the page.
	vendorPrefixes = []string{"p3k-", "x-", "microblog-", "quill-", "swarm-", "ownyourswarm-", "ownyourgram-", "indigenous-", "omnibear-", "micropublish-"}
	// timeProps are microformats date-time properties (dt-*).
	timeProps = []string{"published", "updated", "start", "end", "bday", "anniversary", "rev", "accessed", "duration"}
	// urlItemProps take a nested object as u-* (its value is its URL), as h-cite contexts do.
	urlItemProps = []string{"in-reply-to", "like-of", "repost-of", "bookmark-of", "quotation-of", "syndication", "url", "uid"}
	// propName is the shape of a microformats property name; others are not rendered.
	propName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

var labels = map[string]string{
	"in-reply-to": "In reply to", "like-of": "Liked", "repost-of": "Reposted", "bookmark-of": "Bookmarked",
	"quotation-of": "Quoting", "rsvp": "RSVP", "location": "Location", "checkin": "Checked in at",
	"start": "Starts", "end": "Ends", "description": "Description", "summary": "Summary",
}

func label(name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	l := strings.ReplaceAll(name, "-", " ")
	return strings.ToUpper(l[:1]) + l[1:]
}

// viewBuilder makes views; resolve finds a post of this site by URL, to render a venue a
// post points at, and libraryAlt the alt text the media library has for an upload's URL.
type viewBuilder struct {
	content    *contentRenderer
	resolve    func(url string) *micropubd.Post
	libraryAlt func(url string) string
	url        func(p *micropubd.Post) string
}

func (b *viewBuilder) post(p *micropubd.Post) *postView {
	v := &postView{
		URL:        b.url(p),
		Type:       p.Type,
		PostType:   p.PostType,
		Status:     p.Status,
		Visibility: p.Visibility,
		HasAuthor:  p.Type == "entry" || p.Type == "event",
	}
	for _, name := range sortedNames(p.Properties) {
		vals := p.Properties[name]
		if !shown(name) || slices.Contains(hidden, name) || len(vals) == 0 {
			continue
		}
		switch {
		case name == "name":
			for _, val := range vals {
				v.Names = append(v.Names, textOf(val))
			}
		case name == "content":
			for _, val := range vals {
				v.Content = append(v.Content, b.content.Value(val))
			}
		case name == "category":
			for _, val := range vals {
				v.Categories = append(v.Categories, b.value(name, val))
			}
		case name == "published" || name == "updated":
			tv := b.value(name, vals[0])
			if name == "published" {
				v.Published = &tv
			} else {
				v.Updated = &tv
			}
		case name == "url":
			for _, val := range vals {
				v.OwnURLs = append(v.OwnURLs, textOf(val))
			}
		case name == "syndication":
			for _, val := range vals {
				v.Syndicated = append(v.Syndicated, textOf(val))
			}
		case slices.Contains(mediaProps, name):
			for _, val := range vals {
				v.Media = append(v.Media, b.value(name, val))
			}
		case slices.Contains(contextProps, name):
			v.Context = append(v.Context, b.prop(name, vals))
		case slices.Contains(placeProps, name):
			v.Place = append(v.Place, b.prop(name, vals))
		default:
			v.Details = append(v.Details, b.prop(name, vals))
		}
	}
	return v
}

func (b *viewBuilder) prop(name string, vals []any) propView {
	pv := propView{Name: name, Label: label(name)}
	for _, val := range vals {
		pv.Values = append(pv.Values, b.value(name, val))
	}
	return pv
}

// value decides how one value renders, and so which class prefix it gets: u-* for URLs and
// media, dt-* for date-times, e-* for HTML, p-* for text, and nested objects as h-* roots.
func (b *viewBuilder) value(name string, val any) valueView {
	switch x := val.(type) {
	case map[string]any:
		if _, ok := x["type"]; ok {
			return b.item(name, x)
		}
		if h, ok := x["html"].(string); ok {
			return valueView{Kind: "html", Class: "e-" + name, HTML: b.content.HTML(h)}
		}
		if s, ok := x["value"].(string); ok {
			vv := b.value(name, s)
			if alt, ok := x["alt"].(string); ok && vv.Kind == "photo" {
				vv.Alt = alt
			}
			return vv
		}
		data, _ := json.Marshal(x)
		return valueView{Kind: "text", Class: "p-" + name, Text: string(data)}
	case string:
		if name == "location" || name == "geo" {
			if g, ok := micropubd.ParseGeoURI(x); ok {
				return valueView{Kind: "geo", Class: "p-" + name + " h-geo", Geo: &g}
			}
		}
		if slices.Contains(placeProps, name) && isHTTP(x) {
			if venue := b.resolve(x); venue != nil {
				return b.venue(name, x, venue)
			}
		}
		switch {
		case name == "photo" || name == "logo" || name == "featured":
			return valueView{Kind: "photo", Class: "u-" + name, URL: x, Alt: b.libraryAlt(x)}
		case name == "video":
			return valueView{Kind: "video", Class: "u-" + name, URL: x}
		case name == "audio":
			return valueView{Kind: "audio", Class: "u-" + name, URL: x}
		case slices.Contains(timeProps, name):
			return valueView{Kind: "time", Class: "dt-" + name, Text: x, Display: humanTime(x)}
		case isHTTP(x):
			return valueView{Kind: "link", Class: "u-" + name, URL: x, Text: x}
		}
		return valueView{Kind: "text", Class: "p-" + name, Text: x}
	default:
		return valueView{Kind: "text", Class: "p-" + name, Text: textOf(x)}
	}
}

func (b *viewBuilder) item(name string, obj map[string]any) valueView {
	prefix := "p-"
	if slices.Contains(urlItemProps, name) {
		prefix = "u-"
	}
	var types []string
	switch t := obj["type"].(type) {
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && propName.MatchString(strings.TrimPrefix(s, "h-")) {
				types = append(types, "h-"+strings.TrimPrefix(s, "h-"))
			}
		}
	case string:
		types = append(types, "h-"+strings.TrimPrefix(t, "h-"))
	}
	iv := &itemView{Types: strings.Join(types, " ")}
	props, _ := obj["properties"].(map[string]any)
	for _, k := range sortedNames(props) {
		list, _ := props[k].([]any)
		if !shown(k) || len(list) == 0 {
			continue
		}
		if k == "content" {
			pv := propView{Name: k, Label: label(k)}
			for _, c := range list {
				pv.Values = append(pv.Values, valueView{Kind: "html", Class: "e-content", HTML: b.content.Value(c)})
			}
			iv.Props = append(iv.Props, pv)
			continue
		}
		iv.Props = append(iv.Props, b.prop(k, list))
	}
	return valueView{Kind: "item", Class: prefix + name + " " + iv.Types, Item: iv}
}

// venue renders a location that is the URL of a venue posted on this site as its h-card.
func (b *viewBuilder) venue(name, url string, venue *micropubd.Post) valueView {
	title := venue.Properties.First("name")
	if title == "" {
		title = url
	}
	iv := &itemView{Types: "h-card", Props: []propView{
		{Name: "name", Values: []valueView{{Kind: "text", Class: "p-name", Text: title}}},
		{Name: "url", Values: []valueView{{Kind: "link", Class: "u-url", URL: url, Text: url}}},
	}}
	return valueView{Kind: "item", Class: "p-" + name + " h-card", Item: iv}
}

// leading are the properties people read first; the rest follow alphabetically.
var leading = []string{"name", "author", "start", "end", "url"}

func sortedNames[V any](props map[string]V) []string {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	rank := func(n string) int {
		if i := slices.Index(leading, n); i >= 0 {
			return i
		}
		return len(leading)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

// shown reports whether a property is rendered: a microformats property name without a
// vendor prefix.
func shown(name string) bool {
	if !propName.MatchString(name) {
		return false
	}
	for _, p := range vendorPrefixes {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

func isHTTP(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

func textOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case map[string]any:
		if s, ok := v["value"].(string); ok {
			return s
		}
	}
	return fmt.Sprint(v)
}

// humanTime formats a date-time for reading; the datetime attribute keeps the exact value.
func humanTime(s string) string {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if layout == "2006-01-02" {
				return t.Format("2 January 2006")
			}
			return t.Format("2 January 2006, 15:04")
		}
	}
	return s
}
