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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
