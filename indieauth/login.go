package indieauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/micropubd/micropubd"
)

const (
	passwordSetting = "owner_password_bcrypt"
	sessionCookie   = "micropubd_session"
	csrfCookie      = "micropubd_csrf"
	csrfField       = "csrf"
	sessionLife     = 30 * 24 * time.Hour
	// PasswordCost is the bcrypt cost of the owner's password: slow on purpose.
	PasswordCost = 12
)

// ErrNoPassword means the owner has not set a password yet.
var ErrNoPassword = errors.New("no password is set: run micropubd passwd")

// SetPassword stores a slow hash of the owner's password.
func SetPassword(ctx context.Context, store Store, password string, cost int) error {
	if len(password) < 8 {
		return errors.New("the password must have at least 8 characters")
	}
	if len(password) > 72 {
		return errors.New("the password must have at most 72 bytes (bcrypt's limit)")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	if err := store.SetSetting(ctx, passwordSetting, string(hash)); err != nil {
		return err
	}
	// A new password signs the owner out everywhere: whoever knew the old one is out too.
	return store.DeleteAllSessions(ctx)
}

func (s *Server) checkPassword(ctx context.Context, password string) (bool, error) {
	hash, err := s.store.Setting(ctx, passwordSetting)
	if errors.Is(err, micropubd.ErrNotFound) {
		return false, ErrNoPassword
	}
	if err != nil {
		return false, err
	}
	err = bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	return err == nil, err
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) secureCookies() bool { return s.cfg.Me.Scheme == "https" }

// IsOwner reports whether the request carries a valid sign-in session of the owner.
func (s *Server) IsOwner(r *http.Request) bool {
	_, ok := s.sessionValue(r)
	return ok
}

// sessionValue returns the request's session cookie when it names a live session.
func (s *Server) sessionValue(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	ok, err := s.store.SessionValid(r.Context(), hashToken(c.Value), s.now())
	return c.Value, err == nil && ok
}

// csrfToken returns the token a form must carry back. Signed in, it is derived from the
// session (an HMAC keyed by the session secret), so no cookie planted by a neighbouring site
// can forge it; before signing in, it is a random value also set in a SameSite=Strict cookie
// (double submit), as there is no session yet.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if session, ok := s.sessionValue(r); ok {
		return sessionCSRF(session)
	}
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	token := randomString(32)
	http.SetCookie(w, &http.Cookie{
		Name: csrfCookie, Value: token, Path: s.cfg.Me.Path + PathAuthorization, HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLife / time.Second),
	})
	return token
}

func sessionCSRF(session string) string {
	mac := hmac.New(sha256.New, []byte(session))
	mac.Write([]byte("micropubd csrf"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// checkCSRF verifies a form post. A browser says where the form came from: Sec-Fetch-Site
// must be same-origin and Origin, when sent, this site ("null" is refused). Then the hidden
// field must match the token csrfToken gave.
func (s *Server) checkCSRF(r *http.Request) bool {
	if !s.sameOriginRequest(r) {
		return false
	}
	want := ""
	if session, ok := s.sessionValue(r); ok {
		want = sessionCSRF(session)
	} else if c, err := r.Cookie(csrfCookie); err == nil {
		want = c.Value
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(r.PostFormValue(csrfField))) == 1
}

// sameOriginRequest reports whether the browser says the request comes from this site:
// Sec-Fetch-Site, when sent, is same-origin, and Origin, when sent, is this site ("null" is refused).
func (s *Server) sameOriginRequest(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !sameOrigin(u, s.cfg.Me) {
			return false
		}
	}
	return true
}

// SessionCSRF returns the CSRF token of the request's sign-in session, for pages and scripts
// of other parts of the server to send back with their writes; "" when not signed in.
func (s *Server) SessionCSRF(r *http.Request) string {
	if session, ok := s.sessionValue(r); ok {
		return sessionCSRF(session)
	}
	return ""
}

// ValidSessionWrite reports whether a write authenticated by the owner's session cookie is
// safe: the request is same-origin and token is the session's CSRF token.
func (s *Server) ValidSessionWrite(r *http.Request, token string) bool {
	if !s.sameOriginRequest(r) {
		return false
	}
	want := s.SessionCSRF(r)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1
}

// loginLimiter counts failed logins per client address in a sliding window.
type loginLimiter struct {
	mu       sync.Mutex
	max      int
	window   time.Duration
	now      func() time.Time
	failures map[string][]time.Time
}

func newLoginLimiter(max int, window time.Duration, now func() time.Time) *loginLimiter {
	return &loginLimiter{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// recent returns the failures of addr inside the window, forgetting older ones.
func (l *loginLimiter) recent(addr string) []time.Time {
	cutoff := l.now().Add(-l.window)
	kept := l.failures[addr][:0]
	for _, t := range l.failures[addr] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.failures, addr)
		return nil
	}
	l.failures[addr] = kept
	return kept
}

// Attempt records a sign-in attempt from addr before the password is checked, so that
// attempts running at once count too; it reports false when addr has used up its attempts.
func (l *loginLimiter) Attempt(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(addr)
	if len(recent) >= l.max {
		return false
	}
	l.failures[addr] = append(recent, l.now())
	if len(l.failures) > 10000 { // bound memory under a spray of addresses
		for k := range l.failures {
			l.recent(k)
		}
	}
	return true
}

// Succeeded forgets addr's attempts once it signed in.
func (l *loginLimiter) Succeeded(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, addr)
}

// clientAddr is the address a sign-in attempt comes from: the connection's, or behind a
// trusted reverse proxy the last hop of X-Forwarded-For, the one the proxy itself saw.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustProxy {
		if fwd := r.Header.Values("X-Forwarded-For"); len(fwd) > 0 {
			hops := strings.Split(fwd[len(fwd)-1], ",")
			if last := strings.TrimSpace(hops[len(hops)-1]); last != "" {
				return last
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localPath accepts only a path on this site as where to go after signing in: no other host
// ("//evil", "/\\evil"), and no control characters or spaces anywhere, which browsers strip
// ("/\t/evil" becomes "//evil").
func (s *Server) localPath(next string) string {
	bad := !strings.HasPrefix(next, s.cfg.Me.Path) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") || strings.ContainsFunc(next, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) })
	if bad {
		return s.cfg.Me.Path + PathTokens
	}
	return next
}

// LoginURL is the sign-in page that comes back to next, a path on this site, once signed in.
func (s *Server) LoginURL(next string) string {
	return s.URL(PathLogin) + "?next=" + url.QueryEscape(next)
}

// LoginPage shows the sign-in form (GET), which comes back to the next parameter; signed in
// already, it goes there at once.
func (s *Server) LoginPage(w http.ResponseWriter, r *http.Request) {
	next := s.localPath(r.URL.Query().Get("next"))
	if s.IsOwner(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.loginPage(w, r, http.StatusOK, next, "")
}

// loginPage shows the password form, which comes back to next.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	s.page(w, r, status, "login", "Sign in", map[string]any{
		"Action": s.URL(PathLogin), "Next": next, "CSRF": s.csrfToken(w, r), "Error": msg,
	})
}

// Login checks the owner's password and starts a session. Failed attempts are rate limited
// per client address and logged without the password.
func (s *Server) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := s.localPath(r.PostFormValue("next"))
	if !s.checkCSRF(r) {
		s.loginPage(w, r, http.StatusForbidden, next, "The form expired. Please try again.")
		return
	}
	addr := s.clientAddr(r)
	if !s.limiter.Attempt(addr) {
		s.log.WarnContext(r.Context(), "sign-in refused: too many failed attempts", "addr", addr)
		w.Header().Set("Retry-After", "60")
		s.loginPage(w, r, http.StatusTooManyRequests, next, "Too many failed attempts. Wait a minute and try again.")
		return
	}
	ok, err := s.checkPassword(r.Context(), r.PostFormValue("password"))
	if errors.Is(err, ErrNoPassword) {
		s.loginPage(w, r, http.StatusForbidden, next, "No password is set. Run: micropubd passwd --data DIR")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "sign-in failed", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed to check the password.")
		return
	}
	if !ok {
		s.log.WarnContext(r.Context(), "sign-in failed: wrong password", "addr", addr)
		s.loginPage(w, r, http.StatusUnauthorized, next, "That password is not right.")
		return
	}
	s.limiter.Succeeded(addr)
	session := randomString(32)
	now := s.now()
	if err := s.store.CreateSession(r.Context(), hashToken(session), now, now.Add(sessionLife)); err != nil {
		s.log.ErrorContext(r.Context(), "sign-in failed", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed to start a session.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: session, Path: s.cfg.Me.Path, HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: int(sessionLife / time.Second),
	})
	s.log.InfoContext(r.Context(), "owner signed in", "addr", addr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// Logout ends the session.
func (s *Server) Logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "The form expired. Please try again.")
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.store.DeleteSession(r.Context(), hashToken(c.Value), s.now())
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: s.cfg.Me.Path, MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.cfg.Me.String(), http.StatusSeeOther)
}
