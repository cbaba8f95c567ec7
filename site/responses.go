package site

import (
	"context"
	"html/template"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/micropubd/micropubd"
)

// responseProps hold the webmentions a post received, each an h-cite of its source.
var responseProps = []string{"comment", "like", "repost", "bookmark", "mention"}

// responses are a post's webmentions as its page shows them: replies as comments, likes,
// reposts and bookmarks as rows of faces, other mentions as a list.
type responses struct {
	Comments  []citeView
	Likes     []citeView
	Reposts   []citeView
	Bookmarks []citeView
	Mentions  []citeView
}

// Any reports whether the post has responses to show.
func (r responses) Any() bool {
	return len(r.Comments)+len(r.Likes)+len(r.Reposts)+len(r.Bookmarks)+len(r.Mentions) > 0
}

// Counts says in words how many responses of each kind there are: "2 replies, 3 likes".
func (r responses) Counts() string {
	var parts []string
	for _, c := range []struct {
		n         int
		one, many string
	}{
		{len(r.Comments), "reply", "replies"}, {len(r.Likes), "like", "likes"}, {len(r.Reposts), "repost", "reposts"},
		{len(r.Bookmarks), "bookmark", "bookmarks"}, {len(r.Mentions), "mention", "mentions"},
	} {
		switch {
		case c.n == 1:
			parts = append(parts, "1 "+c.one)
		case c.n > 1:
			parts = append(parts, strconv.Itoa(c.n)+" "+c.many)
		}
	}
	return strings.Join(parts, ", ")
}

// citeView is one response: the h-cite of its source, with its author's card.
type citeView struct {
	Class       string // "p-comment h-cite", "u-like h-cite", ...
	Source      string
	Name        string
	Content     template.HTML
	Published   *valueView
	AuthorName  string
	AuthorURL   string
	AuthorPhoto string
	Initial     string // shown when the author has no photo
	Rest        []propView
}

func (r *responses) add(b *viewBuilder, name string, vals []any) {
	for _, val := range vals {
		c, ok := b.cite(name, val)
		if !ok {
			continue
		}
		switch name {
		case "comment":
			r.Comments = append(r.Comments, c)
		case "like":
			r.Likes = append(r.Likes, c)
		case "repost":
			r.Reposts = append(r.Reposts, c)
		case "bookmark":
			r.Bookmarks = append(r.Bookmarks, c)
		default:
			r.Mentions = append(r.Mentions, c)
		}
	}
}

// cite reads a response value: an h-cite with a url, or a bare URL.
func (b *viewBuilder) cite(name string, val any) (citeView, bool) {
	prefix := "u-"
	if name == "comment" || name == "mention" {
		prefix = "p-"
	}
	c := citeView{Class: prefix + name + " h-cite"}
	if s, ok := val.(string); ok && isHTTP(s) {
		c.Source = s
		c.AuthorName = hostOf(s)
		c.Initial = initial(c.AuthorName)
		return c, true
	}
	obj, _ := val.(map[string]any)
	props, _ := obj["properties"].(map[string]any)
	list := func(m map[string]any, k string) []any { l, _ := m[k].([]any); return l }
	str := func(m map[string]any, k string) string {
		if l := list(m, k); len(l) > 0 {
			return textOf(l[0])
		}
		return ""
	}
	c.Source = str(props, "url")
	if !isHTTP(c.Source) {
		return c, false
	}
	c.Name = str(props, "name")
	for _, k := range sortedNames(props) {
		vals := list(props, k)
		switch {
		case len(vals) == 0 || !shown(k) || k == "url" || k == "name":
		case k == "author":
			author, _ := vals[0].(map[string]any)
			ap, _ := author["properties"].(map[string]any)
			c.AuthorName, c.AuthorURL = str(ap, "name"), str(ap, "url")
			if photo := str(ap, "photo"); isHTTP(photo) {
				c.AuthorPhoto = photo
			}
			if !isHTTP(c.AuthorURL) {
				c.AuthorURL = ""
			}
			if s, ok := vals[0].(string); ok {
				c.AuthorName = s
			}
		case k == "content":
			c.Content = b.content.Value(vals[0])
		case k == "published":
			tv := b.value(k, vals[0])
			c.Published = &tv
		default:
			c.Rest = append(c.Rest, b.prop(k, vals))
		}
	}
	if c.AuthorName == "" {
		c.AuthorName = hostOf(c.Source)
	}
	c.Initial = initial(c.AuthorName)
	return c, true
}

func initial(name string) string {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return strings.ToUpper(string(r))
		}
	}
	r, _ := utf8.DecodeRuneInString(name)
	return string(r)
}

// sentView is a webmention the site sent for a post, as the owner sees it.
type sentView struct {
	Target, Status, Result string
	Done                   string
}

// sent lists the webmentions sent for a post, for its owner.
func (h *Handler) sent(ctx context.Context, p *micropubd.Post) []sentView {
	list, err := h.posts.SentWebmentions(ctx, p.ID)
	if err != nil {
		h.log.WarnContext(ctx, "could not list the webmentions sent", "post", p.Path, "err", err)
		return nil
	}
	var out []sentView
	for _, s := range list {
		sv := sentView{Target: s.Target, Status: s.Status, Result: s.Result}
		if !s.Done.IsZero() {
			sv.Done = s.Done.Format("2 January 2006, 15:04 MST")
		}
		if s.Status == micropubd.SendPending && s.Result == "" {
			sv.Result = "waiting to be sent"
		}
		out = append(out, sv)
	}
	return out
}
