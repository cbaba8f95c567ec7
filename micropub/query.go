package micropub

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// Queries the endpoint answers, as q=config lists them.
var Queries = []string{"config", "source", "syndicate-to", "category", "post-types"}

const (
	defaultListLimit = 20
	maxListLimit     = 200
)

func (h *Handler) serveQuery(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	token, err := AuthoriseQuery(r, h.Tokens)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Posts and categories include drafts and private posts: a token must act on posts to read
	// them, so a media-only token (a photo uploader's) does not.
	if name := q.Get("q"); (name == "source" || name == "category") && !token.ReadsPosts() {
		h.fail(w, r, &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scope: micropubd.ScopeCreate,
			Description: "reading posts needs a scope that acts on posts, such as create or update"})
		return
	}
	var gen uint64
	// Answers kept are those of tokens that read posts: q=config lists the categories to them.
	cacheable := h.Generation != nil && token.ReadsPosts() && slices.Contains([]string{"source", "category", "config"}, q.Get("q"))
	var key string
	if cacheable {
		// Read before the answer is made: a write during it makes the answer stale.
		gen, key = h.Generation(), answerKey(q)
		if b := h.answers.get(key, gen); b != nil {
			writeJSONBytes(w, http.StatusOK, b)
			return
		}
	}
	var body any
	switch q.Get("q") {
	case "":
		// A bare GET with a token tells the client whom the token speaks for.
		me := h.Me
		if me == "" {
			me = token.Me
		}
		body = map[string]any{"me": me, "client_id": token.ClientID, "scope": token.Scope}
	case "config":
		// The categories name what drafts and private posts are about: not for a media-only token.
		cats := []string{}
		if token.ReadsPosts() {
			if cats, err = h.Posts.Store.Categories(ctx, "", 0); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		body = map[string]any{
			"media-endpoint": h.MediaEndpoint,
			"syndicate-to":   h.syndicateTo(),
			"post-types":     PostTypes,
			"q":              Queries,
			"visibility":     []string{micropubd.VisibilityPublic, micropubd.VisibilityUnlisted, micropubd.VisibilityPrivate},
			"post-status":    []string{micropubd.StatusPublished, micropubd.StatusDraft},
			"categories":     cats,
		}
	case "syndicate-to":
		body = map[string]any{"syndicate-to": h.syndicateTo()}
	case "post-types":
		body = map[string]any{"post-types": PostTypes}
	case "category":
		limit, _ := strconv.Atoi(q.Get("limit"))
		cats, err := h.Posts.Store.Categories(ctx, q.Get("filter"), limit)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		body = map[string]any{"categories": cats}
	case "source":
		if q.Has("url") {
			body, err = h.source(r)
		} else {
			body, err = h.sourceList(r)
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
	default:
		h.fail(w, r, errInvalid("unknown query q=%s; this endpoint answers %s", q.Get("q"), strings.Join(Queries, ", ")))
		return
	}
	if !cacheable {
		writeJSON(w, http.StatusOK, body)
		return
	}
	b, err := encodeJSON(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.answers.put(key, gen, b)
	writeJSONBytes(w, http.StatusOK, b)
}

func (h *Handler) syndicateTo() []SyndicationTarget {
	if h.Posts.SyndicateTo == nil {
		return []SyndicationTarget{}
	}
	return h.Posts.SyndicateTo
}

// source answers q=source&url=: the post's type and properties, or with properties[] only
// the named properties.
func (h *Handler) source(r *http.Request) (any, error) {
	q := r.URL.Query()
	p, err := h.Posts.Get(r.Context(), q.Get("url"))
	if err != nil {
		return nil, err
	}
	names := append(q["properties[]"], q["properties"]...)
	if len(names) == 0 {
		return sourceItem(p, p.Properties), nil
	}
	props := micropubd.Properties{}
	for _, n := range names {
		if v, ok := p.Properties[n]; ok {
			props[n] = v
		}
	}
	return map[string]any{"properties": props}, nil
}

// sourceList answers q=source without url: posts newest first, with limit/offset and cursor
// paging (after = older than, before = newer than), filtered by post-status, visibility and
// post-type.
func (h *Handler) sourceList(r *http.Request) (any, error) {
	q := r.URL.Query()
	f := micropubd.PostFilter{
		Status:   q.Get("post-status"),
		PostType: q.Get("post-type"),
		Category: q.Get("category"),
	}
	if v := q.Get("visibility"); v != "" {
		f.Visibility = []string{v}
	}
	if v := q.Get("h"); v != "" {
		f.Type = strings.TrimPrefix(v, "h-")
	}
	var err error
	if f.Limit, f.Offset, err = ListPage(q); err != nil {
		return nil, err
	}
	if v := q.Get("after"); v != "" {
		if f.After, err = decodeCursor(v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("before"); v != "" {
		if f.Before, err = decodeCursor(v); err != nil {
			return nil, err
		}
	}
	limit := f.Limit
	f.Limit++ // one more tells whether another page follows
	posts, err := h.Posts.Store.ListPosts(r.Context(), f)
	if err != nil {
		return nil, err
	}
	more := len(posts) > limit
	paging := map[string]string{}
	if f.Before != nil {
		if more {
			posts = posts[1:] // the extra one is the newest, beyond this page
			paging["before"] = encodeCursor(posts[0])
		}
		if len(posts) > 0 {
			paging["after"] = encodeCursor(posts[len(posts)-1])
		}
	} else {
		if more {
			posts = posts[:limit]
			paging["after"] = encodeCursor(posts[len(posts)-1])
		}
		if (f.After != nil || f.Offset > 0) && len(posts) > 0 {
			paging["before"] = encodeCursor(posts[0])
		}
	}
	items := make([]any, 0, len(posts))
	for _, p := range posts {
		items = append(items, listItem(p, h.Posts.URL(p)))
	}
	return map[string]any{"items": items, "paging": paging}, nil
}

// sourceItem is a post in microformats2 JSON, with props as its properties.
func sourceItem(p *micropubd.Post, props micropubd.Properties) map[string]any {
	return map[string]any{"type": []string{"h-" + p.Type}, "properties": props}
}

// listItem is a post as the q=source listing gives it: as Micro.blog does, with uid its numeric
// id (the Micro.blog app drops items whose uid is not a positive number) and url its permalink
// first, since a list is no use without it. The single-post q=source and the page keep the
// post's own uid.
func listItem(p *micropubd.Post, permalink string) map[string]any {
	props := cloneProperties(p.Properties)
	urls := []any{permalink}
	for _, u := range p.Properties["url"] {
		if u != permalink {
			urls = append(urls, u)
		}
	}
	props["url"] = urls
	props["uid"] = []any{p.ID}
	return sourceItem(p, props)
}

// ListPage reads the limit and offset of a listing (q=source at the Micropub and media
// endpoints): defaultListLimit items unless limit asks for others, maxListLimit at most.
func ListPage(q url.Values) (limit, offset int, err error) {
	limit = defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, errInvalid("limit must be a positive number")
		}
		limit = min(n, maxListLimit)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, errInvalid("offset must be a number from 0")
		}
		offset = n
	}
	return limit, offset, nil
}

func encodeCursor(p *micropubd.Post) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", p.Published.UnixNano(), p.ID))
}

func decodeCursor(s string) (*micropubd.Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		ts, id, ok := strings.Cut(string(raw), ".")
		n, err1 := strconv.ParseInt(ts, 10, 64)
		i, err2 := strconv.ParseInt(id, 10, 64)
		if ok && err1 == nil && err2 == nil {
			return &micropubd.Cursor{Published: time.Unix(0, n), ID: i}, nil
		}
	}
	return nil, errInvalid("the paging cursor %q is not one this server gave out", s)
}
