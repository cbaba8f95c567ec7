package indieauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// codeLife is how long an authorization code may wait to be redeemed.
const codeLife = 10 * time.Minute

// authRequest is a checked authorization request.
type authRequest struct {
	ClientID            string
	RedirectURI         string
	State               string
	Scopes              []string
	CodeChallenge       string
	CodeChallengeMethod string
	Me                  string
	Client              *Client
	redirect            *url.URL
}

// requestError is a problem with an authorization request. It is shown to the person on a
// page, never sent to the redirect_uri: anyone can make up a client whose redirect_uri is their
// own site, and an error redirected there unasked would make this server an open redirector.
type requestError struct {
	code, description string
}

func (e *requestError) Error() string { return e.description }

// checkRequest validates an authorization request. fetch says whether the client's page may be
// read to confirm a redirect_uri on another site: only once the owner has signed in, so that
// no one else can make the server fetch pages (and keep them in its cache).
func (s *Server) checkRequest(ctx context.Context, q url.Values, fetch bool) (*authRequest, error) {
	req := &authRequest{
		RedirectURI:         q.Get("redirect_uri"),
		State:               q.Get("state"),
		Scopes:              strings.Fields(q.Get("scope")),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
		Me:                  q.Get("me"),
	}
	clientURL, err := ValidClientID(q.Get("client_id"))
	if err != nil {
		return nil, &requestError{code: "invalid_request", description: err.Error()}
	}
	req.ClientID = clientURL.String()
	req.Client = &Client{ID: req.ClientID}
	redirect, err := url.Parse(req.RedirectURI)
	if err != nil || !redirect.IsAbs() || redirect.Fragment != "" {
		return nil, &requestError{code: "invalid_request", description: fmt.Sprintf("redirect_uri %q must be an absolute URL without a fragment", req.RedirectURI)}
	}
	req.redirect = redirect

	switch {
	case IsLoopback(clientURL):
		// Loopback clients run on the owner's machine: they are never fetched, so their
		// redirect_uri must be on their own host.
		if !sameOrigin(clientURL, redirect) {
			return nil, &requestError{code: "invalid_request", description: fmt.Sprintf(
				"the app %s runs on this machine and cannot send you to %s", req.ClientID, req.RedirectURI)}
		}
	case fetch:
		client, fetchErr := s.clients.Fetch(ctx, req.ClientID)
		req.Client = client
		if fetchErr != nil {
			s.log.InfoContext(ctx, "client information not fetched", "client_id", req.ClientID, "err", fetchErr)
		}
		// A redirect on the client's own scheme, host and port needs nothing more; any other
		// must be one the client lists, and a failed fetch lists none.
		if !sameOrigin(clientURL, redirect) && !slices.Contains(client.RedirectURIs, req.RedirectURI) {
			msg := fmt.Sprintf("The app %s asked to send you to %s, which it does not list as one of its addresses.", req.ClientID, req.RedirectURI)
			if fetchErr != nil {
				msg = fmt.Sprintf("The app %s asked to send you to %s, on another site, and its page could not be read to confirm that address.", req.ClientID, req.RedirectURI)
			}
			return nil, &requestError{code: "invalid_request", description: msg}
		}
	}

	switch q.Get("response_type") {
	case "", "code":
	case "id": // IndieAuth before 2020: authentication only
		req.Scopes = nil
	default:
		return nil, &requestError{code: "unsupported_response_type", description: "response_type must be code"}
	}
	if req.CodeChallenge != "" {
		if req.CodeChallengeMethod == "" {
			req.CodeChallengeMethod = "S256"
		}
		if req.CodeChallengeMethod != "S256" {
			return nil, &requestError{code: "invalid_request", description: "code_challenge_method must be S256"}
		}
		if len(req.CodeChallenge) < 43 || len(req.CodeChallenge) > 128 {
			return nil, &requestError{code: "invalid_request", description: "code_challenge must be a base64url SHA-256"}
		}
	} else if s.cfg.RequirePKCE {
		return nil, &requestError{code: "invalid_request", description: "this server requires PKCE: the app must send code_challenge with code_challenge_method=S256"}
	}
	return req, nil
}

// redirectTo sends the browser back to the client with params, plus iss (RFC 9207).
func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	u := *req.redirect
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", s.cfg.Me.String())
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	s.errorPage(w, r, http.StatusBadRequest, err.Error())
}

// Authorize is the authorization endpoint's GET: it checks the request, asks the owner to sign
// in if needed, then shows the consent page.
func (s *Server) Authorize(w http.ResponseWriter, r *http.Request) {
	owner := s.IsOwner(r)
	req, err := s.checkRequest(r.Context(), r.URL.Query(), owner)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if !owner {
		s.loginPage(w, r, http.StatusOK, r.URL.RequestURI(), "")
		return
	}
	type scopeView struct {
		Name, Description string
	}
	var scopes []scopeView
	for _, sc := range req.Scopes {
		scopes = append(scopes, scopeView{Name: sc, Description: scopeDescriptions[sc]})
	}
	// A me hint naming someone else is not refused (this server has one owner), but the
	// owner is told whom they sign in as.
	otherMe := ""
	if req.Me != "" && !s.CanonicalMe(req.Me) {
		otherMe = req.Me
	}
	s.page(w, r, http.StatusOK, "consent", "Allow "+req.Client.DisplayName()+"?", map[string]any{
		"Action":       s.URL(PathApprove),
		"CSRF":         s.csrfToken(w, r),
		"Client":       req.Client,
		"RedirectHost": req.redirect.Host,
		"Request":      req,
		"Scopes":       scopes,
		"Me":           s.cfg.Me.String(),
		"OtherMe":      otherMe,
	})
}

// expiries are the token lifetimes the owner can choose on the consent page.
var expiries = map[string]time.Duration{
	"day": 24 * time.Hour, "week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour, "year": 365 * 24 * time.Hour,
}

// Approve takes the owner's decision from the consent page and sends the browser back to the
// client with a code, or with error=access_denied.
func (s *Server) Approve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !s.IsOwner(r) {
		s.errorPage(w, r, http.StatusForbidden, "Your session has ended. Go back to the app and sign in again.")
		return
	}
	if !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "The form expired. Go back to the app and start again.")
		return
	}
	// The request travelled through the form: check it again, as if it came from the client.
	req, err := s.checkRequest(r.Context(), r.PostForm, true)
	if err != nil {
		s.refuse(w, r, err)
		return
	}
	if r.PostFormValue("decision") != "approve" {
		s.log.InfoContext(r.Context(), "owner denied access", "client_id", req.ClientID)
		s.redirectTo(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"the owner denied the request"}})
		return
	}
	var granted []string
	for _, sc := range r.PostForm["scope[]"] {
		if slices.Contains(req.Scopes, sc) && !slices.Contains(granted, sc) {
			granted = append(granted, sc) // only what was asked for, as the owner left it ticked
		}
	}
	code := randomString(32)
	now := s.now()
	c := &micropubd.AuthCode{
		Hash:          hashToken(code),
		ClientID:      req.ClientID,
		RedirectURI:   req.RedirectURI,
		Scope:         strings.Join(granted, " "),
		CodeChallenge: req.CodeChallenge,
		TokenTTL:      expiries[r.PostFormValue("expiry")],
		CreatedAt:     now,
		ExpiresAt:     now.Add(codeLife),
	}
	if err := s.store.CreateAuthCode(r.Context(), c); err != nil {
		s.log.ErrorContext(r.Context(), "could not issue a code", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed to issue a code.")
		return
	}
	s.log.InfoContext(r.Context(), "owner approved access", "client_id", req.ClientID, "scope", c.Scope)
	s.redirectTo(w, r, req, url.Values{"code": {code}})
}

// grantError is an OAuth error from redeeming a code or a refresh token.
type grantError struct {
	status            int
	code, description string
}

func (e *grantError) Error() string { return e.description }

func invalidGrant(format string, args ...any) *grantError {
	return &grantError{status: http.StatusBadRequest, code: "invalid_grant", description: fmt.Sprintf(format, args...)}
}

// redeem checks and uses an authorization code for clientID, redirectURI and the PKCE
// verifier. makeToken, if not nil, gives the token to issue for the code: it is stored in the
// same transaction that spends the code, and a request that fails a check spends nothing.
func (s *Server) redeem(ctx context.Context, code, clientID, redirectURI, verifier string,
	makeToken func(*micropubd.AuthCode) (*micropubd.Token, error)) (*micropubd.AuthCode, error) {
	if code == "" || redirectURI == "" {
		return nil, &grantError{status: http.StatusBadRequest, code: "invalid_request", description: "code and redirect_uri are required"}
	}
	now := s.now()
	c, err := s.store.RedeemAuthCode(ctx, hashToken(code), now, func(c *micropubd.AuthCode) (*micropubd.Token, error) {
		if now.After(c.ExpiresAt) {
			return nil, invalidGrant("the code expired")
		}
		if cu, err := ValidClientID(clientID); err != nil || cu.String() != c.ClientID {
			return nil, invalidGrant("the code was issued to another client_id")
		}
		if redirectURI != c.RedirectURI {
			return nil, invalidGrant("redirect_uri does not match the one the code was issued for")
		}
		switch {
		case c.CodeChallenge != "":
			sum := sha256.Sum256([]byte(verifier))
			if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.CodeChallenge)) != 1 {
				return nil, invalidGrant("code_verifier does not match the code_challenge")
			}
		case verifier != "":
			return nil, invalidGrant("a code_verifier was sent for a code issued without a code_challenge")
		}
		if makeToken == nil {
			return nil, nil
		}
		return makeToken(c)
	})
	switch {
	case errors.Is(err, micropubd.ErrNotFound):
		return nil, invalidGrant("the code is unknown")
	case errors.Is(err, micropubd.ErrCodeUsed):
		s.log.WarnContext(ctx, "a used code was presented again; its tokens are revoked", "client_id", clientID)
		return nil, invalidGrant("the code was used already; tokens issued for it are revoked")
	}
	return c, err
}

// RedeemProfile is the authorization endpoint's POST: a code exchanged for the owner's
// identity only, with the profile when that scope was granted.
func (s *Server) RedeemProfile(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	c, err := s.redeem(r.Context(), r.PostFormValue("code"), clientIDOf(r), r.PostFormValue("redirect_uri"), r.PostFormValue("code_verifier"), nil)
	if err != nil {
		s.grantFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.identity(strings.Fields(c.Scope)))
}

// identity is {me}, with the profile for the profile scope and the email for email.
func (s *Server) identity(scopes []string) map[string]any {
	out := map[string]any{"me": s.cfg.Me.String()}
	if slices.Contains(scopes, "profile") {
		p := s.cfg.Profile
		if !slices.Contains(scopes, "email") {
			p.Email = ""
		}
		out["profile"] = p
	}
	return out
}

func (s *Server) grantFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ge *grantError
	if errors.As(err, &ge) {
		oauthError(w, ge.status, ge.code, ge.description)
		return
	}
	if errors.Is(err, micropubd.ErrNoSpace) {
		s.log.WarnContext(r.Context(), "token request refused: the disk is full", "err", err)
		oauthError(w, http.StatusInsufficientStorage, "insufficient_storage",
			"the server's disk is full, so no token was issued; try again once space is freed on the server")
		return
	}
	s.log.ErrorContext(r.Context(), "token request failed", "err", err)
	oauthError(w, http.StatusInternalServerError, "server_error", "the server failed to handle the request")
}

// clientIDOf reads client_id from the form, or from a Basic header as some clients send it.
func clientIDOf(r *http.Request) string {
	if id := r.PostFormValue("client_id"); id != "" {
		return id
	}
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			return id
		}
	}
	return ""
}
