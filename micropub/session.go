package micropub

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/micropubd/micropubd"
)

// The owner's pages are plain HTML forms that post to the Micropub and media endpoints. Such a
// post carries no token: the owner's sign-in session is its credential, for form-encoded and
// multipart bodies only, and only with the session's CSRF token in the csrf field and a
// same-origin request. Bearer-token clients are not affected.

// CSRFField is the form field that carries the session's CSRF token; it is never a property.
const CSRFField = "csrf"

// Sessions is the owner's sign-in in the browser.
type Sessions interface {
	IsOwner(r *http.Request) bool
	// ValidSessionWrite reports whether a cookie-authenticated write is same-origin and
	// carries the session's CSRF token.
	ValidSessionWrite(r *http.Request, token string) bool
}

// FormAnswers answers the browser's form posts in HTML: where to go once done, and the form
// again, with what was typed and the error in words, when not.
type FormAnswers interface {
	// Done redirects (303) after action succeeded on the post or file at url.
	Done(w http.ResponseWriter, r *http.Request, action, url string)
	// Failed shows the form again; form holds the text fields as sent (nil if unread).
	Failed(w http.ResponseWriter, r *http.Request, err error, form url.Values)
}

// sessionScope is what the owner's own pages may do.
const sessionScope = "create update delete undelete media"

// sessionPost reports whether a request is the owner's browser posting a form: no
// Authorization header, a form-encoded or multipart body, and a live session. Its CSRF token is
// checked once the form is read.
func sessionPost(r *http.Request, s Sessions) bool {
	if s == nil || r.Header.Get("Authorization") != "" {
		return false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
		return false
	}
	return s.IsOwner(r)
}

// sessionToken is the token a session post acts with.
func sessionToken(me string) *micropubd.Token {
	return &micropubd.Token{Me: me, ClientID: "the owner's pages", Scope: sessionScope}
}

// checkSession verifies the CSRF token and origin of a session post; a request that also
// carries an access token is judged by the token instead.
func checkSession(r *http.Request, s Sessions, csrf string) error {
	if !s.ValidSessionWrite(r, csrf) {
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Description: "the form expired or did not come from this site's own pages; reload the page and try again"}
	}
	return nil
}

// wantsHTML reports whether a form post asked for a page rather than JSON.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// first returns the first of a field's values, or "".
func first(vals []string) string {
	if len(vals) > 0 {
		return vals[0]
	}
	return ""
}
