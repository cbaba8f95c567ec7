package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/micropubd/micropubd/indieauth"
)

func TestAuth_TokenPlacesAndErrors(t *testing.T) {
	srv := newTestServer(t)
	other := srv.mint("create")
	tests := []struct {
		name        string
		header      string
		body        string
		status      int
		code        string
		wwwAuthHint string
	}{
		{"token in header", srv.token, "h=entry&content=header", http.StatusCreated, "", ""},
		{"token in body", "", "h=entry&content=body&access_token=" + srv.token, http.StatusCreated, "", ""},
		{"same token in both (Quill)", srv.token, "h=entry&content=both&access_token=" + srv.token, http.StatusCreated, "", ""},
		{"two different tokens", srv.token, "h=entry&content=two&access_token=" + other, http.StatusBadRequest, "invalid_request", ""},
		{"no token", "", "h=entry&content=none", http.StatusUnauthorized, "unauthorized", "Bearer"},
		{"unknown token in header", "mpd_nope", "h=entry&content=unknown", http.StatusUnauthorized, "invalid_token", `error="invalid_token"`},
		{"unknown token in body", "", "h=entry&content=unknown&access_token=mpd_nope", http.StatusUnauthorized, "invalid_token", `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.post("application/x-www-form-urlencoded", tt.body, tt.header)
			if tt.code == "" {
				if resp.StatusCode != tt.status {
					t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				return
			}
			wantError(t, resp, body, tt.status, tt.code)
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tt.wwwAuthHint) {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", got, tt.wwwAuthHint)
			}
		})
	}
}

func TestAuth_ExpiredAndRevokedTokensAre401(t *testing.T) {
	srv := newTestServer(t)
	// The test server's clock is fixed at testNow; a token that expired before it is dead.
	past := &indieauth.Tokens{Store: srv.db, Me: srv.base, Now: func() time.Time { return testNow.Add(-2 * time.Hour) }}
	expired, _, err := past.Mint(context.Background(), "", "create", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := srv.post("application/x-www-form-urlencoded", "content=x", expired)
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")

	tokens := &indieauth.Tokens{Store: srv.db, Me: srv.base}
	secret, tok, err := tokens.Mint(context.Background(), "", "create", 0)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := srv.post("application/x-www-form-urlencoded", "content=before+revoking", secret); resp.StatusCode != http.StatusCreated {
		t.Fatalf("before revoking: %d %s", resp.StatusCode, body)
	}
	if err := srv.db.RevokeToken(context.Background(), tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, body = srv.post("application/x-www-form-urlencoded", "content=after+revoking", secret)
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
}

func TestAuth_ScopesAreEnforcedPerAction(t *testing.T) {
	srv := newTestServer(t)
	postURL := srv.create("h=entry&content=target&mp-slug=target")
	update := `{"action":"update","url":"` + postURL + `","replace":{"content":["changed"]}}`
	del := `{"action":"delete","url":"` + postURL + `"}`
	undel := `{"action":"undelete","url":"` + postURL + `"}`
	create := `{"type":["h-entry"],"properties":{"content":["new"]}}`
	tests := []struct {
		scope, body, missing string
		status               int
	}{
		{"create", create, "", http.StatusCreated},
		{"update", create, "create", http.StatusForbidden},
		{"created", create, "create", http.StatusForbidden}, // whole words only
		{"create", update, "update", http.StatusForbidden},
		{"update", update, "", http.StatusNoContent},
		{"create update", del, "delete", http.StatusForbidden},
		{"delete", del, "", http.StatusNoContent},
		{"delete", undel, "undelete", http.StatusForbidden},
		{"undelete", undel, "", http.StatusNoContent},
		{"post", create, "", http.StatusCreated}, // legacy: create+update+delete
		{"post", update, "", http.StatusNoContent},
		{"post", del, "", http.StatusNoContent},
		{"post", undel, "undelete", http.StatusForbidden},
		{"media", create, "create", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.scope+" "+tt.body[:20], func(t *testing.T) {
			resp, body := srv.post("application/json", tt.body, srv.mint(tt.scope))
			if tt.missing != "" {
				wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
				if got := decodeJSON(t, body)["scope"]; got != tt.missing {
					t.Errorf("scope = %v, want %s", got, tt.missing)
				}
				return
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
		})
	}
}

func TestAuth_DraftScopeOnlyCreatesDrafts(t *testing.T) {
	srv := newTestServer(t)
	draftOnly := srv.mint("draft")
	resp, body := srv.post("application/x-www-form-urlencoded", "content=try+to+publish&post-status=published", draftOnly)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	props := srv.source(loc)["properties"].(map[string]any)
	if got := props["post-status"]; len(got.([]any)) != 1 || got.([]any)[0] != "draft" {
		t.Errorf("post-status = %v, want [draft]", got)
	}
	if resp, _ := srv.get(loc, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("anonymous GET of the draft = %d, want 404", resp.StatusCode)
	}
}

func TestAuth_QueriesNeedAToken(t *testing.T) {
	srv := newTestServer(t)
	for _, q := range []string{"config", "source", "syndicate-to", "category", "post-types"} {
		resp, body := srv.get(srv.base+"micropub?q="+q, "")
		wantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
	}
	// The token may also come as access_token in the query string.
	resp, body := srv.get(srv.base+"micropub?q=config&access_token="+url.QueryEscape(srv.token), "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("q=config with access_token: %d %s", resp.StatusCode, body)
	}
	// A bare GET tells the client whom its token speaks for.
	m := srv.query(url.Values{})
	if m["me"] != srv.base || m["scope"] != "create update delete undelete media" || m["client_id"] != "https://client.example/" {
		t.Errorf("GET /micropub = %v", m)
	}
}
