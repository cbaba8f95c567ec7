// Package admin serves the owner's pages under BASEURL/admin/: writing, editing, finding,
// deleting and undeleting posts, and the media library. The pages only read; every change is an
// ordinary HTML form posted to the Micropub or media endpoint with the owner's sign-in session
// (micropub.Sessions), and this package answers those posts in HTML (micropub.FormAnswers).
// Everything works without JavaScript; a little script adds a Markdown preview and copy buttons.
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/templates"
)

// Sessions is the owner's sign-in.
type Sessions interface {
	IsOwner(r *http.Request) bool
	SessionCSRF(r *http.Request) string
	LoginURL(next string) string
}

// Posts is what the pages read of posts.
type Posts interface {
	PostByPath(ctx context.Context, path string) (*micropubd.Post, error)
	ListPosts(ctx context.Context, f micropubd.PostFilter) ([]*micropubd.Post, error)
	Categories(ctx context.Context, filter string, limit int) ([]string, error)
}

// Media is what the media library reads.
type Media interface {
	ListMedia(ctx context.Context, limit, offset int) ([]*micropubd.Media, error)
	MediaUsage(ctx context.Context, names []string) (map[string][]string, error)
}

// Config describes the site.
type Config struct {
	// URL is the site's base URL, ending in "/".
	URL *url.URL
	// Pages are the parsed templates, shared with the other handlers; nil: parsed here.
	Pages       *templates.Pages
	Name        string
	SyndicateTo []micropub.SyndicationTarget
}

// Handler serves the owner's pages.
type Handler struct {
	cfg      Config
	posts    Posts
	media    Media
	sessions Sessions
	log      *slog.Logger
	pages    *templates.Pages
	mux      *http.ServeMux
}

// csp allows the pages their own script and styles, images from anywhere (posts show photos
// from other sites), and forms posting to this site only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"media-src 'self' https:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// New makes the handler.
func New(cfg Config, posts Posts, media Media, sessions Sessions, log *slog.Logger) (*Handler, error) {
	pages, err := templates.Shared(cfg.Pages)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = cfg.URL.Host
	}
	h := &Handler{cfg: cfg, posts: posts, media: media, sessions: sessions, log: log, pages: pages, mux: http.NewServeMux()}
	prefix := strings.TrimSuffix(cfg.URL.Path, "/") + "/admin/"
	for path, page := range map[string]http.HandlerFunc{
		"new": h.compose, "edit": h.edit, "posts": h.list, "media": h.library, "delete": h.confirmDelete,
	} {
		h.mux.HandleFunc("GET "+prefix+path, page)
	}
	h.mux.HandleFunc("GET "+prefix+"{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, h.url("admin/posts"), http.StatusSeeOther)
	})
	return h, nil
}

// ServeHTTP sends a signed-out visitor to sign in and back, and serves the page otherwise.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.sessions.IsOwner(r) {
		http.Redirect(w, r, h.sessions.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// url is an absolute URL on the site.
func (h *Handler) url(path string) string { return h.cfg.URL.String() + path }

// data starts the data of a page: the site, the owner's bar, and what forms need.
func (h *Handler) data(r *http.Request, title string) map[string]any {
	csrf := h.sessions.SessionCSRF(r)
	return map[string]any{
		"Site":          map[string]any{"Name": h.cfg.Name, "URL": h.url("")},
		"Title":         title + " · " + h.cfg.Name,
		"Owner":         map[string]any{"SignedIn": true, "URL": h.url(""), "CSRF": csrf},
		"CSRF":          csrf,
		"Micropub":      h.url("micropub"),
		"MediaEndpoint": h.url("micropub/media"),
	}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data map[string]any) {
	if err := h.pages.Render(w, status, page, data); err != nil {
		h.serverError(w, r, err)
	}
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	h.log.ErrorContext(r.Context(), "owner page failed", "path", r.URL.Path, "err", err)
	http.Error(w, "The server failed to show this page.", http.StatusInternalServerError)
}

// notFound answers a page that names no post of the site.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	data := h.data(r, "Not found")
	data["Heading"], data["Message"] = "Not found", msg
	h.render(w, r, http.StatusNotFound, "error", data)
}

// post finds the post a page's url parameter names.
func (h *Handler) post(r *http.Request) (*micropubd.Post, bool) {
	raw := r.URL.Query().Get("url")
	base := h.url("")
	if !strings.HasPrefix(raw, base) {
		return nil, false
	}
	p, err := h.posts.PostByPath(r.Context(), strings.Trim(strings.TrimPrefix(raw, base), "/"))
	if err != nil || len(p.Properties) == 0 {
		return nil, false
	}
	return p, true
}
