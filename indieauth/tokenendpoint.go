package indieauth

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// Token is the token endpoint's POST: authorization_code and refresh_token grants, and the
// legacy action=revoke that Quill and Indigenous send.
func (s *Server) Token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be form-encoded")
		return
	}
	if r.PostFormValue("action") == "revoke" {
		s.revoke(r, r.PostFormValue("token"))
		w.WriteHeader(http.StatusOK)
		return
	}
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r)
	case "refresh_token":
		s.refresh(w, r)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	clientID := clientIDOf(r)
	var (
		access, refresh string
		issued          *micropubd.Token
	)
	c, err := s.redeem(r.Context(), r.PostFormValue("code"), clientID, r.PostFormValue("redirect_uri"), r.PostFormValue("code_verifier"),
		func(c *micropubd.AuthCode) (*micropubd.Token, error) {
			if c.Scope == "" {
				return nil, invalidGrant("the code was issued without any scope, for signing in only: redeem it at the authorization endpoint")
			}
			ttl := c.TokenTTL
			if ttl == 0 {
				ttl = s.cfg.TokenTTL
			}
			g := Grant{ClientID: c.ClientID, Scope: c.Scope, Refresh: true}
			if client := s.clients.Cached(c.ClientID); client != nil {
				g.ClientName = client.Name // as the consent page showed it
			}
			if ttl > 0 {
				g.Expires = s.now().Add(ttl)
			}
			access, refresh, issued = s.tokens.newToken(g)
			return issued, nil
		})
	if err != nil {
		s.grantFailed(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "token issued", "client_id", c.ClientID, "scope", c.Scope)
	s.writeToken(w, access, refresh, issued)
}

func (s *Server) writeToken(w http.ResponseWriter, access, refresh string, t *micropubd.Token) {
	out := s.identity(t.Scopes())
	out["access_token"] = access
	out["token_type"] = "Bearer"
	out["scope"] = t.Scope
	if refresh != "" {
		out["refresh_token"] = refresh
	}
	if !t.ExpiresAt.IsZero() {
		out["expires_in"] = int64(t.ExpiresAt.Sub(t.IssuedAt) / time.Second)
	}
	writeJSON(w, http.StatusOK, out)
}

// refresh rotates a refresh token: the old pair is revoked and a new one issued, with the same
// or fewer scopes and the same end. A refresh token used twice (replayed, or raced) revokes
// every token descended from its grant, as OAuth's security practice advises.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	old, err := s.store.TokenByRefreshHash(ctx, hashToken(r.PostFormValue("refresh_token")))
	if errors.Is(err, micropubd.ErrNotFound) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is unknown")
		return
	}
	if err != nil {
		s.grantFailed(w, r, err)
		return
	}
	replayed := func() {
		if old.CodeID != 0 {
			if err := s.store.RevokeTokensOfCode(ctx, old.CodeID, now); err != nil {
				s.log.ErrorContext(ctx, "revoking a replayed grant failed", "err", err)
			}
		}
		s.log.WarnContext(ctx, "a used refresh token was presented again; the grant is revoked", "client_id", old.ClientID)
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was used already; the grant is revoked")
	}
	if !old.RevokedAt.IsZero() {
		replayed()
		return
	}
	if !old.RefreshExpiresAt.IsZero() && now.After(old.RefreshExpiresAt) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token expired")
		return
	}
	if cu, err := ValidClientID(clientIDOf(r)); err != nil || cu.String() != old.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was issued to another client_id")
		return
	}
	scope := old.Scope
	if asked := strings.Fields(r.PostFormValue("scope")); len(asked) > 0 {
		for _, sc := range asked {
			if !slices.Contains(old.Scopes(), sc) {
				oauthError(w, http.StatusBadRequest, "invalid_scope", "a refresh cannot add the scope "+sc)
				return
			}
		}
		scope = strings.Join(asked, " ")
	}
	access, refresh, next := s.tokens.newToken(Grant{
		ClientID: old.ClientID, ClientName: old.ClientName, Scope: scope, Expires: old.ExpiresAt, Refresh: true,
	})
	next.CodeID = old.CodeID
	err = s.store.RotateToken(ctx, old.ID, now, next)
	if errors.Is(err, micropubd.ErrConflict) {
		replayed()
		return
	}
	if err != nil {
		s.grantFailed(w, r, err)
		return
	}
	s.writeToken(w, access, refresh, next)
}

// revoke revokes an access or refresh token; unknown tokens are ignored, as RFC 7009 says.
func (s *Server) revoke(r *http.Request, secret string) {
	ctx := r.Context()
	t, err := s.store.TokenByHash(ctx, hashToken(secret))
	if errors.Is(err, micropubd.ErrNotFound) {
		t, err = s.store.TokenByRefreshHash(ctx, hashToken(secret))
	}
	if err != nil {
		return
	}
	if err := s.store.RevokeToken(ctx, t.ID, s.now()); err != nil {
		s.log.ErrorContext(ctx, "revocation failed", "err", err)
		return
	}
	s.log.InfoContext(ctx, "token revoked", "client_id", t.ClientID)
}

// Revoke is the RFC 7009 revocation endpoint: it always answers 200.
func (s *Server) Revoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err == nil {
		s.revoke(r, r.PostFormValue("token"))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// bearer returns the verified token of the request's Authorization header.
func (s *Server) bearer(r *http.Request) (*micropubd.Token, bool) {
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	t, err := s.tokens.Verify(r.Context(), strings.TrimSpace(secret))
	return t, err == nil
}

func unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	desc := "a valid Bearer token is required"
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); scheme != "" && !strings.EqualFold(scheme, "Bearer") {
		desc = `the Authorization header must read "Authorization: Bearer TOKEN", with the word Bearer before the token`
	}
	oauthError(w, http.StatusUnauthorized, "invalid_token", desc)
}

// TokenInfo is the legacy GET of the token endpoint: who a Bearer token speaks for (Aperture).
func (s *Server) TokenInfo(w http.ResponseWriter, r *http.Request) {
	t, ok := s.bearer(r)
	if !ok {
		unauthorized(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"me": s.cfg.Me.String(), "client_id": t.ClientID, "scope": t.Scope})
}

// Introspect is the introspection endpoint (RFC 7662): the caller proves itself with one of
// the owner's tokens, and learns whether token is active.
func (s *Server) Introspect(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(r); !ok {
		unauthorized(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be form-encoded")
		return
	}
	t, err := s.tokens.Verify(r.Context(), r.PostFormValue("token"))
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	out := map[string]any{"active": true, "me": s.cfg.Me.String(), "client_id": t.ClientID, "scope": t.Scope, "iat": t.IssuedAt.Unix()}
	if !t.ExpiresAt.IsZero() {
		out["exp"] = t.ExpiresAt.Unix()
	}
	writeJSON(w, http.StatusOK, out)
}

// Userinfo answers the owner's profile to a token with the profile scope.
func (s *Server) Userinfo(w http.ResponseWriter, r *http.Request) {
	t, ok := s.bearer(r)
	if !ok {
		unauthorized(w, r)
		return
	}
	if !slices.Contains(t.Scopes(), "profile") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="profile"`)
		oauthError(w, http.StatusForbidden, "insufficient_scope", "the token does not grant the profile scope")
		return
	}
	p := s.cfg.Profile
	if !slices.Contains(t.Scopes(), "email") {
		p.Email = ""
	}
	writeJSON(w, http.StatusOK, p)
}
