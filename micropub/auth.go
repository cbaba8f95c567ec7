package micropub

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/micropubd/micropubd"
)

// TokenVerifier checks an access token: locally, or at an external token endpoint.
// It returns micropubd.ErrInvalidToken for tokens that are unknown, expired or revoked.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*micropubd.Token, error)
}

// BearerToken returns the token of an "Authorization: Bearer" header, or "".
func BearerToken(r *http.Request) string {
	return bearerOf(r.Header.Get("Authorization"))
}

func bearerOf(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// credentials are a request's Authorization header and, once verified, the Bearer token it
// carries: a request's token is looked up once, however many steps need it.
type credentials struct {
	header string
	token  *micropubd.Token
}

// headerOf returns the request's credentials, unverified.
func headerOf(r *http.Request) credentials {
	return credentials{header: r.Header.Get("Authorization")}
}

// headerToken returns the request's credentials, its Bearer token verified if there is one,
// so that a POST with a bad header token is refused before its body (perhaps a large upload)
// is read.
func headerToken(r *http.Request, v TokenVerifier) (credentials, error) {
	c := headerOf(r)
	if bearerOf(c.header) != "" {
		t, err := authenticate(r.Context(), v, c, "")
		if err != nil {
			return credentials{}, err
		}
		c.token = t
	}
	return c, nil
}

// authenticate verifies the token of a request that may carry it in its Authorization header
// (given whole), its body, or both (Quill sends it twice); two different tokens are a malformed
// request. A header token verified before is not looked up again.
func authenticate(ctx context.Context, v TokenVerifier, c credentials, body string) (*micropubd.Token, error) {
	header := c.header
	bearer := bearerOf(header)
	token := bearer
	switch {
	case bearer != "" && body != "":
		if subtle.ConstantTimeCompare([]byte(bearer), []byte(body)) != 1 {
			return nil, errInvalid("the request carries two different access tokens, in its header and its body")
		}
	case bearer == "":
		token = body
	}
	if token == "" && strings.TrimSpace(header) != "" {
		return nil, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
			Description: `the Authorization header must read "Authorization: Bearer TOKEN", with the word Bearer before the token`}
	}
	if token == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
			Description: "no access token: send it in an Authorization: Bearer header or an access_token field"}
	}
	if token == bearer && c.token != nil {
		return c.token, nil
	}
	t, err := v.Verify(ctx, token)
	if errors.Is(err, micropubd.ErrInvalidToken) {
		return nil, &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken,
			Description: "the access token is unknown, expired or revoked"}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// AuthoriseQuery verifies the token of a GET to the Micropub or media endpoint, sent in its
// Authorization header or its access_token parameter.
func AuthoriseQuery(r *http.Request, v TokenVerifier) (*micropubd.Token, error) {
	return authenticate(r.Context(), v, headerOf(r), r.URL.Query().Get("access_token"))
}

// PostAuth authorises a POST to the Micropub or media endpoint: by an access token, in the
// Authorization header, the body or both, or, for a form of the owner's pages, by the sign-in
// session and the CSRF token in the form.
type PostAuth struct {
	r        *http.Request
	tokens   TokenVerifier
	sessions Sessions
	me       string // the site's URL, the me of the owner's session
	creds    credentials
	session  bool
}

// AuthorisePost begins the authorisation of a POST. Its header token is verified at once, so
// that a POST with a bad one is refused before its body (perhaps a large upload) is read; me is
// the site's URL, whom the owner's session speaks for.
func AuthorisePost(r *http.Request, tokens TokenVerifier, sessions Sessions, me string) (*PostAuth, error) {
	session := sessionPost(r, sessions)
	creds, err := headerToken(r, tokens)
	if err != nil {
		return nil, err
	}
	return &PostAuth{r: r, tokens: tokens, sessions: sessions, me: me, creds: creds, session: session}, nil
}

// WantsHTML reports whether the POST is the owner's browser posting a form that asked for a page
// rather than JSON.
func (a *PostAuth) WantsHTML() bool { return a.session && wantsHTML(a.r) }

// Fail returns how the POST's failures are answered: for a form of the owner's pages that asked
// for a page, by forms (when set) in HTML, showing the form again with the fields in form (nil
// while unread); otherwise by fail, in JSON.
func (a *PostAuth) Fail(forms FormAnswers, form url.Values,
	fail func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	if forms == nil || !a.WantsHTML() {
		return fail
	}
	return func(w http.ResponseWriter, r *http.Request, err error) { forms.Failed(w, r, err, form) }
}

// Token returns the token the POST acts with, given the access_token and csrf fields of its
// body: the owner's session when it is a session post without an access token, else the
// access token.
func (a *PostAuth) Token(accessToken, csrf string) (*micropubd.Token, error) {
	if a.session && accessToken == "" {
		if err := checkSession(a.r, a.sessions, csrf); err != nil {
			return nil, err
		}
		return sessionToken(a.me), nil
	}
	return authenticate(a.r.Context(), a.tokens, a.creds, accessToken)
}

// FileToken authorises a file part before a byte of it is stored, given the access_token and
// csrf fields sent before it: the owner's session, or a token with the media scope. noToken
// describes the 401 answer to a request that sent no token before the file.
func (a *PostAuth) FileToken(accessToken, csrf, noToken string) (*micropubd.Token, error) {
	if a.session && accessToken == "" {
		return a.Token(accessToken, csrf)
	}
	if a.creds.header == "" && accessToken == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Description: noToken}
	}
	t, err := authenticate(a.r.Context(), a.tokens, a.creds, accessToken)
	if err != nil {
		return nil, err
	}
	if err := RequireScope(t, micropubd.ScopeMedia); err != nil {
		return nil, err
	}
	return t, nil
}

// RequireScope fails with 403 insufficient_scope unless t grants scope.
func RequireScope(t *micropubd.Token, scope string) error {
	if t.Allows(scope) {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scope: scope,
		Description: "the access token does not grant the " + scope + " scope"}
}
