package micropub

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
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

// requireScope fails with 403 insufficient_scope unless t grants scope.
func requireScope(t *micropubd.Token, scope string) error {
	if t.Allows(scope) {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scope: scope,
		Description: "the access token does not grant the " + scope + " scope"}
}
