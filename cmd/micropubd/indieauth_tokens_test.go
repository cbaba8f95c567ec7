package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	appID       = "https://app.example/"
	appRedirect = "https://app.example/cb"
)

// approvedCode runs a consent for the app with scope and PKCE challenge and returns the code.
func approvedCode(t *testing.T, srv *testServer, scope, challenge string) string {
	t.Helper()
	params := map[string]string{"response_type": "code", "client_id": appID, "redirect_uri": appRedirect, "state": "s", "scope": scope}
	if challenge != "" {
		params["code_challenge"], params["code_challenge_method"] = challenge, "S256"
	}
	return codeFrom(t, newBrowser(t).consent(authURL(srv.base+"auth", params), "approve", nil), appRedirect, "s", srv.base)
}

func redeemFields(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "client_id": {appID}}
}

func TestToken_CodeRefusals(t *testing.T) {
	clock := testNow
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.Now = func() time.Time { return clock } })
	verifier, challenge := pkce("v")
	tests := []struct {
		name   string
		change func(code string, f url.Values)
		before func()
	}{
		{"wrong verifier", func(_ string, f url.Values) { f.Set("code_verifier", strings.Repeat("x", 64)) }, nil},
		{"no verifier for a PKCE code", func(_ string, f url.Values) { f.Del("code_verifier") }, nil},
		{"mismatched redirect_uri", func(_ string, f url.Values) { f.Set("redirect_uri", "https://app.example/other") }, nil},
		{"another client_id", func(_ string, f url.Values) { f.Set("client_id", "https://other.example/") }, nil},
		{"unknown code", func(_ string, f url.Values) { f.Set("code", "made-up") }, nil},
		{"expired code", nil, func() { clock = clock.Add(11 * time.Minute) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = testNow
			code := approvedCode(t, srv, "create", challenge)
			f := redeemFields(code)
			f.Set("code_verifier", verifier)
			if tt.change != nil {
				tt.change(code, f)
			}
			if tt.before != nil {
				tt.before()
			}
			status, body := exchange(t, srv.base+"token", f)
			if status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["error_description"] == "" {
				t.Errorf("%d %v, want 400 invalid_grant", status, body)
			}
		})
	}
	t.Run("unsupported grant type", func(t *testing.T) {
		status, body := exchange(t, srv.base+"token", url.Values{"grant_type": {"password"}})
		if status != http.StatusBadRequest || body["error"] != "unsupported_grant_type" {
			t.Errorf("%d %v", status, body)
		}
	})
}

func TestToken_ReusedCodeRevokesItsTokens(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	code := approvedCode(t, srv, "create", "")
	status, tok := exchange(t, srv.base+"token", redeemFields(code))
	if status != http.StatusOK {
		t.Fatalf("%d %v", status, tok)
	}
	access := tok["access_token"].(string)
	if resp, _ := srv.post("application/x-www-form-urlencoded", "content=first", access); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first post: %d", resp.StatusCode)
	}
	status, again := exchange(t, srv.base+"token", redeemFields(code))
	if status != http.StatusBadRequest || again["error"] != "invalid_grant" {
		t.Errorf("reuse: %d %v", status, again)
	}
	resp, body := srv.post("application/x-www-form-urlencoded", "content=after+replay", access)
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
}

func TestToken_CodeWithoutScopeIsForSigningInOnly(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	code := approvedCode(t, srv, "", "")
	status, body := exchange(t, srv.base+"token", redeemFields(code))
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("token endpoint: %d %v, want invalid_grant", status, body)
	}
	// A fresh one at the authorization endpoint gives the identity.
	code = approvedCode(t, srv, "profile", "")
	status, body = exchange(t, srv.base+"auth", redeemFields(code))
	if status != http.StatusOK || body["me"] != srv.base {
		t.Fatalf("authorization endpoint: %d %v", status, body)
	}
	if p, _ := body["profile"].(map[string]any); p["name"] != "Test Owner" {
		t.Errorf("profile = %v", body["profile"])
	}
	if _, ok := body["access_token"]; ok {
		t.Error("the authorization endpoint gave a token")
	}
}

func TestToken_RequirePKCE(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.RequirePKCE = true })
	for _, params := range []map[string]string{
		{"response_type": "code", "client_id": appID, "redirect_uri": appRedirect, "state": "p", "scope": "create"},
		{"response_type": "code", "client_id": appID, "redirect_uri": appRedirect, "state": "p", "scope": "create",
			"code_challenge": strings.Repeat("a", 43), "code_challenge_method": "plain"},
	} {
		// Errors before the owner acted are shown, never redirected (no open redirector).
		resp, page := newBrowser(t).get(authURL(srv.base+"auth", params))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !bytes.Contains(page, []byte("PKCE")) && !bytes.Contains(page, []byte("S256")) {
			t.Errorf("%v: %d %q", params, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestToken_LongLivedByDefaultOrAsTheOwnerChooses(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	_, tok := exchange(t, srv.base+"token", redeemFields(approvedCode(t, srv, "create", "")))
	if _, ok := tok["expires_in"]; ok {
		t.Errorf("default token expires: %v", tok)
	}
	loc := newBrowser(t).consent(authURL(srv.base+"auth", map[string]string{"response_type": "code", "client_id": appID,
		"redirect_uri": appRedirect, "state": "s", "scope": "create"}), "approve", func(f url.Values) { f.Set("expiry", "week") })
	_, tok = exchange(t, srv.base+"token", redeemFields(codeFrom(t, loc, appRedirect, "s", srv.base)))
	if tok["expires_in"] != json.Number("604800") {
		t.Errorf("expires_in = %v, want a week", tok["expires_in"])
	}
}

func TestToken_RefreshRotates(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	_, tok := exchange(t, srv.base+"token", redeemFields(approvedCode(t, srv, "create update", "")))
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {appID}, "scope": {"create"}}
	status, next := exchange(t, srv.base+"token", refresh)
	if status != http.StatusOK || next["scope"] != "create" || next["access_token"] == tok["access_token"] {
		t.Fatalf("refresh: %d %v", status, next)
	}
	resp, body := srv.post("application/x-www-form-urlencoded", "content=old", tok["access_token"].(string))
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
	if resp, _ := srv.post("application/x-www-form-urlencoded", "content=new", next["access_token"].(string)); resp.StatusCode != http.StatusCreated {
		t.Errorf("new token: %d", resp.StatusCode)
	}
	widen := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next["refresh_token"].(string)}, "client_id": {appID}, "scope": {"create delete"}}
	if status, body := exchange(t, srv.base+"token", widen); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("widening refresh: %d %v", status, body)
	}
	// The refresh token is not an access token.
	resp, body = srv.post("application/x-www-form-urlencoded", "content=x", next["refresh_token"].(string))
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
	// Replaying the first refresh token revokes the whole grant, the newest token included.
	if status, again := exchange(t, srv.base+"token", refresh); status != http.StatusBadRequest || again["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v", status, again)
	}
	resp, body = srv.post("application/x-www-form-urlencoded", "content=after+replay", next["access_token"].(string))
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
}

func TestToken_LegacyGETIntrospectionUserinfoRevocation(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.Email = "owner@example.com" })
	_, tok := exchange(t, srv.base+"token", redeemFields(approvedCode(t, srv, "create profile", "")))
	access := tok["access_token"].(string)

	_, body := srv.get(srv.base+"token", access)
	if diff := cmp.Diff(map[string]any{"me": srv.base, "client_id": appID, "scope": "create profile"}, decodeJSON(t, body)); diff != "" {
		t.Errorf("legacy GET /token (-want +got):\n%s", diff)
	}
	if resp, _ := srv.get(srv.base+"token", "mpd_nope"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("legacy GET with a bad token: %d", resp.StatusCode)
	}

	introspect := func(auth, token string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, srv.base+"token/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, body := srv.do(req)
		return resp.StatusCode, decodeJSON(t, body)
	}
	if status, _ := introspect("", access); status != http.StatusUnauthorized {
		t.Errorf("introspection without a Bearer: %d", status)
	}
	status, got := introspect(srv.token, access)
	if status != http.StatusOK || got["active"] != true || got["me"] != srv.base || got["client_id"] != appID ||
		got["scope"] != "create profile" || got["iat"] == nil {
		t.Errorf("introspection: %d %v", status, got)
	}
	if _, got := introspect(srv.token, "mpd_unknown"); !cmp.Equal(got, map[string]any{"active": false}) {
		t.Errorf("introspection of an unknown token: %v", got)
	}

	_, body = srv.get(srv.base+"userinfo", access)
	if diff := cmp.Diff(map[string]any{"name": "Test Owner", "url": srv.base}, decodeJSON(t, body)); diff != "" {
		t.Errorf("userinfo without the email scope (-want +got):\n%s", diff)
	}
	resp, body := srv.get(srv.base+"userinfo", srv.token) // no profile scope
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("userinfo without profile: %d %s", resp.StatusCode, body)
	}

	for _, token := range []string{access, "never-issued"} {
		resp, err := http.PostForm(srv.base+"token/revoke", url.Values{"token": {token}})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation: %v %v", err, resp)
		}
	}
	if _, got := introspect(srv.token, access); got["active"] != false {
		t.Errorf("a revoked token is active: %v", got)
	}
	rp, out := srv.post("application/x-www-form-urlencoded", "content=x", access)
	wantError(t, rp, out, http.StatusUnauthorized, "invalid_token")
}

func TestLogin_WrongPasswordRateLimitAndCSRF(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	auth := authURL(srv.base+"auth", map[string]string{"response_type": "code", "client_id": appID, "redirect_uri": appRedirect, "state": "s"})
	b := newBrowser(t)
	resp, page := b.signIn(auth, "wrong password")
	if resp.StatusCode != http.StatusUnauthorized || !bytes.Contains(page, []byte("not right")) {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	for i := 0; i < 4; i++ {
		b.signIn(auth, "wrong again")
	}
	resp, page = b.signIn(auth, ownerPassword) // right, but too late
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("sixth attempt: %d", resp.StatusCode)
	}

	// A login form posted from elsewhere, or without the CSRF field, is refused.
	other := newAuthServer(t, &fakeWeb{})
	b = newBrowser(t)
	_, page = b.get(authURL(other.base+"auth", map[string]string{"client_id": appID, "redirect_uri": appRedirect}))
	f := findForm(t, page, "/auth/login")
	f.fields.Set("password", ownerPassword)
	f.fields.Set("csrf", "forged")
	if resp, _ := b.submit(f.action, f.fields); resp.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF field: %d", resp.StatusCode)
	}
	f = findForm(t, page, "/auth/login")
	f.fields.Set("password", ownerPassword)
	req, _ := http.NewRequest(http.MethodPost, f.action, strings.NewReader(f.fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin login: %d", resp.StatusCode)
	}
}

func TestLogin_SessionCookieAttributes(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b := newBrowser(t)
	_, page := b.get(srv.base + "auth/tokens")
	f := findForm(t, page, "/auth/login")
	f.fields.Set("password", ownerPassword)
	resp, _ := b.submit(f.action, f.fields)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "micropubd_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie = %+v (want HttpOnly, SameSite=Lax, not Secure on http)", session)
	}
	// The owner, signed in, sees drafts on the site too.
	draft := srv.create("content=draft&post-status=draft")
	if resp, _ := b.get(draft); resp.StatusCode != http.StatusOK {
		t.Errorf("draft with the owner's session: %d", resp.StatusCode)
	}
}

func TestTokensPage_RevokeStopsTheTokenAtOnce(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b := newBrowser(t)
	_, page := b.signIn(srv.base+"auth/tokens", ownerPassword)
	if !bytes.Contains(page, []byte("create update delete undelete media")) {
		t.Fatalf("the list does not show the token's scopes:\n%s", page)
	}
	f := findForm(t, page, "/auth/tokens/revoke")
	resp, _ := b.submit(f.action, f.fields)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	rp, out := srv.post("application/x-www-form-urlencoded", "content=x", srv.token)
	wantError(t, rp, out, http.StatusUnauthorized, "invalid_token")
	// Signed out, the page asks for the password again.
	_, page = newBrowser(t).get(srv.base + "auth/tokens")
	findForm(t, page, "/auth/login")
}

func TestExternalTokenEndpoint(t *testing.T) {
	var calls atomic.Int32
	var base string
	ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			// The other server may spell the host in capitals: it is the same me.
			fmt.Fprintf(w, `{"me":%q,"client_id":"https://quill.p3k.io/","scope":"create update"}`, strings.Replace(base, "http://", "HTTP://", 1))
		case "Bearer someone-else":
			fmt.Fprint(w, `{"me":"https://someone.example/","client_id":"x","scope":"create"}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"unauthorized"}`)
		}
	}))
	defer ext.Close()
	clock := testNow
	srv := newTestServer(t, func(c *serverConfig) {
		base = c.BaseURL.String()
		c.Now = func() time.Time { return clock }
		c.External = external{TokenEndpoint: ext.URL + "/token", AuthorizationEndpoint: ext.URL + "/auth", CacheFor: time.Minute}
	})

	links := discoverLinks(t, srv.base)
	want := map[string]string{"authorization_endpoint": ext.URL + "/auth", "token_endpoint": ext.URL + "/token",
		"micropub": srv.base + "micropub", "webmention": srv.base + "webmention"}
	if diff := cmp.Diff(want, links); diff != "" {
		t.Errorf("advertised endpoints (-want +got):\n%s", diff)
	}
	if resp, _ := srv.get(srv.base+"auth", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the site's own authorization endpoint answers %d with an external server", resp.StatusCode)
	}

	for i := 0; i < 3; i++ {
		if resp, body := srv.post("application/x-www-form-urlencoded", fmt.Sprintf("content=external+%d", i), "good"); resp.StatusCode != http.StatusCreated {
			t.Fatalf("post %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls to the token endpoint for three posts, want 1 (cached)", n)
	}
	clock = clock.Add(2 * time.Minute)
	srv.post("application/x-www-form-urlencoded", "content=later", "good")
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls after the cache expired, want 2", n)
	}

	resp, body := srv.post("application/x-www-form-urlencoded", "content=x", "someone-else")
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
	resp, body = srv.post("application/x-www-form-urlencoded", "content=x", "bad")
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
	before := calls.Load()
	clock = clock.Add(30 * time.Second) // negative answers are kept only briefly
	srv.post("application/x-www-form-urlencoded", "content=x", "bad")
	if calls.Load() != before+1 {
		t.Errorf("a negative answer was cached for 30 s")
	}
	resp, body = srv.post("application/json", `{"action":"delete","url":"`+srv.base+`2026/03/x"}`, "good")
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
}

func TestExternalIntrospectionEndpoint(t *testing.T) {
	var base string
	ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer resource-server-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.PostFormValue("token") {
		case "live":
			fmt.Fprintf(w, `{"active":true,"me":%q,"client_id":"https://app.example/","scope":"create","exp":%d}`, base, testNow.Add(time.Hour).Unix())
		case "expired":
			fmt.Fprintf(w, `{"active":true,"me":%q,"client_id":"https://app.example/","scope":"create","exp":%d}`, base, testNow.Add(-time.Hour).Unix())
		default:
			fmt.Fprint(w, `{"active":false}`)
		}
	}))
	defer ext.Close()
	srv := newTestServer(t, func(c *serverConfig) {
		base = c.BaseURL.String()
		c.External = external{IntrospectionEndpoint: ext.URL, IntrospectionToken: "resource-server-secret", CacheFor: time.Minute}
	})
	if resp, body := srv.post("application/x-www-form-urlencoded", "content=introspected", "live"); resp.StatusCode != http.StatusCreated {
		t.Fatalf("live token: %d %s", resp.StatusCode, body)
	}
	for _, tok := range []string{"expired", "inactive"} {
		resp, body := srv.post("application/x-www-form-urlencoded", "content=x", tok)
		wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
	}
}
