package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"willnorris.com/go/microformats"
)

// TestClient_Quill plays Quill: HEAD discovery from Link headers, PKCE, iss checked against the
// metadata, then a post with the token in the header and the body.
func TestClient_Quill(t *testing.T) {
	web := &fakeWeb{}
	srv := newAuthServer(t, web)
	links := discoverLinks(t, srv.base)
	for _, rel := range []string{"authorization_endpoint", "token_endpoint", "micropub", "indieauth-metadata"} {
		if links[rel] == "" {
			t.Fatalf("no %s in the Link headers: %v", rel, links)
		}
	}
	resp, body := srv.get(links["indieauth-metadata"], "")
	meta := decodeJSON(t, body)
	if resp.StatusCode != http.StatusOK || meta["issuer"] != srv.base || meta["authorization_endpoint"] != links["authorization_endpoint"] {
		t.Fatalf("metadata: %d %v", resp.StatusCode, meta)
	}
	verifier, challenge := pkce("quill")
	const clientID, redirectURI = "https://quill.p3k.io/", "https://quill.p3k.io/auth/callback"
	b := newBrowser(t)
	loc := b.consent(authURL(links["authorization_endpoint"], map[string]string{
		"response_type": "code", "client_id": clientID, "redirect_uri": redirectURI, "state": "q-state",
		"scope": "create update media profile", "code_challenge": challenge, "code_challenge_method": "S256",
		"me": strings.ToUpper(strings.Replace(srv.base, "http://", "HTTP://", 1)),
	}), "approve", nil)
	code := codeFrom(t, loc, redirectURI, "q-state", meta["issuer"].(string))

	status, tok := exchange(t, links["token_endpoint"], url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "code_verifier": {verifier}, "me": {srv.base}, "state": {"ignored"},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	if tok["token_type"] != "Bearer" || tok["me"] != srv.base || tok["scope"] != "create update media profile" ||
		tok["access_token"] == "" || tok["refresh_token"] == "" {
		t.Errorf("token answer: %v", tok)
	}
	if p, ok := tok["profile"].(map[string]any); !ok || p["name"] != "Test Owner" || p["url"] != srv.base {
		t.Errorf("profile = %v", tok["profile"])
	}
	access := tok["access_token"].(string)
	resp, out := srv.post("application/x-www-form-urlencoded",
		"h=entry&content=Posted+from+Quill&access_token="+url.QueryEscape(access), access)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post with the token in header and body: %d %s", resp.StatusCode, out)
	}
	// The owner's list shows the token, named by its client.
	resp, page := b.get(srv.base + "auth/tokens")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("https://quill.p3k.io/")) {
		t.Errorf("token list: %d\n%s", resp.StatusCode, page)
	}
}

// TestClient_MicroBlogApp plays the Micro.blog app: endpoints from the HTML head only, no
// PKCE, and a multipart post with a photo.
func TestClient_MicroBlogApp(t *testing.T) {
	web := &fakeWeb{}
	srv := newAuthServer(t, web)
	_, home := srv.get(srv.base, "")
	u, _ := url.Parse(srv.base)
	rels := microformats.Parse(bytes.NewReader(home), u).Rels
	authEndpoint, tokenEndpoint := rels["authorization_endpoint"][0], rels["token_endpoint"][0]
	const clientID, redirectURI = "https://micro.blog/", "https://micro.blog/indieauth/callback"
	loc := newBrowser(t).consent(authURL(authEndpoint, map[string]string{
		"client_id": clientID, "redirect_uri": redirectURI, "state": "mb", "scope": "create media", "me": srv.base,
	}), "approve", nil)
	code := codeFrom(t, loc, redirectURI, "mb", srv.base)
	status, tok := exchange(t, tokenEndpoint, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "client_id": {clientID},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	ct, body := multipartBody(t, map[string]string{"h": "entry", "content": "From the Micro.blog app"}, "photo", "p.png",
		readFixture(t, fixtureDir+"/media/pixel.png"))
	resp, out := srv.post(ct, body, tok["access_token"].(string))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("multipart post: %d %s", resp.StatusCode, out)
	}
}

// TestClient_OwnYourSwarm plays OwnYourSwarm: a client_id that is a JSON metadata document,
// whose redirect URI is on another host it declares.
func TestClient_OwnYourSwarm(t *testing.T) {
	web := &fakeWeb{}
	const clientID, redirectURI = "https://ownyourswarm.example/client.json", "https://swarm-callback.example/auth/callback"
	web.add("ownyourswarm.example", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/client.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"client_id": clientID, "client_name": "OwnYourSwarm", "client_uri": "https://ownyourswarm.example/",
			"logo_uri": "https://ownyourswarm.example/logo.png", "redirect_uris": []string{redirectURI},
		})
	}), t)
	srv := newAuthServer(t, web)
	verifier, challenge := pkce("swarm")
	b := newBrowser(t)
	auth := authURL(srv.base+"auth", map[string]string{
		"response_type": "code", "client_id": clientID, "redirect_uri": redirectURI, "state": "s",
		"scope": "create", "code_challenge": challenge, "code_challenge_method": "S256",
	})
	_, page := b.signIn(auth, ownerPassword)
	for _, want := range []string{"OwnYourSwarm", clientID, "swarm-callback.example", "https://ownyourswarm.example/logo.png"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the consent page does not show %q", want)
		}
	}
	f := findForm(t, page, "/auth/approve")
	f.fields.Set("decision", "approve")
	resp, _ := b.submit(f.action, f.fields)
	loc, _ := resp.Location()
	code := codeFrom(t, loc, redirectURI, "s", srv.base)
	status, tok := exchange(t, srv.base+"token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "code_verifier": {verifier},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	resp, out := srv.post("application/json", `{"type":["h-entry"],"properties":{"checkin":[{"type":["h-card"],"properties":{"name":["Ford Food and Drink"],"latitude":[45.5]}}]}}`, tok["access_token"].(string))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("checkin: %d %s", resp.StatusCode, out)
	}
	_, list := b.get(srv.base + "auth/tokens")
	if !bytes.Contains(list, []byte("OwnYourSwarm")) {
		t.Error("the token list does not name OwnYourSwarm")
	}
}

// TestClient_IndigenousIOS plays Indigenous for iOS: a custom-scheme redirect URI that its
// client_id page lists with rel="redirect_uri", no PKCE.
func TestClient_IndigenousIOS(t *testing.T) {
	web := &fakeWeb{}
	const clientID, redirectURI = "https://indigenous.realize.be/", "indigenous-ios://auth/callback"
	web.add("indigenous.realize.be", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><link rel="redirect_uri" href="%s"></head>
<body><div class="h-app"><img class="u-logo" src="/logo.png" alt=""><a class="p-name u-url" href="/">Indigenous</a></div></body></html>`, redirectURI)
	}), t)
	srv := newAuthServer(t, web)
	loc := newBrowser(t).consent(authURL(srv.base+"auth", map[string]string{
		"response_type": "code", "client_id": clientID, "redirect_uri": redirectURI, "state": "i", "scope": "create update",
	}), "approve", nil)
	code := codeFrom(t, loc, redirectURI, "i", srv.base)
	status, tok := exchange(t, srv.base+"token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "client_id": {clientID},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	if resp, out := srv.post("application/x-www-form-urlencoded", "h=entry&content=From+Indigenous", tok["access_token"].(string)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("post: %d %s", resp.StatusCode, out)
	}
	// Indigenous signs out with the legacy revoke.
	resp, err := http.PostForm(srv.base+"token", url.Values{"action": {"revoke"}, "token": {tok["access_token"].(string)}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("legacy revoke: %v %v", err, resp)
	}
	resp2, out := srv.post("application/x-www-form-urlencoded", "content=after+revoking", tok["access_token"].(string))
	wantError(t, resp2, out, http.StatusUnauthorized, "invalid_token")
}

func TestAuthorize_Refusals(t *testing.T) {
	web := &fakeWeb{}
	web.add("listed.example", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<link rel="redirect_uri" href="https://listed.example/cb">`)
	}), t)
	srv := newAuthServer(t, web)
	tests := []struct {
		name   string
		params map[string]string
	}{
		{"undeclared cross-host redirect", map[string]string{"client_id": "https://listed.example/", "redirect_uri": "https://evil.example/steal"}},
		{"unreachable client, cross-host redirect", map[string]string{"client_id": "https://gone.example/", "redirect_uri": "https://other.example/cb"}},
		{"loopback client, redirect elsewhere", map[string]string{"client_id": "http://127.0.0.1:8000/", "redirect_uri": "https://evil.example/cb"}},
		{"client_id with an IP address", map[string]string{"client_id": "https://10.0.0.1/", "redirect_uri": "https://10.0.0.1/cb"}},
		{"client_id with ..", map[string]string{"client_id": "https://app.example/a/../b", "redirect_uri": "https://app.example/cb"}},
		{"client_id not a URL", map[string]string{"client_id": "quill", "redirect_uri": "https://app.example/cb"}},
		{"redirect_uri relative", map[string]string{"client_id": "https://app.example/", "redirect_uri": "/cb"}},
	}
	b := newBrowser(t)
	if resp, _ := b.signIn(srv.base+"auth/tokens", ownerPassword); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.params["response_type"], tt.params["state"] = "code", "x"
			resp, page := b.get(authURL(srv.base+"auth", tt.params))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%d, Location %q: want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			if !bytes.Contains(page, []byte("Sign-in request refused")) {
				t.Errorf("no error page:\n%s", page)
			}
		})
	}
}

func TestAuthorize_AcceptedClientIDs(t *testing.T) {
	web := &fakeWeb{}
	web.add("dotted.example", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"client_id":"https://dotted.example/client.json","client_name":"Dotted","redirect_uris":["https://cb.dotted-elsewhere.example/x"]}`)
	}), t)
	srv := newAuthServer(t, web)
	tests := []struct {
		name, clientID, redirectURI, shows string
	}{
		{"no path means /", "https://app.example", "https://app.example/callback", "https://app.example/"},
		{"a dot in the path", "https://dotted.example/client.json", "https://cb.dotted-elsewhere.example/x", "Dotted"},
		{"loopback, never fetched", "http://127.0.0.1:9999/", "http://127.0.0.1:9999/cb", "http://127.0.0.1:9999/"},
		{"IPv6 loopback", "http://[::1]/", "http://[::1]/cb", "http://[::1]/"},
		{"fetch fails, same host", "https://down.example/", "https://down.example/cb", "https://down.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t)
			resp, page := b.signIn(authURL(srv.base+"auth", map[string]string{
				"response_type": "code", "client_id": tt.clientID, "redirect_uri": tt.redirectURI, "state": "s", "scope": "create",
			}), ownerPassword)
			if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(tt.shows)) {
				t.Fatalf("%d; the consent page should show %q:\n%s", resp.StatusCode, tt.shows, page)
			}
			findForm(t, page, "/auth/approve")
		})
	}
}

func TestAuthorize_DenyAndMissingScope(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	const clientID, redirectURI = "https://app.example/", "https://app.example/cb"
	params := map[string]string{"response_type": "code", "client_id": clientID, "redirect_uri": redirectURI,
		"state": "d", "scope": "create update delete x-custom"}
	loc := newBrowser(t).consent(authURL(srv.base+"auth", params), "deny", nil)
	if q := loc.Query(); q.Get("error") != "access_denied" || q.Get("state") != "d" || q.Get("iss") != srv.base || q.Get("code") != "" {
		t.Errorf("deny redirect: %s", loc)
	}

	// The owner unticks create: the token cannot create, but can update.
	loc = newBrowser(t).consent(authURL(srv.base+"auth", params), "approve", func(f url.Values) {
		f["scope[]"] = []string{"update", "x-custom"}
	})
	status, tok := exchange(t, srv.base+"token", url.Values{"grant_type": {"authorization_code"},
		"code": {codeFrom(t, loc, redirectURI, "d", srv.base)}, "redirect_uri": {redirectURI}, "client_id": {clientID}})
	if status != http.StatusOK || tok["scope"] != "update x-custom" {
		t.Fatalf("token: %d %v", status, tok)
	}
	resp, body := srv.post("application/x-www-form-urlencoded", "content=nope", tok["access_token"].(string))
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
}

func TestAuthorize_ConsentPageShowsEveryScope(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	_, page := newBrowser(t).signIn(authURL(srv.base+"auth", map[string]string{"response_type": "code",
		"client_id": "https://app.example/", "redirect_uri": "https://app.example/cb", "state": "s",
		"scope": "create media x-unknown-scope"}), ownerPassword)
	for _, want := range []string{"create new posts", "upload files", "x-unknown-scope", "a permission this server does not know", "app.example"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the consent page lacks %q", want)
		}
	}
	f := findForm(t, page, "/auth/approve")
	if diff := cmp.Diff([]string{"create", "media", "x-unknown-scope"}, f.fields["scope[]"]); diff != "" {
		t.Errorf("ticked scopes (-want +got):\n%s", diff)
	}
}
