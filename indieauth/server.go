package indieauth

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/outbound"
	"github.com/micropubd/micropubd/templates"
)

// Store is what the authorization server keeps in storage.
type Store interface {
	TokenStore
	TokenByRefreshHash(ctx context.Context, hash []byte) (*micropubd.Token, error)
	ListTokens(ctx context.Context, now time.Time) ([]*micropubd.Token, error)
	RevokeToken(ctx context.Context, id int64, at time.Time) error
	CreateAuthCode(ctx context.Context, c *micropubd.AuthCode) error
	RedeemAuthCode(ctx context.Context, hash []byte, at time.Time,
		redeem func(*micropubd.AuthCode) (*micropubd.Token, error)) (*micropubd.AuthCode, error)
	RotateToken(ctx context.Context, oldID int64, at time.Time, next *micropubd.Token) error
	RevokeTokensOfCode(ctx context.Context, codeID int64, at time.Time) error
	DeleteAllSessions(ctx context.Context) error
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	CreateSession(ctx context.Context, hash []byte, created, expires time.Time) error
	SessionValid(ctx context.Context, hash []byte, now time.Time) (bool, error)
	DeleteSession(ctx context.Context, hash []byte, now time.Time) error
}

// Profile is what the owner shares with apps granted the profile (and email) scope.
type Profile struct {
	Name  string `json:"name,omitempty"`
	URL   string `json:"url,omitempty"`
	Photo string `json:"photo,omitempty"`
	Email string `json:"email,omitempty"`
}

// Config describes the authorization server.
type Config struct {
	// Me is the owner's canonical URL, the site's base URL: also the issuer.
	Me *url.URL
	// Pages are the parsed templates, shared with the other handlers; nil: parsed here.
	Pages *templates.Pages
	// SiteName names the site on the sign-in pages.
	SiteName string
	Profile  Profile
	// TokenTTL is how long access tokens live unless the owner picks another expiry on the
	// consent page; 0 means they do not expire, as no common client refreshes.
	TokenTTL time.Duration
	// RequirePKCE refuses authorization requests without a code challenge.
	RequirePKCE bool
	// TrustProxy takes the client's address from X-Forwarded-For (the last hop, which the
	// proxy wrote), for the sign-in rate limit behind a reverse proxy.
	TrustProxy bool
}

// Server is the owner's IndieAuth authorization server: metadata, the authorization endpoint
// with its sign-in and consent pages, the token, introspection, revocation and userinfo
// endpoints, and the owner's list of tokens.
type Server struct {
	cfg     Config
	store   Store
	tokens  *Tokens
	clients *ClientFetcher
	pages   *templates.Pages
	limiter *loginLimiter
	log     *slog.Logger
	now     func() time.Time
}

// Endpoint paths, relative to the site's base URL.
const (
	PathMetadata      = ".well-known/oauth-authorization-server"
	PathAuthorization = "auth"
	PathLogin         = "auth/login"
	PathLogout        = "auth/logout"
	PathApprove       = "auth/approve"
	PathTokens        = "auth/tokens"
	PathToken         = "token"
	PathIntrospection = "token/introspect"
	PathRevocation    = "token/revoke"
	PathUserinfo      = "userinfo"
)

// Scopes the server describes on the consent page; others are shown as they are.
var scopeDescriptions = map[string]string{
	"profile":  "see your name, photo and URL",
	"email":    "see your email address",
	"create":   "create new posts",
	"draft":    "create drafts only",
	"update":   "change your posts",
	"delete":   "delete your posts",
	"undelete": "restore deleted posts",
	"media":    "upload files",
	"post":     "create, change and delete posts (older apps ask for this)",
	"notes":    "read, write and share your private notes (the app holds your notes key; the server never sees it)",
	"read":     "read your feeds",
	"follow":   "manage who you follow",
	"mute":     "mute people",
	"block":    "block people",
	"channels": "manage your reader channels",
}

// ScopesSupported are the scopes the metadata lists.
var ScopesSupported = []string{"profile", "email", "create", "draft", "update", "delete", "undelete", "media", "post", "notes"}

// NewServer makes the server. fetcher may be nil for NewClientFetcher; now may be nil.
func NewServer(cfg Config, store Store, fetcher *ClientFetcher, log *slog.Logger, now func() time.Time) (*Server, error) {
	pages, err := templates.Shared(cfg.Pages)
	if err != nil {
		return nil, err
	}
	if fetcher == nil {
		fetcher = NewClientFetcher(outbound.Policy{})
	}
	if now == nil {
		now = time.Now
	}
	s := &Server{
		cfg:     cfg,
		store:   store,
		tokens:  &Tokens{Store: store, Me: cfg.Me.String(), Now: now},
		clients: fetcher,
		pages:   pages,
		limiter: newLoginLimiter(5, time.Minute, now),
		log:     log,
		now:     now,
	}
	return s, nil
}

// Tokens returns the token service the server issues through, for the resource endpoints.
func (s *Server) Tokens() *Tokens { return s.tokens }

// URL returns the absolute URL of one of the server's paths.
func (s *Server) URL(path string) string { return s.cfg.Me.String() + path }

// Metadata serves the RFC 8414 authorization server metadata.
func (s *Server) Metadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 s.cfg.Me.String(),
		"authorization_endpoint": s.URL(PathAuthorization),
		"token_endpoint":         s.URL(PathToken),
		"introspection_endpoint": s.URL(PathIntrospection),
		"introspection_endpoint_auth_methods_supported":  []string{"Bearer"},
		"revocation_endpoint":                            s.URL(PathRevocation),
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"userinfo_endpoint":                              s.URL(PathUserinfo),
		"scopes_supported":                               ScopesSupported,
		"response_types_supported":                       []string{"code"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
		"service_documentation":                          "https://indieauth.spec.indieweb.org/",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// oauthError answers as RFC 6749 5.2 says: JSON error and description, no caching.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// page renders one of the sign-in pages.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, name, title string, data map[string]any) {
	data["Title"] = title
	data["Site"] = map[string]any{"Name": s.siteName(), "URL": s.cfg.Me.String()}
	// The sign-in pages must never be framed (clickjacking the consent button) nor cached.
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	// same-origin, not no-referrer: under no-referrer browsers send "Origin: null" on the
	// forms, and the CSRF check needs the real origin.
	w.Header().Set("Referrer-Policy", "same-origin")
	if err := s.pages.Render(w, status, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "sign-in page failed", "page", name, "err", err)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
	}
}

// errorPage explains a request the server will not redirect back to the client.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.page(w, r, status, "autherror", "Sign-in request refused", map[string]any{"Message": msg})
}

func (s *Server) siteName() string {
	if s.cfg.SiteName != "" {
		return s.cfg.SiteName
	}
	return s.cfg.Me.Host
}

// CanonicalMe reports whether a me value a client sent names this site, forgiving what users
// type: a missing scheme or trailing slash, http for https, upper-case letters in the host.
func (s *Server) CanonicalMe(raw string) bool {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return false
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return strings.EqualFold(u.Hostname(), s.cfg.Me.Hostname()) && path == s.cfg.Me.Path &&
		(u.Port() == s.cfg.Me.Port() || u.Port() == "")
}
