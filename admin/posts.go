package admin

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/micropubd/micropubd"
)

const pageSize = 25

// postTypes are the post types the list filters by.
var postTypes = []string{"note", "article", "photo", "video", "audio", "reply", "like", "repost", "bookmark", "event", "checkin", "rsvp"}

// postRow is one post in the list.
type postRow struct {
	URL, Title, Excerpt, Type, Status, Visibility string
	Published, PublishedISO                       string
}

// list is GET /admin/posts: every post, newest first, with drafts, unlisted and private ones
// marked; filtered by type, status (deleted ones too) and visibility; searched by text; paged
// with cursors.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	h.listWithError(w, r, http.StatusOK, "")
}

// listWithError shows the list, with an error when a form failed.
func (h *Handler) listWithError(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	q := r.URL.Query()
	f := micropubd.PostFilter{Text: strings.TrimSpace(q.Get("q")), PostType: q.Get("type"), Limit: pageSize + 1}
	switch q.Get("status") {
	case micropubd.StatusPublished, micropubd.StatusDraft:
		f.Status = q.Get("status")
	case "deleted":
		f.Deleted = true
	}
	if v := q.Get("visibility"); v != "" {
		f.Visibility = []string{v}
	}
	var err error
	if f.After, err = cursor(q.Get("after")); err == nil {
		f.Before, err = cursor(q.Get("before"))
	}
	if err != nil {
		h.notFound(w, r, "That page of posts does not exist.")
		return
	}
	posts, err := h.posts.ListPosts(r.Context(), f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := h.data(r, "Posts")
	more := len(posts) > pageSize
	if more {
		if f.Before != nil {
			posts = posts[1:] // walking back, the extra one is the newest
		} else {
			posts = posts[:pageSize]
		}
	}
	link := func(key string, p *micropubd.Post) string {
		v := url.Values{}
		for _, k := range []string{"q", "type", "status", "visibility"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set(key, fmt.Sprintf("%d.%d", p.Published.UnixNano(), p.ID))
		return h.url("admin/posts?" + v.Encode())
	}
	if len(posts) > 0 {
		if more || f.Before != nil {
			data["Older"] = link("after", posts[len(posts)-1])
		}
		if f.After != nil || (f.Before != nil && more) {
			data["Newer"] = link("before", posts[0])
		}
	}
	rows := make([]postRow, len(posts))
	for i, p := range posts {
		rows[i] = postRow{URL: h.url(p.Path), Title: titleOf(p), Excerpt: excerptOf(p), Type: p.PostType,
			Status: p.Status, Visibility: p.Visibility, Published: p.Published.Format("2 Jan 2006, 15:04"),
			PublishedISO: p.Published.Format(time.RFC3339)}
	}
	data["Posts"], data["Types"], data["Deleted"] = rows, postTypes, f.Deleted
	data["Query"], data["Type"], data["Status"], data["Visibility"] = f.Text, f.PostType, q.Get("status"), q.Get("visibility")
	data["JustDeleted"], data["Error"] = q.Get("deleted"), errMsg
	if q.Get("undeleted") != "" {
		data["Notice"] = "The post is back."
	}
	h.render(w, r, status, "admin_posts", data)
}

// cursor reads a list position written as PUBLISHED_NANOS.ID; "" is none.
func cursor(s string) (*micropubd.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	ns, id, ok := strings.Cut(s, ".")
	n, err1 := strconv.ParseInt(ns, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad cursor %q", s)
	}
	return &micropubd.Cursor{Published: time.Unix(0, n).UTC(), ID: i}, nil
}

// plain strips markup, for titles and excerpts.
var plain = bluemonday.StrictPolicy()

// titleOf names a post in lists: its name, else the start of its text, else what it is about.
func titleOf(p *micropubd.Post) string {
	if n := strings.TrimSpace(p.Properties.First("name")); n != "" {
		return shorten(n, 80)
	}
	if t := textOf(p); t != "" {
		return shorten(t, 80)
	}
	for _, t := range targets {
		if u := p.Properties.First(t.prop); u != "" {
			return u
		}
	}
	return "(" + p.PostType + ")"
}

func excerptOf(p *micropubd.Post) string {
	if p.Properties.First("name") == "" {
		return ""
	}
	return shorten(textOf(p), 120)
}

// textOf is a post's content as plain text.
func textOf(p *micropubd.Post) string {
	vs := p.Properties["content"]
	if len(vs) == 0 {
		return ""
	}
	var s string
	switch c := vs[0].(type) {
	case string:
		s = c
	case map[string]any:
		if md, ok := c["markdown"].(string); ok {
			s = md
		} else if v, ok := c["value"].(string); ok {
			s = v
		} else {
			s = html.UnescapeString(plain.Sanitize(str(c["html"])))
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
