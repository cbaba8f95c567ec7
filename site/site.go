// Package site serves the public website: the owner's homepage with its h-feed, a permalink
// page per post, tag pages, the RSS, Atom and JSON feeds, robots.txt and the sitemap, all
// marked up with microformats2.
package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
	// Pages are the parsed templates, shared with the other handlers; nil: parsed here.
	Pages *templates.Pages
	// Name and Photo make the owner's h-card.
	Name  string
	Photo string
	// Links are advertised on every page (micropub, IndieAuth endpoints, webmention, ...).
	Links []Link
	// PageSize is the number of posts per page of the homepage and tag pages; FeedSize the
	// number of items in a feed.
	PageSize int
	FeedSize int
	// Webmention is the URL the owner's delete buttons for received webmentions post to; ""
	// shows none.
	Webmention string
}

// Posts is what the site reads from storage: posts, the uploads they show, and the
// webmentions they received and sent.
type Posts interface {
	PostByPath(ctx context.Context, path string) (*micropubd.Post, error)
	// ListFeed and ListTagged list newest first, older than after if it is set.
	ListFeed(ctx context.Context, after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error)
	ListTagged(ctx context.Context, category string, after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error)
	ListedPosts(ctx context.Context, limit int, fn func(path string, published, updated time.Time) error) error
	SiteChanged(ctx context.Context) (time.Time, error)
	// PostsByPaths and MediaByNames find many in one query: a page looks up what its posts
	// point at once, not once per value.
	PostsByPaths(ctx context.Context, paths []string) (map[string]*micropubd.Post, error)
	MediaByNames(ctx context.Context, names []string) (map[string]*micropubd.Media, error)
	MediaVariantsOf(ctx context.Context, ids []int64) (map[int64][]*micropubd.Media, error)
	SentWebmentions(ctx context.Context, postID int64) ([]*micropubd.WebmentionSend, error)
	SentWebmentionsOf(ctx context.Context, postIDs []int64) (map[int64][]*micropubd.WebmentionSend, error)
	// Generation counts the committed writes: pages cached before it moved are stale.
	Generation() uint64
}

// Sessions is the owner's sign-in in the browser: signed in, the owner sees the webmentions
// sent and may delete received ones.
type Sessions interface {
	IsOwner(r *http.Request) bool
	SessionCSRF(r *http.Request) string
	LoginURL(next string) string
}

// Handler serves the site's pages.
type Handler struct {
	cfg      Config
	posts    Posts
	isOwner  func(*http.Request) bool
	sessions Sessions
	log      *slog.Logger
	pages    *templates.Pages
	content  *contentRenderer
	cache    pageCache
	anchors  pageAnchors
}

// siteView is what every page knows of the site.
type siteView struct {
	URL     string
	Name    string
	Photo   string
	Links   []Link
	Favicon string
	Feeds   feedURLs
}

// page is what the site's templates render.
type page struct {
	Site  siteView
	Title string // the <title>
	Meta  metaView
	Owner ownerView

	Posts        []*postView // home and tag pages
	Newer, Older string
	Tag          string
	FeedURL      string    // the h-feed's url: the tag page's first page
	Post         *postView // permalink pages
	Heading      string    // error pages
	Message      string
}

// ownerView is what a page shows the owner, or offers a visitor to become one.
type ownerView struct {
	SignedIn bool
	CSRF     string
	LoginURL string
	// URL is the site's, for the owner's bar; Post the page's post, to edit or delete it.
	URL  string
	Post string
	// DeleteMention is where the delete buttons of received webmentions post.
	DeleteMention string
	// NoForms is set on the page of a shared note, whose policy lets no form post (and whose
	// requests carry no Origin a write would need): the bar keeps its links only.
	NoForms bool
}

// New parses the embedded templates. isOwner tells whether a request comes from the owner
// (a session or a token), who alone may see drafts and private posts; sessions may be nil
// (another IndieAuth server signs the owner in).
func New(cfg Config, posts Posts, isOwner func(*http.Request) bool, sessions Sessions, log *slog.Logger) (*Handler, error) {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 20
	}
	if cfg.FeedSize <= 0 {
		cfg.FeedSize = 20
	}
	if cfg.Name == "" {
		cfg.Name = cfg.URL.Host
	}
	pages, err := templates.Shared(cfg.Pages)
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, posts: posts, isOwner: isOwner, sessions: sessions, log: log, pages: pages,
		content: newContentRenderer()}, nil
}

func (h *Handler) site() siteView {
	favicon := h.cfg.Photo
	if favicon == "" {
		favicon = h.cfg.URL.String() + "static/favicon.svg?v=" + h.pages.AssetVersion("favicon.svg")
	}
	return siteView{URL: h.cfg.URL.String(), Name: h.cfg.Name, Photo: h.cfg.Photo, Links: h.cfg.Links,
		Favicon: favicon, Feeds: h.feedURLs("")}
}

// newPage starts a page's data: the site, the owner's state, and the feeds it advertises.
func (h *Handler) newPage(r *http.Request, title string) *page {
	p := &page{Site: h.site(), Title: title}
	p.Meta.Feeds = p.Site.Feeds.links(h.cfg.Name)
	if h.sessions != nil {
		p.Owner.LoginURL = h.sessions.LoginURL(r.URL.Path)
		if h.sessions.IsOwner(r) {
			p.Owner.SignedIn = true
			p.Owner.URL = h.cfg.URL.String()
			p.Owner.CSRF = h.sessions.SessionCSRF(r)
			p.Owner.DeleteMention = h.cfg.Webmention
		}
	}
	return p
}

// maxPage bounds page numbers, so that no offset can overflow.
const maxPage = 100000

// pageNumber reads ?page=N: absent, or not a number at all, is page 1; a number below 1 or
// past maxPage is ok=false, a page that cannot exist.
func pageNumber(r *http.Request) (n int, ok bool) {
	raw := r.URL.Query().Get("page")
	if raw == "" || strings.Trim(raw, "+-0123456789") != "" {
		return 1, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxPage {
		return 0, false
	}
	return n, true
}

// Home serves the homepage: an h-feed of public posts, newest first, 20 a page. A page number
// beyond the last is 404; any other query string is ignored, never redirected.
func (h *Handler) Home(w http.ResponseWriter, r *http.Request) {
	n, ok := pageNumber(r)
	if !ok {
		h.NotFound(w, r)
		return
	}
	posts, err := h.listPage("", n, func(after *micropubd.Cursor, offset int) ([]*micropubd.Post, error) {
		return h.posts.ListFeed(r.Context(), after, h.cfg.PageSize+1, offset)
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(posts) == 0 && n > 1 {
		h.renderError(w, r, http.StatusNotFound, "Not found", fmt.Sprintf("There is no page %d: the posts end before it.", n))
		return
	}
	title := h.cfg.Name
	if n > 1 {
		title = fmt.Sprintf("%s · page %d", h.cfg.Name, n)
	}
	p := h.newPage(r, title)
	h.listing(r.Context(), p, posts, n, h.cfg.URL.String())
	p.Meta = h.homeMeta(p.Meta)
	for _, f := range p.Meta.Feeds {
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="alternate"; type="%s"; title="%s"`, f.Href, f.Type, strings.ReplaceAll(f.Title, `"`, "'")))
	}
	h.render(w, r, http.StatusOK, "home", p)
}

// listing fills a page of a paginated h-feed: its posts and the links to its neighbours.
func (h *Handler) listing(ctx context.Context, p *page, posts []*micropubd.Post, n int, first string) {
	if len(posts) > h.cfg.PageSize {
		posts = posts[:h.cfg.PageSize]
		p.Older = pageURL(first, n+1)
	}
	if n > 1 {
		p.Newer = pageURL(first, n-1)
	}
	views := h.views(ctx, false, posts)
	for _, post := range posts {
		p.Posts = append(p.Posts, views.post(post))
	}
}

func pageURL(first string, n int) string {
	if n == 1 {
		return first
	}
	return first + "?page=" + strconv.Itoa(n)
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
	pg := h.newPage(r, "")
	if strings.HasPrefix(path, micropubd.SharedPathPrefix) {
		pg.Owner.NoForms, pg.Owner.DeleteMention = true, ""
	}
	v := h.views(r.Context(), true, []*micropubd.Post{p}).post(p)
	if h.isOwner(r) {
		v.Sent = h.sent(r.Context(), p)
	}
	pg.Post = v
	if pg.Owner.SignedIn {
		pg.Owner.Post = v.URL
	}
	pg.Title = v.Title + " · " + h.cfg.Name
	pg.Meta = h.postMeta(pg.Meta, v)
	h.render(w, r, http.StatusOK, "post", pg)
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

// Static serves the style sheets, scripts and icons of the pages.
func (h *Handler) Static(w http.ResponseWriter, r *http.Request) {
	h.pages.ServeStatic(w, r, strings.TrimPrefix(r.URL.Path, h.cfg.URL.Path+"static/"))
}

// NotFound answers 404 with the site's page.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, http.StatusNotFound, "Not found", "There is nothing at this address.")
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	p := h.newPage(r, heading+" · "+h.cfg.Name)
	p.Heading, p.Message = heading, msg
	p.Meta.Description = msg
	h.render(w, r, status, "error", p)
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away; there is no one to answer
	}
	h.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	http.Error(w, "The server failed to render this page.", http.StatusInternalServerError)
}

// render writes a page with the discovery Link headers every page carries; a page with the
// owner's bar (the owner signed in in this browser) is never cached.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if p.Owner.SignedIn {
		w.Header().Set("Cache-Control", "private, no-store")
	}
	for _, l := range h.cfg.Links {
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="%s"`, l.Href, l.Rel))
	}
	if err := h.pages.Render(w, status, name, p); err != nil {
		w.Header().Del("Link")
		h.serverError(w, r, err)
	}
}
