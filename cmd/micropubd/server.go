package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/micropubd/micropubd/admin"
	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/media"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/notes"
	"github.com/micropubd/micropubd/outbound"
	"github.com/micropubd/micropubd/site"
	"github.com/micropubd/micropubd/storage"
	"github.com/micropubd/micropubd/templates"
	"github.com/micropubd/micropubd/webmention"
)

// serverConfig is everything the HTTP server is made from.
type serverConfig struct {
	BaseURL *url.URL
	Name    string
	Photo   string
	Email   string
	Limits  micropub.Limits
	// KeepLocation keeps GPS positions in uploaded JPEGs (stripped by default).
	KeepLocation bool
	SyndicateTo  []micropub.SyndicationTarget
	// KeepNoteVersions is how long earlier texts of notes are kept; 0 is the notes default.
	KeepNoteVersions time.Duration
	Location         *time.Location
	Now              func() time.Time // nil means time.Now; tests fix it

	// The site's own IndieAuth server.
	TokenTTL    time.Duration
	RequirePKCE bool
	TrustProxy  bool                     // behind a reverse proxy: the client address comes from X-Forwarded-For
	Clients     *indieauth.ClientFetcher // nil: one made from Outbound; tests reach their fake clients

	// Outbound says where the server's own fetches (client pages, webmentions) may connect.
	Outbound outbound.Policy
	// Webmentions tunes the webmention queues (tests shorten the retries); BaseURL, Outbound
	// and Log are filled in.
	Webmentions webmention.Config

	// An external IndieAuth server instead of our own.
	External external
}

// external names another IndieAuth server's endpoints; when TokenEndpoint or
// IntrospectionEndpoint is set, tokens are verified there and the site advertises them.
type external struct {
	AuthorizationEndpoint string
	TokenEndpoint         string
	IntrospectionEndpoint string
	IntrospectionToken    string
	Metadata              string
	CacheFor              time.Duration
}

func (e external) enabled() bool { return e.TokenEndpoint != "" || e.IntrospectionEndpoint != "" }

// server is the HTTP handler of everything, and the background work beside it.
type server struct {
	http.Handler
	// Run works through the webmention queues until ctx ends, and returns once the jobs under
	// way have stopped; the database must stay open until then.
	Run func(ctx context.Context)
}

// newServer wires storage, the services, the Micropub and media endpoints, the IndieAuth server,
// webmentions and the site into one handler.
func newServer(cfg serverConfig, db *storage.DB, log *slog.Logger) (*server, error) {
	base := cfg.BaseURL.String()
	// Patterns are written escaped (ServeMux unescapes them): a space or a brace in the
	// site's path is then part of a segment, not the pattern's syntax.
	prefix := strings.TrimSuffix(cfg.BaseURL.EscapedPath(), "/")
	// The standard library's router: a GET pattern answers HEAD too, the most specific pattern
	// wins whatever the order of registration, and a path whose patterns all name other
	// methods is answered 405 with Allow.
	r := http.NewServeMux()
	handle := func(method, path string, h http.Handler) {
		r.Handle(strings.TrimSpace(method+" "+prefix+"/"+path), h)
	}
	get := func(path string, h http.HandlerFunc) { handle(http.MethodGet, path, h) }
	// One parse of the templates for every handler that renders pages.
	tmpl, err := templates.Parse()
	if err != nil {
		return nil, err
	}

	var (
		verifier micropub.TokenVerifier
		links    []site.Link
		isOwner  func(*http.Request) bool
		owner    *indieauth.Server // the site's own IndieAuth server: the owner's sign-in; nil with an external one
	)
	if cfg.External.enabled() {
		remote := &indieauth.RemoteVerifier{
			TokenEndpoint:         cfg.External.TokenEndpoint,
			IntrospectionEndpoint: cfg.External.IntrospectionEndpoint,
			IntrospectionToken:    cfg.External.IntrospectionToken,
			Me:                    cfg.BaseURL,
			CacheFor:              cfg.External.CacheFor,
			NegativeFor:           min(cfg.External.CacheFor, 10*time.Second),
			Now:                   cfg.Now,
		}
		verifier = remote
		for _, l := range []site.Link{
			{Rel: "indieauth-metadata", Href: cfg.External.Metadata},
			{Rel: "authorization_endpoint", Href: cfg.External.AuthorizationEndpoint},
			{Rel: "token_endpoint", Href: cfg.External.TokenEndpoint},
		} {
			if l.Href != "" {
				links = append(links, l)
			}
		}
		isOwner = func(r *http.Request) bool { return bearerValid(r, remote) }
	} else {
		clients := cfg.Clients
		if clients == nil {
			clients = indieauth.NewClientFetcher(cfg.Outbound)
		}
		auth, err := indieauth.NewServer(indieauth.Config{
			Pages:       tmpl,
			Me:          cfg.BaseURL,
			SiteName:    cfg.Name,
			Profile:     indieauth.Profile{Name: cfg.Name, URL: base, Photo: cfg.Photo, Email: cfg.Email},
			TokenTTL:    cfg.TokenTTL,
			RequirePKCE: cfg.RequirePKCE,
			TrustProxy:  cfg.TrustProxy,
		}, db, clients, log, cfg.Now)
		if err != nil {
			return nil, err
		}
		verifier = auth.Tokens()
		links = []site.Link{
			{Rel: "indieauth-metadata", Href: auth.URL(indieauth.PathMetadata)},
			{Rel: "authorization_endpoint", Href: auth.URL(indieauth.PathAuthorization)},
			{Rel: "token_endpoint", Href: auth.URL(indieauth.PathToken)},
		}
		isOwner = func(r *http.Request) bool { return auth.IsOwner(r) || bearerValid(r, verifier) }
		owner = auth
		// The endpoints apps call from the browser answer CORS preflights (OPTIONS), once per path.
		preflight := map[string]bool{}
		route := func(method, path string, h http.HandlerFunc) {
			handle(method, path, cors(h))
			if !preflight[path] {
				preflight[path] = true
				handle(http.MethodOptions, path, cors(h))
			}
		}
		route(http.MethodGet, indieauth.PathMetadata, auth.Metadata)
		handle(http.MethodGet, indieauth.PathAuthorization, http.HandlerFunc(auth.Authorize))
		route(http.MethodPost, indieauth.PathAuthorization, auth.RedeemProfile)
		handle(http.MethodPost, indieauth.PathLogin, http.HandlerFunc(auth.Login))
		handle(http.MethodGet, indieauth.PathLogin, http.HandlerFunc(auth.LoginPage))
		handle(http.MethodPost, indieauth.PathLogout, http.HandlerFunc(auth.Logout))
		handle(http.MethodPost, indieauth.PathApprove, http.HandlerFunc(auth.Approve))
		handle(http.MethodGet, indieauth.PathTokens, http.HandlerFunc(auth.TokensPage))
		handle(http.MethodPost, indieauth.PathTokens+"/revoke", http.HandlerFunc(auth.RevokeFromPage))
		route(http.MethodPost, indieauth.PathToken, auth.Token)
		route(http.MethodGet, indieauth.PathToken, auth.TokenInfo)
		route(http.MethodPost, indieauth.PathIntrospection, auth.Introspect)
		route(http.MethodPost, indieauth.PathRevocation, auth.Revoke)
		route(http.MethodGet, indieauth.PathUserinfo, auth.Userinfo)
	}
	links = append(links, site.Link{Rel: "micropub", Href: base + "micropub"}, site.Link{Rel: "webmention", Href: base + "webmention"})

	wmCfg := cfg.Webmentions
	wmCfg.BaseURL, wmCfg.Outbound, wmCfg.Log = cfg.BaseURL, cfg.Outbound, log
	var wmSessions webmention.Sessions
	if owner != nil {
		wmSessions = owner
	}
	mentions := webmention.New(wmCfg, db, wmSessions)
	handle(http.MethodPost, "webmention", http.HandlerFunc(mentions.Receive))
	handle("", "webmention", http.HandlerFunc(mentions.NotAllowed))
	handle(http.MethodPost, "webmention/delete", http.HandlerFunc(mentions.Delete))

	posts := &micropub.Service{
		Store:       db,
		BaseURL:     cfg.BaseURL,
		Location:    cfg.Location,
		SyndicateTo: cfg.SyndicateTo,
		Now:         cfg.Now,
		Changes:     mentions,
	}
	uploads := &media.Service{
		Store:        db,
		BaseURL:      cfg.BaseURL,
		MaxSize:      cfg.Limits.Upload,
		KeepLocation: cfg.KeepLocation,
		Now:          cfg.Now,
		Log:          log,
	}
	// The owner's pages (admin) post plain forms to the endpoints with the sign-in session.
	var (
		sessions     micropub.Sessions
		formAnswers  micropub.FormAnswers
		notesLogin   notes.Sessions
		siteSessions site.Sessions
	)
	if owner != nil {
		ownerPages, err := admin.New(admin.Config{URL: cfg.BaseURL, Pages: tmpl, Name: cfg.Name, SyndicateTo: cfg.SyndicateTo}, db, db, owner, log)
		if err != nil {
			return nil, err
		}
		sessions, formAnswers, notesLogin, siteSessions = owner, ownerPages, owner, owner
		handle("", "admin/", ownerPages)
		handle("", "admin", http.RedirectHandler(base+"admin/", http.StatusMovedPermanently))
	}
	handle("", "micropub", &micropub.Handler{
		Posts:         posts,
		Media:         uploads.ForMicropub(),
		Tokens:        verifier,
		Sessions:      sessions,
		Forms:         formAnswers,
		Limits:        cfg.Limits,
		MediaEndpoint: base + "micropub/media",
		Me:            base,
		Log:           log,
		Generation:    db.Generation,
	})
	handle("", "micropub/media", &media.Handler{
		Media: uploads, Tokens: verifier, Sessions: sessions, Forms: formAnswers,
		Site: cfg.BaseURL, Limits: cfg.Limits, Log: log, Now: cfg.Now,
	})
	get("media/{name}", func(w http.ResponseWriter, r *http.Request) {
		uploads.ServeFile(w, r, r.PathValue("name"))
	})

	notesAPI, err := notes.NewHandler(&notes.Service{
		Store:        db,
		Posts:        posts,
		BaseURL:      cfg.BaseURL,
		KeepVersions: cfg.KeepNoteVersions,
		Now:          cfg.Now,
		Log:          log,
	}, verifier, notesLogin, siteName(cfg), tmpl, log)
	if err != nil {
		return nil, err
	}
	handle("", "notes/", notesAPI)
	handle("", "notes", notesAPI)

	pages, err := site.New(site.Config{URL: cfg.BaseURL, Pages: tmpl, Name: cfg.Name, Photo: cfg.Photo, Links: links,
		Webmention: base + "webmention/delete"}, db, isOwner, siteSessions, log)
	if err != nil {
		return nil, err
	}
	get("static/", pages.Static)
	for _, name := range []string{"feed.xml", "feed.atom", "feed.json"} {
		get(name, pages.Cached(pages.Feed))
	}
	get("robots.txt", pages.Robots)
	get("sitemap.xml", pages.Sitemap)
	get("favicon.ico", pages.Favicon)
	get("tags/", pages.Cached(pages.Tag))
	get("{$}", pages.Cached(pages.Home))
	// Every other path: a post's, or the page that says none is there. A GET pattern here
	// would conflict with the paths above that take every method (/micropub, /notes/).
	post := pages.Cached(pages.Post)
	catchAll := prefix + "/"
	handle("", "", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", allowedMethods(r, req, catchAll))
			http.Error(w, fmt.Sprintf("%s is not allowed here.", req.Method), http.StatusMethodNotAllowed)
			return
		}
		post(w, req)
	}))
	if prefix != "" {
		r.HandleFunc("/", pages.NotFound) // outside the site's path
	}
	return &server{Handler: site.Headers(r), Run: mentions.Run}, nil
}

// allowedMethods lists the methods the router takes at req's path: GET and HEAD (a page, or
// the page that says none is there), and those routed elsewhere than to the catch-all.
func allowedMethods(router *http.ServeMux, req *http.Request, catchAll string) string {
	allowed := []string{http.MethodGet, http.MethodHead}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		probe := *req
		probe.Method = m
		if _, pattern := router.Handler(&probe); pattern != catchAll && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

// siteName is the owner's name, or the host when none is configured.
func siteName(cfg serverConfig) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	return cfg.BaseURL.Host
}

// bearerValid reports whether the request's Bearer token is one of the owner's that may read
// posts (not, say, a media-only token).
func bearerValid(r *http.Request, v micropub.TokenVerifier) bool {
	token := micropub.BearerToken(r)
	if token == "" {
		return false
	}
	t, err := v.Verify(r.Context(), token)
	return err == nil && t.ReadsPosts()
}

// cors lets browser-based apps call the IndieAuth endpoints; they use no cookies.
func cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// shutdownGrace is the time in-flight requests get to finish at shutdown.
const shutdownGrace = 30 * time.Second
