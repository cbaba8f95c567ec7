package micropub

import (
	"strings"

	"github.com/micropubd/micropubd"
)

// PostType is a kind of post clients may create, as q=post-types and q=config list them.
type PostType struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// H is the microformats type to send (entry when absent).
	H string `json:"h,omitempty"`
	// Properties are those the type is made of; the first ones are required.
	Properties []string `json:"properties,omitempty"`
}

// PostTypes are the kinds of post the server creates and renders.
var PostTypes = []PostType{
	{Type: "note", Name: "Note", Properties: []string{"content", "category"}},
	{Type: "article", Name: "Article", Properties: []string{"name", "content", "category", "summary"}},
	{Type: "photo", Name: "Photo", Properties: []string{"photo", "content", "category"}},
	{Type: "video", Name: "Video", Properties: []string{"video", "content", "category"}},
	{Type: "audio", Name: "Audio", Properties: []string{"audio", "content", "category"}},
	{Type: "reply", Name: "Reply", Properties: []string{"in-reply-to", "content", "category"}},
	{Type: "like", Name: "Like", Properties: []string{"like-of", "category"}},
	{Type: "repost", Name: "Repost", Properties: []string{"repost-of", "content", "category"}},
	{Type: "bookmark", Name: "Bookmark", Properties: []string{"bookmark-of", "name", "content", "category"}},
	{Type: "rsvp", Name: "RSVP", Properties: []string{"in-reply-to", "rsvp", "content"}},
	{Type: "checkin", Name: "Check-in", Properties: []string{"checkin", "content", "photo"}},
	{Type: "event", Name: "Event", H: "event", Properties: []string{"name", "start", "end", "location", "description", "category"}},
	{Type: "venue", Name: "Venue", H: "card", Properties: []string{"name", "url", "street-address", "locality", "region", "postal-code", "geo"}},
	{Type: "cite", Name: "Citation", H: "cite", Properties: []string{"name", "url", "author", "content"}},
}

// renderedTypes is the sentence naming the root types the site renders, for refusals.
const renderedTypes = "h-entry (the default), h-event, h-card or h-cite"

// Rendered reports whether the site renders posts of the root type t (without "h-"): others
// would be published as pages nothing on the site understands.
func Rendered(t string) bool {
	switch t {
	case "entry", "event", "card", "cite":
		return true
	}
	return false
}

// DiscoverPostType names the kind of a post from its type and properties, following the
// IndieWeb's Post Type Discovery algorithm.
func DiscoverPostType(typ string, props micropubd.Properties) string {
	switch typ {
	case "event":
		return "event"
	case "card":
		return "venue"
	case "entry":
	default:
		return typ
	}
	has := func(name string) bool { return len(props[name]) > 0 }
	switch {
	case has("rsvp"):
		return "rsvp"
	case has("repost-of"):
		return "repost"
	case has("like-of"):
		return "like"
	case has("bookmark-of"):
		return "bookmark"
	case has("in-reply-to"):
		return "reply"
	case has("checkin"):
		return "checkin"
	case has("video"):
		return "video"
	case has("audio"):
		return "audio"
	case has("photo"):
		return "photo"
	}
	name := strings.Join(strings.Fields(props.First("name")), " ")
	if name == "" {
		return "note"
	}
	// A name that only repeats the start of the content is an implied name, not a title.
	content := strings.Join(strings.Fields(ContentText(props)), " ")
	if content != "" && strings.HasPrefix(content, name) {
		return "note"
	}
	return "article"
}

// ContentText is the text of the first content value: the string, or an object's value.
func ContentText(props micropubd.Properties) string {
	for _, v := range props["content"] {
		switch v := v.(type) {
		case string:
			return v
		case map[string]any:
			if s, ok := v["value"].(string); ok {
				return s
			}
			if s, ok := v["html"].(string); ok {
				return s
			}
		}
	}
	return ""
}
