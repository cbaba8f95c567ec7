// Package site serves the public website: the owner's homepage with its h-card and h-feed,
// and a permalink page per post, marked up with microformats2.
package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/templates"
)

// Link is a discovery link the site advertises in <link> elements and HTTP Link headers.
type Link struct {
	Rel  string
	Href string
}

// Config describes the site and its owner.
type Config struct {
	// URL is the public base URL, the owner's "me", ending in "/".
	URL *url.URL
	// Name and Photo make the owner's h-card.
	Name  string
	Photo string
	// Links are advertised on every page (micropub, IndieAuth endpoints, ...).
	Links []Link
	// PageSize is the number of posts per homepage page.
	PageSize int
}

// Posts is what the site reads from storage: posts, and the uploads they show.
type Posts interface {
	PostByPath(ctx context.Context, path string) (*micropubd.Post, error)
	ListPosts(ctx context.Context, f micropubd.PostFilter) ([]*micropubd.Post, error)
	// PostsByPaths and MediaByNames find many in one query: a page looks up what its posts
	// point at once, not once per value.
	PostsByPaths(ctx context.Context, paths []string) (map[string]*micropubd.Post, error)
	MediaByNames(ctx context.Context, names []string) (map[string]*micropubd.Media, error)
}

// Handler serves the site's pages.
type Handler struct {
	cfg     Config
	posts   Posts
	isOwner func(*http.Request) bool
	log     *slog.Logger
	pages   *templates.Pages
	views   *viewBuilder
}

// siteView is what every page knows of the site.
type siteView struct {
	URL   string
	Name  string
	Photo string
	Links []Link
}

// New parses the embedded templates. isOwner tells whether a request comes from the owner,
// who alone may see drafts and private posts.
func New(cfg Config, posts Posts, isOwner func(*http.Request) bool, log *slog.Logger) (*Handler, error) {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 20
	}
	if cfg.Name == "" {
		cfg.Name = cfg.URL.Host
	}
	h := &Handler{cfg: cfg, posts: posts, isOwner: isOwner, log: log}
	h.views = &viewBuilder{
		content:    newContentRenderer(),
		url:        func(p *micropubd.Post) string { return cfg.URL.String() + p.Path },
		resolve:    func(string) *micropubd.Post { return nil },
		libraryAlt: func(string) string { return "" },
	}
	pages, err := templates.Parse()
	if err != nil {
		return nil, err
	}
	h.pages = pages
	return h, nil
}

func (h *Handler) site() siteView {
	return siteView{URL: h.cfg.URL.String(), Name: h.cfg.Name, Photo: h.cfg.Photo, Links: h.cfg.Links}
}

// Home serves the homepage: the owner's h-card and an h-feed of public posts, newest first.
// Any query string other than a valid page number is ignored, never redirected.
func (h *Handler) Home(w http.ResponseWriter, r *http.Request) {
	page, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	size := h.cfg.PageSize
	posts, err := h.posts.ListPosts(r.Context(), micropubd.PostFilter{
		Status:     micropubd.StatusPublished,
		Visibility: []string{micropubd.VisibilityPublic},
		Limit:      size + 1,
		Offset:     (page - 1) * size,
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := map[string]any{"Site": h.site(), "Title": h.cfg.Name}
	if len(posts) > size {
		posts = posts[:size]
		data["Older"] = h.cfg.URL.String() + "?page=" + strconv.Itoa(page+1)
	}
	if page == 2 {
		data["Newer"] = h.cfg.URL.String()
	} else if page > 2 {
		data["Newer"] = h.cfg.URL.String() + "?page=" + strconv.Itoa(page-1)
	}
	data["Posts"] = h.viewsOf(r.Context(), posts)
	h.render(w, r, http.StatusOK, "home", data)
}

// Post serves a post's permalink page. Deleted posts answer 410 Gone; drafts and private
// posts are 404 to anyone but the owner; a former URL of a post redirects to its current one.
func (h *Handler) Post(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, h.cfg.URL.Path), "/")
	if strings.HasPrefix(path, micropubd.SharedPathPrefix) {
		h.sharedHeaders(w)
	}
	p, err := h.posts.PostByPath(r.Context(), path)
	if errors.Is(err, micropubd.ErrNotFound) {
		h.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if !p.IsPublic() && !h.isOwner(r) {
		h.NotFound(w, r)
		return
	}
	if p.IsDeleted() {
		h.renderError(w, r, http.StatusGone, "Gone", "This post was deleted.")
		return
	}
	if p.Path != path {
		http.Redirect(w, r, h.cfg.URL.String()+p.Path, http.StatusMovedPermanently)
		return
	}
	if !p.IsPublic() {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	v := h.viewsOf(r.Context(), []*micropubd.Post{p})[0]
	title := h.cfg.Name
	if len(v.Names) > 0 {
		title = v.Names[0] + " · " + h.cfg.Name
	}
	h.render(w, r, http.StatusOK, "post", map[string]any{"Site": h.site(), "Title": title, "Post": v})
}

// sharedHeaders protect the page of a shared note, whose address is its only secret: no
// Referer carries the token away, the page cannot be framed, and no script may run.
func (h *Handler) sharedHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Robots-Tag", "noindex")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "+
		"media-src 'self' https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
}

// viewsOf builds the views of a page's posts, resolving locations that point at venues on
// this site, and giving photos uploaded here without alt text of their own the alt text of the
// media library: with one query for all the venues and one for all the uploads of the page.
func (h *Handler) viewsOf(ctx context.Context, posts []*micropubd.Post) []*postView {
	base := h.cfg.URL.String()
	var paths, names []string
	for _, p := range posts {
		p.Properties.EachText(func(name, s string) {
			if rest, ok := strings.CutPrefix(s, base); ok && slices.Contains(placeProps, name) {
				paths = append(paths, strings.Trim(rest, "/"))
			}
			if file, ok := strings.CutPrefix(s, base+"media/"); ok && file != "" {
				names = append(names, file)
			}
		})
	}
	venues, alts := map[string]*micropubd.Post{}, map[string]*micropubd.Media{}
	var err error
	if len(paths) > 0 {
		if venues, err = h.posts.PostsByPaths(ctx, paths); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "venues not resolved", "err", err)
		}
	}
	if len(names) > 0 {
		if alts, err = h.posts.MediaByNames(ctx, names); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "alt texts not read", "err", err)
		}
	}
	b := *h.views
	b.libraryAlt = func(raw string) string {
		if m := alts[strings.TrimPrefix(raw, base+"media/")]; m != nil && strings.HasPrefix(raw, base) {
			return m.Alt
		}
		return ""
	}
	b.resolve = func(raw string) *micropubd.Post {
		if !strings.HasPrefix(raw, base) {
			return nil
		}
		venue := venues[strings.Trim(strings.TrimPrefix(raw, base), "/")]
		if venue == nil || !venue.IsPublic() || venue.IsDeleted() {
			return nil
		}
		return venue
	}
	views := make([]*postView, len(posts))
	for i, p := range posts {
		views[i] = b.post(p)
	}
	return views
}

// Static serves the style sheets and scripts of the pages.
func (h *Handler) Static(w http.ResponseWriter, r *http.Request) {
	h.pages.ServeStatic(w, r, strings.TrimPrefix(r.URL.Path, h.cfg.URL.Path+"static/"))
}

// NotFound answers 404 with the site's page.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, http.StatusNotFound, "Not found", "There is nothing at this address.")
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	h.render(w, r, status, "error", map[string]any{"Site": h.site(), "Title": heading, "Heading": heading, "Message": msg})
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away; there is no one to answer
	}
	h.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	http.Error(w, "The server failed to render this page.", http.StatusInternalServerError)
}

// render writes a page with the discovery Link headers every page carries.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	for _, l := range h.cfg.Links {
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="%s"`, l.Href, l.Rel))
	}
	if err := h.pages.Render(w, status, page, data); err != nil {
		w.Header().Del("Link")
		h.serverError(w, r, err)
	}
}
