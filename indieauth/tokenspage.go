package indieauth

import (
	"net/http"
	"strconv"
	"time"
)

// TokensPage lists the tokens apps hold, for the owner, with a button to revoke each.
func (s *Server) TokensPage(w http.ResponseWriter, r *http.Request) {
	if !s.IsOwner(r) {
		s.loginPage(w, r, http.StatusOK, r.URL.RequestURI(), "")
		return
	}
	list, err := s.store.ListTokens(r.Context(), s.now())
	if err != nil {
		s.log.ErrorContext(r.Context(), "list tokens failed", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed to list your tokens.")
		return
	}
	type row struct {
		ID                        int64
		Client, ClientID, Scope   string
		Issued, LastUsed, Expires string
	}
	format := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return t.Format("2 Jan 2006 15:04 MST")
	}
	rows := make([]row, len(list))
	for i, t := range list {
		name := t.ClientName
		if name == "" {
			name = t.ClientID
		}
		if name == "" {
			name = "micropubd token (command line)"
		}
		rows[i] = row{ID: t.ID, Client: name, ClientID: t.ClientID, Scope: t.Scope,
			Issued: format(t.IssuedAt, ""), LastUsed: format(t.LastUsed, "never"), Expires: format(t.ExpiresAt, "never")}
	}
	s.page(w, r, http.StatusOK, "tokens", "Apps with access", map[string]any{
		"Tokens": rows, "CSRF": s.csrfToken(w, r), "Revoke": s.URL(PathTokens + "/revoke"),
		"Logout": s.URL(PathLogout), "Revoked": r.URL.Query().Get("revoked") != "",
	})
}

// RevokeFromPage revokes one token from the owner's list; it fails at once from then on.
func (s *Server) RevokeFromPage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !s.IsOwner(r) || !s.checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "Sign in again to revoke tokens.")
		return
	}
	id, err := strconv.ParseInt(r.PostFormValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "No token was chosen.")
		return
	}
	if err := s.store.RevokeToken(r.Context(), id, s.now()); err != nil {
		s.log.ErrorContext(r.Context(), "revoke failed", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "The server failed to revoke the token.")
		return
	}
	s.log.InfoContext(r.Context(), "owner revoked a token", "id", id)
	http.Redirect(w, r, s.URL(PathTokens)+"?revoked=1", http.StatusSeeOther)
}
