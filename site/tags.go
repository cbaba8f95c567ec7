package site

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/micropubd/micropubd"
)

// tagsPath is where tag pages live under the base URL: tags/NAME, tags/NAME/feed.xml, ...
const tagsPath = "tags/"

// tagURL is the page of a category.
func (h *Handler) tagURL(tag string) string {
	return h.cfg.URL.String() + tagsPath + url.PathEscape(tag)
}

// Tag serves /tags/NAME, an h-feed of the public posts in that category, paginated like the
// homepage (a page beyond the last, or a tag without posts, is 404), and /tags/NAME/feed.xml,
// feed.atom and feed.json. The name is read from the escaped path, so a category may hold
// any character, a slash included.
func (h *Handler) Tag(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), h.cfg.URL.EscapedPath()+tagsPath) // both escaped
	escaped, file, _ := strings.Cut(rest, "/")
	tag, err := url.PathUnescape(escaped)
	if err != nil || strings.TrimSpace(tag) == "" {
		h.NotFound(w, r)
		return
	}
	if file != "" {
		h.serveFeed(w, r, tag, file)
		return
	}
	n, ok := pageNumber(r)
	if !ok {
		h.NotFound(w, r)
		return
	}
	posts, err := h.listPage(tag, n, func(after *micropubd.Cursor, offset int) ([]*micropubd.Post, error) {
		return h.posts.ListTagged(r.Context(), tag, after, h.cfg.PageSize+1, offset)
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(posts) == 0 {
		msg := "No posts are tagged " + tag + "."
		if n > 1 {
			msg = fmt.Sprintf("There is no page %d of the posts tagged %s.", n, tag)
		}
		h.renderError(w, r, http.StatusNotFound, "Not found", msg)
		return
	}
	title := "#" + tag + " · " + h.cfg.Name
	if n > 1 {
		title = fmt.Sprintf("#%s, page %d · %s", tag, n, h.cfg.Name)
	}
	p := h.newPage(r, title)
	p.Tag, p.FeedURL = tag, h.tagURL(tag)
	h.listing(r.Context(), p, posts, n, h.tagURL(tag))
	p.Meta.URL = pageURL(h.tagURL(tag), n)
	p.Meta.Description = "Posts by " + h.cfg.Name + " tagged " + tag + "."
	p.Meta.Feeds = append(h.feedURLs(tag).links(h.cfg.Name+" · #"+tag), p.Meta.Feeds...)
	h.render(w, r, http.StatusOK, "tag", p)
}
