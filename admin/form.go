package admin

import (
	"net/url"
	"path"
	"strings"

	"github.com/micropubd/micropubd"
)

// kind is a sort of post the compose page writes.
type kind struct{ Name, Label string }

var kinds = []kind{
	{"note", "Note"}, {"article", "Article"}, {"photo", "Photo"}, {"reply", "Reply"},
	{"like", "Like"}, {"repost", "Repost"}, {"bookmark", "Bookmark"}, {"event", "Event"},
}

// targets are the kinds whose post is about another page, and the property that names it.
var targets = map[string]struct{ prop, label string }{
	"reply":    {"in-reply-to", "In reply to (the page's address)"},
	"like":     {"like-of", "The page you like (its address)"},
	"repost":   {"repost-of", "The page you repost (its address)"},
	"bookmark": {"bookmark-of", "The page to bookmark (its address)"},
}

// postForm is the compose and edit form: what it shows, and the field names it posts. A create
// posts Micropub's form fields (name, content, category, ...); an edit posts a form update
// (replace[name], replace[content], ...), leaving alone the properties it does not show.
type postForm struct {
	Action string // "create" or "update"
	URL    string // the post an update changes
	Kind   string
	Name   string
	// Content and its format: "text" (plain), "markdown" (rendered to HTML by the server and
	// kept for editing), or "html" (posted as HTML by another client).
	Content       string
	ContentFormat string
	Target        string // the URL a reply, like, repost or bookmark is about
	// targetEditable is false when an edited post's target is an object (an h-cite a client
	// sent), which this form does not rewrite.
	targetEditable bool
	Start, End     string
	Location       string
	HasLocation    bool
	Photos         []photoField
	PhotoSlots     []int
	Categories     []string
	// CategoriesEditable is false when the post tags people (nested h-cards), which plain
	// inputs would lose.
	CategoriesEditable bool
	// Syndicated are the syndication targets the post has (or the form ticked).
	Syndicated []string
	Published  string
	Status     string
	Visibility string
	Slug       string
	OpenMore   bool
}

type photoField struct{ URL, Alt string }

// newForm is an empty compose form of a kind.
func newForm(k string) *postForm {
	if !knownKind(k) {
		k = "note"
	}
	f := &postForm{Action: "create", Kind: k, ContentFormat: "text", Status: micropubd.StatusPublished,
		Visibility: micropubd.VisibilityPublic, PhotoSlots: []int{0, 1, 2}, CategoriesEditable: true,
		targetEditable: true, HasLocation: k == "event"}
	if k == "article" {
		f.ContentFormat = "markdown"
	}
	f.padCategories()
	return f
}

func knownKind(k string) bool {
	for _, x := range kinds {
		if x.Name == k {
			return true
		}
	}
	return false
}

func (f *postForm) padCategories() {
	if f.CategoriesEditable {
		f.Categories = append(f.Categories, "", "")
	}
}

// Field is the name a property's input posts under.
func (f *postForm) Field(name string) string {
	if f.Action == "update" {
		return "replace[" + name + "]"
	}
	return name
}

// ContentField names the content input: content, content[markdown] or content[html].
func (f *postForm) ContentField() string {
	name := f.Field("content")
	if f.ContentFormat == "markdown" || f.ContentFormat == "html" {
		name += "[" + f.ContentFormat + "]"
	}
	return name
}

// DateInput is the input type of dates: a date picker when writing; when editing, the text of
// the stored value, whose seconds and offset a picker would lose.
func (f *postForm) DateInput() string {
	if f.Action == "update" {
		return "text"
	}
	return "datetime-local"
}

// TargetField is the property a reply, like, repost or bookmark is about, or "".
func (f *postForm) TargetField() string {
	if !f.targetEditable {
		return ""
	}
	return targets[f.Kind].prop
}

func (f *postForm) TargetLabel() string { return targets[f.Kind].label }

// HasName tells whether the form has a title field.
func (f *postForm) HasName() bool {
	return f.Kind == "article" || f.Kind == "event" || f.Kind == "bookmark" || f.Name != ""
}

// HasContent is always true: every kind may have text (a like's comment, a photo's caption).
func (f *postForm) HasContent() bool { return true }

func (f *postForm) ContentLabel() string {
	switch {
	case f.ContentFormat == "html":
		return "Text (HTML, as the app that posted it wrote it)"
	case f.Kind == "article":
		return "Text (Markdown)"
	case f.Kind == "reply":
		return "Your reply"
	case f.Kind == "photo":
		return "Caption (optional)"
	case f.Kind == "event":
		return "Description (optional)"
	case targets[f.Kind].prop != "":
		return "Comment (optional)"
	}
	return "Note"
}

func (f *postForm) KindLabel() string {
	for _, k := range kinds {
		if k.Name == f.Kind {
			return strings.ToLower(k.Label)
		}
	}
	return "post"
}

// formFromPost fills the edit form from a post's properties, as q=source gives them.
func formFromPost(p *micropubd.Post, postURL string) *postForm {
	f := &postForm{Action: "update", URL: postURL, Kind: kindOf(p), ContentFormat: "text", Status: p.Status,
		Visibility: p.Visibility, Slug: path.Base(p.Path), CategoriesEditable: true, targetEditable: true,
		Syndicated: p.SyndicateTo}
	props := p.Properties
	f.Name = props.First("name")
	if vs := props["content"]; len(vs) > 0 {
		switch c := vs[0].(type) {
		case string:
			f.Content = c
		case map[string]any:
			switch {
			case c["markdown"] != nil:
				f.Content, f.ContentFormat = str(c["markdown"]), "markdown"
			case c["html"] != nil:
				f.Content, f.ContentFormat = str(c["html"]), "html"
			default:
				f.Content = str(c["value"])
			}
		}
	}
	if t := targets[f.Kind].prop; t != "" {
		f.Target = props.First(t)
		f.targetEditable = f.Target != "" || len(props[t]) == 0
	}
	f.Start, f.End, f.Published = props.First("start"), props.First("end"), props.First("published")
	if vs := props["location"]; len(vs) == 0 || props.First("location") != "" {
		f.Location, f.HasLocation = props.First("location"), f.Kind == "event" || len(vs) > 0
	}
	for _, v := range props["photo"] {
		switch ph := v.(type) {
		case string:
			f.Photos = append(f.Photos, photoField{URL: ph})
		case map[string]any:
			f.Photos = append(f.Photos, photoField{URL: str(ph["value"]), Alt: str(ph["alt"])})
		}
	}
	for _, v := range props["category"] {
		s, ok := v.(string)
		if !ok {
			f.CategoriesEditable = false
			f.Categories = nil
			break
		}
		f.Categories = append(f.Categories, s)
	}
	f.padCategories()
	return f
}

// kindOf is the form a post is edited with.
func kindOf(p *micropubd.Post) string {
	if p.Type == "event" {
		return "event"
	}
	if knownKind(p.PostType) {
		return p.PostType
	}
	return "note"
}

// formFromValues rebuilds a compose form from what was posted, to show it again with an error.
func formFromValues(v url.Values) *postForm {
	return overlay(newForm(kindFromValues(v)), v)
}

// overlay lays posted values over a form: over an empty compose form, or over the edit form of
// the post as stored, so that what the form does not show (people tagged, a venue as
// location) stays out of it when it is shown again and saved.
func overlay(f *postForm, v url.Values) *postForm {
	get := func(name string) string { return v.Get(f.Field(name)) }
	f.Name, f.Start, f.End, f.Published = get("name"), get("start"), get("end"), get("published")
	if f.TargetField() != "" {
		f.Target = get(f.TargetField())
	}
	if f.Action == "create" || f.HasLocation {
		f.Location = get("location")
		f.HasLocation = f.Kind == "event" || f.Location != ""
	}
	for _, format := range []string{"text", "markdown", "html"} {
		probe := &postForm{Action: f.Action, ContentFormat: format}
		if v.Has(probe.ContentField()) {
			f.Content, f.ContentFormat = v.Get(probe.ContentField()), format
		}
	}
	if s := get("post-status"); s != "" {
		f.Status = s
	}
	if s := get("visibility"); s != "" {
		f.Visibility = s
	}
	f.Slug = v.Get("mp-slug")
	if f.CategoriesEditable {
		f.Categories = nil
		for _, c := range v[f.Field("category")] {
			if c != "" {
				f.Categories = append(f.Categories, c)
			}
		}
		f.padCategories()
	}
	f.Syndicated = nil
	for _, t := range v["mp-syndicate-to"] {
		if t != "" {
			f.Syndicated = append(f.Syndicated, t)
		}
	}
	alts := v["mp-photo-alt"]
	if f.Action == "update" {
		for i := range f.Photos {
			if i < len(alts) {
				f.Photos[i].Alt = alts[i]
			}
		}
	}
	if f.Action == "create" && len(alts) > 0 && alts[0] != "" {
		f.Photos = append(f.Photos, photoField{}) // to say the files must be chosen again
	}
	f.OpenMore = f.Published != "" || f.Slug != "" || f.Status == micropubd.StatusDraft || f.Visibility != micropubd.VisibilityPublic
	return f
}

// kindFromValues tells which compose form a post came from by the fields it has.
func kindFromValues(v url.Values) string {
	has := func(name string) bool { return v.Has(name) || v.Has("replace["+name+"]") }
	for k, t := range targets {
		if has(t.prop) {
			return k
		}
	}
	switch {
	case v.Get("h") == "event" || has("start"):
		return "event"
	case has("photo") || v.Has("mp-photo-alt"):
		return "photo"
	case has("content[markdown]") || v.Has("replace[content][markdown]"):
		return "article"
	}
	return "note"
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
