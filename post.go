package micropubd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Properties are microformats2 properties: every value is a list whose items are strings,
// numbers (json.Number), or objects (a nested microformat, {"html": ...}, {"value": ..., "alt": ...}).
type Properties map[string][]any

// Post statuses and visibilities, as the Micropub extensions name them.
const (
	StatusPublished = "published"
	StatusDraft     = "draft"

	VisibilityPublic   = "public"
	VisibilityUnlisted = "unlisted"
	VisibilityPrivate  = "private"
)

// Post is one microformats2 object published on the site: an h-entry, h-event, h-card, ...
type Post struct {
	ID int64
	// Path is the post's URL path on the site ("/2026/11/hello-world").
	Path string
	// Type is the microformats2 root type without prefix: "entry", "event", "card", "cite".
	Type string
	// PostType is the discovered post type: note, article, photo, reply, ...
	PostType   string
	Properties Properties
	// SyndicateTo holds the syndication targets (uids) the client asked for with mp-syndicate-to.
	SyndicateTo []string
	Status      string
	Visibility  string
	Published   time.Time
	Updated     time.Time // zero until the post is updated
	Deleted     time.Time // zero unless the post is deleted (soft delete, so it can be undeleted)
}

// IsDeleted reports whether the post was deleted.
func (p *Post) IsDeleted() bool { return !p.Deleted.IsZero() }

// IsPublic reports whether anyone may read the post, by URL or in the feed.
func (p *Post) IsPublic() bool {
	return p.Status == StatusPublished && p.Visibility != VisibilityPrivate
}

// InFeed reports whether the post belongs in the homepage feed.
func (p *Post) InFeed() bool {
	return p.Status == StatusPublished && p.Visibility == VisibilityPublic
}

// PostFilter selects posts for listings. Zero values select everything that is not deleted.
type PostFilter struct {
	Status     string
	Visibility []string
	PostType   string
	Type       string
	Category   string
	// Deleted selects deleted posts instead (that may be undeleted; erased ones never are).
	Deleted bool
	// Text selects posts whose properties contain it, ignoring case (the owner's search).
	Text string
	// Cursor paging: After selects posts older than the cursor, Before newer ones.
	After  *Cursor
	Before *Cursor
	Limit  int
	Offset int
}

// Cursor is a position in the newest-first order of posts.
type Cursor struct {
	Published time.Time
	ID        int64
}

// DecodeProperties decodes a JSON object of microformats2 properties, keeping numbers as
// json.Number so that 45.5048473 comes back exactly as it was posted.
func DecodeProperties(data []byte) (Properties, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var props Properties
	if err := dec.Decode(&props); err != nil {
		return nil, fmt.Errorf("decode properties: %w", err)
	}
	if props == nil {
		props = Properties{}
	}
	return props, nil
}

// First returns the first value of the property name when it is a string, or "".
func (p Properties) First(name string) string {
	if vs := p[name]; len(vs) > 0 {
		if s, ok := vs[0].(string); ok {
			return s
		}
	}
	return ""
}

// EachText calls fn with every text value of p and of the objects nested in it, with the name
// of its property ({"value": url, "alt": ...} gives its value).
func (p Properties) EachText(fn func(name, s string)) {
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch x := v.(type) {
		case string:
			fn(name, x)
		case map[string]any:
			if _, ok := x["type"]; ok {
				nested, _ := x["properties"].(map[string]any)
				for k, list := range nested {
					values, _ := list.([]any)
					for _, y := range values {
						walk(k, y)
					}
				}
				return
			}
			if s, ok := x["value"].(string); ok {
				fn(name, s)
			}
		}
	}
	for name, vals := range p {
		for _, v := range vals {
			walk(name, v)
		}
	}
}
