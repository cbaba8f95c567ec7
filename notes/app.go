package notes

import (
	"net/http"
)

// appCSP lets the app's page load its own scripts, styles and API and nothing else: no inline
// script or style, no other origin.
const appCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// App serves the notes web app: a page whose script fetches the notes and decrypts them in the
// browser with a key that never leaves it. Signed out, it sends the owner to sign in and back.
func (h *Handler) App(w http.ResponseWriter, r *http.Request) {
	if h.Sessions == nil {
		http.Error(w, "The notes app needs micropubd's own sign-in; with an external IndieAuth server, use a notes client with a token.", http.StatusNotFound)
		return
	}
	if !h.Sessions.IsOwner(r) {
		http.Redirect(w, r, h.Sessions.LoginURL(r.URL.Path), http.StatusSeeOther)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", appCSP)
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	base := h.Notes.BaseURL.String()
	err := h.pages.Render(w, http.StatusOK, "notes", map[string]any{
		"Site":   map[string]any{"Name": h.SiteName, "URL": base},
		"Title":  "Notes",
		"API":    base + "notes",
		"CSRF":   h.Sessions.SessionCSRF(r),
		"Logout": base + "auth/logout",
		"Apps":   base + "auth/tokens",
	})
	if err != nil {
		h.log().ErrorContext(r.Context(), "notes app page failed", "err", err)
		http.Error(w, "The notes app could not be rendered.", http.StatusInternalServerError)
	}
}
