package site

import "net/http"

// pageCSP lets pages load their style sheet and images and media from anywhere (posts show
// photos from other sites), and allows no inline script, no plugins, no framing, and forms that
// post only to this site.
const pageCSP = "default-src 'self'; img-src * data:; media-src *; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// Headers gives every response the site's protections: a Content-Security-Policy without inline
// script, nosniff, a Referrer-Policy that keeps paths to this site, and no framing. Handlers
// with stricter needs (the sign-in pages, shared notes, the notes app, uploaded files) replace
// them with their own.
func Headers(next http.Handler) http.Handler {
	// The values are made once and assigned, not Set: no allocation per response. A handler
	// that changes one replaces it (Set), and appending to a full slice copies it.
	csp, nosniff := []string{pageCSP}, []string{"nosniff"}
	referrer, frames := []string{"strict-origin-when-cross-origin"}, []string{"DENY"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = csp
		h["X-Content-Type-Options"] = nosniff
		h["Referrer-Policy"] = referrer
		h["X-Frame-Options"] = frames
		next.ServeHTTP(w, r)
	})
}
