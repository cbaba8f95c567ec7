package main

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// TestRevocation_EveryPathStopsACachedTokenAtOnce: verified tokens are kept in memory, so each
// way a token is revoked must reach that copy. The token is used first (and so cached), then
// revoked, then refused on the very next request.
func TestRevocation_EveryPathStopsACachedTokenAtOnce(t *testing.T) {
	type grant struct{ access, refresh, code string }
	cases := []struct {
		name   string
		revoke func(t *testing.T, srv *testServer, g grant) (stopped string)
	}{
		{"RFC 7009 revocation endpoint", func(t *testing.T, srv *testServer, g grant) string {
			http.PostForm(srv.base+"token/revoke", url.Values{"token": {g.access}})
			return g.access
		}},
		{"RFC 7009 revocation of the refresh token", func(t *testing.T, srv *testServer, g grant) string {
			http.PostForm(srv.base+"token/revoke", url.Values{"token": {g.refresh}})
			return g.access
		}},
		{"legacy action=revoke at the token endpoint", func(t *testing.T, srv *testServer, g grant) string {
			resp, err := http.PostForm(srv.base+"token", url.Values{"action": {"revoke"}, "token": {g.access}})
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("legacy revoke: %v %v", err, resp)
			}
			return g.access
		}},
		{"Revoke on the owner's tokens page", func(t *testing.T, srv *testServer, g grant) string {
			b := newBrowser(t)
			_, page := b.signIn(srv.base+"auth/tokens", ownerPassword)
			f := findForm(t, page, "/auth/tokens/revoke")
			sum := sha256.Sum256([]byte(g.access))
			tok, err := srv.db.TokenByHash(context.Background(), sum[:])
			if err != nil {
				t.Fatal(err)
			}
			f.fields.Set("id", strconv.FormatInt(tok.ID, 10)) // the button of the grant's token
			if resp, _ := b.submit(f.action, f.fields); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("revoke: %d", resp.StatusCode)
			}
			return g.access
		}},
		{"refresh rotation revokes the old access token", func(t *testing.T, srv *testServer, g grant) string {
			status, _ := exchange(t, srv.base+"token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "client_id": {appID}})
			if status != http.StatusOK {
				t.Fatalf("refresh: %d", status)
			}
			return g.access
		}},
		{"a replayed refresh token revokes the whole grant", func(t *testing.T, srv *testServer, g grant) string {
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}, "client_id": {appID}}
			_, next := exchange(t, srv.base+"token", refresh)
			newest := next["access_token"].(string)
			if resp, _ := srv.post("application/x-www-form-urlencoded", "content=cached", newest); resp.StatusCode != http.StatusCreated {
				t.Fatalf("the rotated token: %d", resp.StatusCode)
			}
			exchange(t, srv.base+"token", refresh) // the replay
			return newest
		}},
		{"a replayed code revokes its tokens", func(t *testing.T, srv *testServer, g grant) string {
			exchange(t, srv.base+"token", redeemFields(g.code))
			return g.access
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newAuthServer(t, &fakeWeb{})
			code := approvedCode(t, srv, "create", "")
			status, tok := exchange(t, srv.base+"token", redeemFields(code))
			if status != http.StatusOK {
				t.Fatalf("%d %v", status, tok)
			}
			g := grant{access: tok["access_token"].(string), refresh: tok["refresh_token"].(string), code: code}
			for range 2 { // the second use is answered from the cache
				if resp, body := srv.post("application/x-www-form-urlencoded", "content=before", g.access); resp.StatusCode != http.StatusCreated {
					t.Fatalf("before revoking: %d %s", resp.StatusCode, body)
				}
			}
			stopped := c.revoke(t, srv, g)
			resp, body := srv.post("application/x-www-form-urlencoded", "content=after", stopped)
			wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
			resp, body = srv.get(srv.base+"micropub?q=config", stopped)
			wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
		})
	}
}
