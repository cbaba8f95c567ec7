package site

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
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
	// Title names the post on its page and in feeds: its name, else its first words, else
	// what it is. Description is a sentence or two of its text, for search engines and cards.
	Title       string
	Description string
	Content     []template.HTML
	// In lists (Permalink false) an article shows Summary, its summary or first paragraph,
	// and More says the rest is on its page. SummaryText is the summary property as text.
	Permalink   bool
	Article     bool
	Summary     template.HTML
	SummaryText string
	More        bool
	Media       []valueView // photo, video, audio
	Context     []propView  // in-reply-to, like-of, ...
	Categories  []valueView
	Place       []propView // location, checkin
	Venue       *itemView  // the address and map of a venue (an h-card post)
	Published   *valueView
	Updated     *valueView
	OwnURLs     []string // a post's own url values (a venue's website); the permalink is then u-uid only
	Details     []propView
	Syndicated  []string
	HasAuthor   bool
	Responses   responses  // webmentions received: comments, likes, reposts, ...
	Sent        []sentView // webmentions sent, shown to the owner
}

// propView is one property with its microformats class prefix worked out per value.
type propView struct {
	Name   string
	Label  string
	Values []valueView
}

// valueView is one value: Kind says which element renders it.
type valueView struct {
	Kind    string // text, data, link, category, photo, video, audio, time, html, item, geo
	Class   string
	Text    string
	Display string // a date-time as people read it; Text keeps the exact value
	URL     string
	Site    string // a link's host, shown beside a title found for it
	Alt     string
	HTML    template.HTML
	Item    *itemView
	Geo     *micropubd.Geo
	MapURL  string
	// An upload's size in pixels, resized copies (srcset), type and length in bytes.
	Width, Height int
	SrcSet        string
	Type          string
	Size          int64
}

// itemView is a nested microformats object (an h-card location, an h-cite, an h-measure).
// Lead is its name, linked to its one url, when it has one of each; Address the parts of a
// postal address, shown on one line; MapURL a map of its coordinates.
type itemView struct {
	Types   string
	Lead    *leadView
	Address []valueView
	Props   []propView
	MapURL  string
}

// leadView is the name of a place or a cited page, linked to its URL.
type leadView struct {
	Name, URL, Site string
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

// viewBuilder makes views. resolve finds a post of this site by URL, to render a venue a post
// points at; library describes an upload of this site by its URL; titles are the titles of
// pages the post links to, found while sending webmentions.
type viewBuilder struct {
	content   *contentRenderer
	resolve   func(url string) *micropubd.Post
	library   func(url string) *mediaFile
	titles    func(p *micropubd.Post) map[string]string
	url       func(p *micropubd.Post) string
	tagURL    func(tag string) string
	permalink bool
}

// mediaFile is what the media library knows of an upload.
type mediaFile struct {
	Alt           string
	Width, Height int
	Type          string
	Size          int64
	SrcSet        string
}

// views returns a builder for a page's posts. What the posts point at on this site (venues,
// uploads and their resized copies, the titles of linked pages) is read before, in one query
// each for the whole page: a page costs the same however many values its posts hold.
func (h *Handler) views(ctx context.Context, permalink bool, posts []*micropubd.Post) *viewBuilder {
	base := h.cfg.URL.String()
	mediaPrefix := base + "media/"
	var paths, names []string
	var contextPosts []int64
	for _, p := range posts {
		p.Properties.EachText(func(name, s string) {
			if file, ok := strings.CutPrefix(s, mediaPrefix); ok && file != "" && !strings.ContainsAny(file, "/?#") {
				names = append(names, file)
			} else if rest, ok := strings.CutPrefix(s, base); ok && slices.Contains(placeProps, name) {
				paths = append(paths, strings.Trim(rest, "/"))
			}
		})
		if slices.ContainsFunc(contextProps, func(n string) bool { return len(p.Properties[n]) > 0 }) {
			contextPosts = append(contextPosts, p.ID)
		}
	}
	warn := func(what string, err error) {
		if err != nil {
			h.log.WarnContext(ctx, "page lookups failed: "+what, "err", err)
		}
	}
	venues, media := map[string]*micropubd.Post{}, map[string]*micropubd.Media{}
	variants, sent := map[int64][]*micropubd.Media{}, map[int64][]*micropubd.WebmentionSend{}
	var err error
	if len(paths) > 0 {
		venues, err = h.posts.PostsByPaths(ctx, paths)
		warn("venues", err)
	}
	if len(names) > 0 {
		media, err = h.posts.MediaByNames(ctx, names)
		warn("uploads", err)
		var ids []int64
		for _, m := range media {
			ids = append(ids, m.ID)
		}
		variants, err = h.posts.MediaVariantsOf(ctx, ids)
		warn("resized copies", err)
	}
	if len(contextPosts) > 0 {
		sent, err = h.posts.SentWebmentionsOf(ctx, contextPosts)
		warn("linked titles", err)
	}
	return &viewBuilder{
		content:   h.content,
		permalink: permalink,
		url:       func(p *micropubd.Post) string { return base + p.Path },
		tagURL:    h.tagURL,
		resolve: func(raw string) *micropubd.Post {
			rest, ok := strings.CutPrefix(raw, base)
			if !ok {
				return nil
			}
			venue := venues[strings.Trim(rest, "/")]
			if venue == nil || !venue.IsPublic() || venue.IsDeleted() {
				return nil
			}
			return venue
		},
		library: func(raw string) *mediaFile {
			name, ok := strings.CutPrefix(raw, mediaPrefix)
			if m := media[name]; ok && m != nil {
				return describeMedia(mediaPrefix, raw, m, variants[m.ID])
			}
			return nil
		},
		titles: func(p *micropubd.Post) map[string]string {
			titles := map[string]string{}
			for _, s := range sent[p.ID] {
				if s.Title != "" {
					titles[s.Target] = s.Title
				}
			}
			return titles
		},
	}
}

// describeMedia is what a page shows of an upload: its alt text and size, and its resized
// copies as a srcset.
func describeMedia(prefix, raw string, m *micropubd.Media, variants []*micropubd.Media) *mediaFile {
	f := &mediaFile{Alt: m.Alt, Width: m.Width, Height: m.Height, Type: m.MIMEType, Size: m.Size}
	if len(variants) == 0 {
		return f
	}
	var set []string
	for _, v := range variants {
		set = append(set, fmt.Sprintf("%s%s %dw", prefix, v.Name, v.Width))
	}
	f.SrcSet = strings.Join(append(set, fmt.Sprintf("%s %dw", raw, m.Width)), ", ")
	return f
}

func (b *viewBuilder) post(p *micropubd.Post) *postView {
	v := &postView{
		URL:        b.url(p),
		Type:       p.Type,
		PostType:   p.PostType,
		Status:     p.Status,
		Visibility: p.Visibility,
		HasAuthor:  p.Type == "entry" || p.Type == "event",
		Permalink:  b.permalink,
	}
	var titles map[string]string
	if slices.ContainsFunc(contextProps, func(n string) bool { return len(p.Properties[n]) > 0 }) {
		titles = b.titles(p)
	}
	var text string // the post's text, for its title and description
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
			text = plainText(string(v.Content[0]))
		case name == "summary" && p.Type == "entry":
			v.SummaryText = textOf(vals[0])
			v.Details = append(v.Details, b.prop(name, vals))
		case name == "category":
			for _, val := range vals {
				v.Categories = append(v.Categories, b.category(val))
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
			pv := b.prop(name, vals)
			for i, val := range pv.Values {
				if t := titles[val.URL]; t != "" && val.Kind == "link" {
					pv.Values[i].Text, pv.Values[i].Site = t, hostOf(val.URL)
				}
			}
			v.Context = append(v.Context, pv)
		case slices.Contains(placeProps, name):
			v.Place = append(v.Place, b.prop(name, vals))
		case slices.Contains(responseProps, name):
			v.Responses.add(b, name, vals)
		default:
			v.Details = append(v.Details, b.prop(name, vals))
		}
	}
	if p.Type == "card" {
		v.Venue, v.Details = venueOf(v.Details)
	}
	b.summarise(v, text)
	return v
}

// summarise sets the post's title and description, and in lists an article's summary.
func (b *viewBuilder) summarise(v *postView, text string) {
	v.Article = len(v.Names) > 0 && v.Type == "entry" && len(v.Content) > 0
	switch {
	case len(v.Names) > 0:
		v.Title = v.Names[0]
	case text != "":
		v.Title = firstWords(text, 60)
	default:
		v.Title = label(v.PostType)
		if v.Published != nil {
			v.Title += ", " + v.Published.Display
		}
	}
	v.Description = firstWords(text, 180)
	if v.SummaryText != "" {
		v.Description = firstWords(v.SummaryText, 180)
	}
	if v.Description == "" {
		v.Description = v.Title
	}
	if !v.Article || b.permalink {
		return
	}
	if v.SummaryText != "" {
		v.Summary = b.content.Text(v.SummaryText)
		v.More = true
		return
	}
	v.Summary, v.More = firstParagraph(v.Content[0])
	v.More = v.More || len(v.Content) > 1
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

func (b *viewBuilder) prop(name string, vals []any) propView {
	pv := propView{Name: name, Label: label(name)}
	for _, val := range vals {
		pv.Values = append(pv.Values, b.value(name, val))
	}
	return pv
}

// category renders a category as a link to its tag page; a person tag (a nested h-card) as
// the item it is.
func (b *viewBuilder) category(val any) valueView {
	s, ok := val.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return b.value("category", val)
	}
	return valueView{Kind: "category", Class: "p-category", Text: s, URL: b.tagURL(s)}
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
				return valueView{Kind: "geo", Class: "p-" + name + " h-geo", Geo: &g, MapURL: mapURL(g.Latitude, g.Longitude)}
			}
		}
		if slices.Contains(placeProps, name) && isHTTP(x) {
			if venue := b.resolve(x); venue != nil {
				return b.venue(name, x, venue)
			}
		}
		switch {
		case name == "photo" || name == "logo" || name == "featured":
			vv := valueView{Kind: "photo", Class: "u-" + name, URL: x}
			if f := b.library(x); f != nil {
				vv.Alt, vv.Width, vv.Height, vv.SrcSet, vv.Type, vv.Size = f.Alt, f.Width, f.Height, f.SrcSet, f.Type, f.Size
			}
			return vv
		case name == "video" || name == "audio":
			vv := valueView{Kind: name, Class: "u-" + name, URL: x}
			if f := b.library(x); f != nil {
				vv.Type, vv.Size = f.Type, f.Size
			}
			return vv
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

// addressProps are the parts of a postal address, in the order they are written.
var addressProps = []string{"street-address", "extended-address", "locality", "region", "postal-code", "country-name"}

// coordinateProps are shown as a map link, not as numbers.
var coordinateProps = []string{"latitude", "longitude", "altitude"}

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
	list := func(k string) []any { l, _ := props[k].([]any); return l }
	// A name and a url, one of each, make a link: a place's name to its site, a cited
	// page's title to the page.
	if names, urls := list("name"), list("url"); len(names) == 1 && len(urls) == 1 {
		n, nok := names[0].(string)
		u, uok := urls[0].(string)
		if nok && uok && isHTTP(u) {
			iv.Lead = &leadView{Name: n, URL: u}
			if slices.Contains(types, "h-cite") {
				iv.Lead.Site = hostOf(u) // a cited page's title, and where it is
			}
		}
	}
	if lat, lon := list("latitude"), list("longitude"); len(lat) > 0 && len(lon) > 0 {
		iv.MapURL = mapURL(textOf(lat[0]), textOf(lon[0]))
	}
	for _, k := range sortedNames(props) {
		vals := list(k)
		switch {
		case !shown(k) || len(vals) == 0:
		case iv.Lead != nil && (k == "name" || k == "url"):
		case k == "content":
			pv := propView{Name: k, Label: label(k)}
			for _, c := range vals {
				pv.Values = append(pv.Values, valueView{Kind: "html", Class: "e-content", HTML: b.content.Value(c)})
			}
			iv.Props = append(iv.Props, pv)
		case slices.Contains(addressProps, k) && len(vals) == 1:
			iv.Address = append(iv.Address, b.value(k, vals[0]))
		case slices.Contains(coordinateProps, k) && iv.MapURL != "":
			pv := b.prop(k, vals)
			for i := range pv.Values {
				pv.Values[i].Kind = "data"
			}
			iv.Props = append(iv.Props, pv)
		default:
			pv := b.prop(k, vals)
			if k == "geo" && iv.MapURL == "" && len(pv.Values) > 0 && pv.Values[0].Kind == "geo" {
				iv.MapURL, pv.Values[0].MapURL = pv.Values[0].MapURL, ""
			}
			iv.Props = append(iv.Props, pv)
		}
	}
	sortAddress(iv.Address)
	return valueView{Kind: "item", Class: prefix + name + " " + iv.Types, Item: iv}
}

// sortAddress puts the parts of an address in the order they are written.
func sortAddress(parts []valueView) {
	slices.SortStableFunc(parts, func(a, c valueView) int {
		return slices.Index(addressProps, strings.TrimPrefix(a.Class, "p-")) - slices.Index(addressProps, strings.TrimPrefix(c.Class, "p-"))
	})
}

// mapURL is a map of a position on OpenStreetMap.
func mapURL(lat, lon string) string {
	return "https://www.openstreetmap.org/?mlat=" + url.QueryEscape(lat) + "&mlon=" + url.QueryEscape(lon) +
		"#map=16/" + url.PathEscape(lat) + "/" + url.PathEscape(lon)
}

// venue renders a location that is the URL of a venue posted on this site as its h-card:
// its name linked to it, with its town and a map beside, as plain text.
func (b *viewBuilder) venue(name, url string, venue *micropubd.Post) valueView {
	title := venue.Properties.First("name")
	if title == "" {
		title = url
	}
	iv := &itemView{Types: "h-card", Lead: &leadView{Name: title, URL: url}}
	var where []string
	for _, k := range []string{"locality", "region", "country-name"} {
		if s := venue.Properties.First(k); s != "" {
			where = append(where, s)
		}
	}
	if len(where) > 0 {
		iv.Props = []propView{{Values: []valueView{{Kind: "plain", Text: strings.Join(where, ", ")}}}}
	}
	if g, ok := micropubd.ParseGeoURI(venue.Properties.First("geo")); ok {
		iv.MapURL = mapURL(g.Latitude, g.Longitude)
	} else if lat, lon := venue.Properties["latitude"], venue.Properties["longitude"]; len(lat) > 0 && len(lon) > 0 {
		iv.MapURL = mapURL(textOf(lat[0]), textOf(lon[0]))
	}
	return valueView{Kind: "item", Class: "p-" + name + " h-card", Item: iv}
}

// venueOf takes the address and position of a venue post out of its details, to show them
// on one line with a map.
func venueOf(details []propView) (*itemView, []propView) {
	iv := &itemView{}
	var rest []propView
	for _, d := range details {
		switch {
		case slices.Contains(addressProps, d.Name) && len(d.Values) == 1:
			iv.Address = append(iv.Address, d.Values[0])
		case d.Name == "geo" && len(d.Values) == 1 && d.Values[0].Kind == "geo":
			iv.MapURL = d.Values[0].MapURL
			d.Values[0].MapURL = ""
			iv.Props = append(iv.Props, d)
		default:
			rest = append(rest, d)
		}
	}
	if len(iv.Address) == 0 && iv.MapURL == "" {
		return nil, details
	}
	sortAddress(iv.Address)
	return iv, rest
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
