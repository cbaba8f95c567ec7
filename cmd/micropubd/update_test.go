package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd/micropub/micropubtest"
)

// helloWorld is the post the update and delete fixtures act on.
const helloWorld = "h=entry&mp-slug=hello-world&published=2026-01-10T09:00:00%2B01:00&content=hello+world" +
	"&category=indieweb&category=micropub&syndication=https://social.example/@me/1"

// sendFixture sends a request fixture to the server.
func sendFixture(t *testing.T, srv *testServer, name string) (*http.Response, []byte) {
	t.Helper()
	fixtures, err := micropubtest.Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		if f.Name != name {
			continue
		}
		req, err := f.Request(srv.token, srv.base)
		if err != nil {
			t.Fatal(err)
		}
		req.URL, _ = url.Parse(srv.base + "micropub")
		req.RequestURI, req.Host = "", ""
		return srv.do(req)
	}
	t.Fatalf("no fixture %s", name)
	return nil, nil
}

func TestUpdate_FixturesChangeThePost(t *testing.T) {
	updated := []any{testNow.Format("2006-01-02T15:04:05Z07:00")}
	base := map[string]any{
		"content":     []any{"hello world"},
		"category":    []any{"indieweb", "micropub"},
		"syndication": []any{"https://social.example/@me/1"},
		"published":   []any{"2026-01-10T09:00:00+01:00"},
	}
	with := func(changes map[string]any) map[string]any {
		out := map[string]any{"updated": updated}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		fixture string
		want    map[string]any
	}{
		{"37-json-update-replace", with(map[string]any{"content": []any{"hello moon"}})},
		{"38-json-update-add", with(map[string]any{
			"syndication": []any{"https://social.example/@me/1", "https://social.example/@me/115000000000000001"},
			"category":    []any{"indieweb", "micropub", "added"},
		})},
		{"39-json-update-delete-list", with(map[string]any{"category": nil})},
		{"40-json-update-delete-values", with(map[string]any{"category": []any{"micropub"}})},
		{"41-json-update-all", with(map[string]any{
			"content":     []any{"replaced content"},
			"category":    []any{"indieweb", "micropub", "new-tag"},
			"syndication": nil,
		})},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			srv := newTestServer(t)
			loc := srv.create(helloWorld)
			if loc != srv.base+"2026/01/hello-world" {
				t.Fatalf("Location = %s, want %s2026/01/hello-world", loc, srv.base)
			}
			resp, body := sendFixture(t, srv, tt.fixture)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("update: %d %s", resp.StatusCode, body)
			}
			got := srv.source(loc)["properties"]
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("after update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdate_MalformedOrInvalidChangesNothing(t *testing.T) {
	srv := newTestServer(t)
	loc := srv.create(helloWorld)
	before := srv.source(loc)
	tests := []struct{ name, body string }{
		{"replace is text", `{"action":"update","url":"` + loc + `","replace":"text"}`},
		{"add value not a list", `{"action":"update","url":"` + loc + `","add":{"category":"x"}}`},
		{"valid replace with invalid delete", `{"action":"update","url":"` + loc + `","replace":{"content":["lost"]},"delete":"category"}`},
		{"bad post-status", `{"action":"update","url":"` + loc + `","replace":{"content":["lost"],"post-status":["sideways"]}}`},
		{"bad published", `{"action":"update","url":"` + loc + `","replace":{"published":["yesterday"]}}`},
		{"unknown post", `{"action":"update","url":"` + srv.base + `2026/01/nope","replace":{"content":["x"]}}`},
		{"other site", `{"action":"update","url":"https://elsewhere.example/2026/01/hello-world","replace":{"content":["x"]}}`},
		{"form-encoded update of a nested value", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			if tt.body == "" {
				resp, body = srv.postForm("action=update&url=" + url.QueryEscape(loc) + "&replace[location][properties][name]=x")
			} else {
				resp, body = srv.postJSON(tt.body)
			}
			wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
			if diff := cmp.Diff(before, srv.source(loc)); diff != "" {
				t.Errorf("a rejected update changed the post (-before +after):\n%s", diff)
			}
		})
	}
}

func TestUpdate_NewSlugMovesThePostAndKeepsTheOldURL(t *testing.T) {
	srv := newTestServer(t)
	loc := srv.create(helloWorld)
	resp, body := srv.postJSON(`{"action":"update","url":"` + loc + `","replace":{"mp-slug":["Hello Again!"]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	moved := resp.Header.Get("Location")
	if moved != srv.base+"2026/01/hello-again" {
		t.Fatalf("Location = %s", moved)
	}
	if resp, _ := srv.get(moved, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("GET new URL = %d", resp.StatusCode)
	}
	resp, _ = srv.get(loc, "")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != moved {
		t.Errorf("GET old URL = %d to %q, want 301 to the new URL", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The old URL still names the post for Micropub.
	if got := srv.source(loc)["properties"].(map[string]any)["content"]; !cmp.Equal(got, []any{"hello world"}) {
		t.Errorf("q=source by the old URL: content = %v", got)
	}
}

func TestUpdate_DeletedPostIsRefused(t *testing.T) {
	srv := newTestServer(t)
	loc := srv.create(helloWorld)
	if resp, body := srv.postForm("action=delete&url=" + url.QueryEscape(loc)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	resp, body := srv.postJSON(`{"action":"update","url":"` + loc + `","replace":{"content":["x"]}}`)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
}

func TestDelete_FixturesDeleteAndUndelete(t *testing.T) {
	for _, pair := range [][2]string{{"20-form-delete", "21-form-undelete"}, {"42-json-delete", "43-json-undelete"}} {
		t.Run(pair[0], func(t *testing.T) {
			srv := newTestServer(t)
			loc := srv.create(helloWorld)
			if resp, body := sendFixture(t, srv, pair[0]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("delete: %d %s", resp.StatusCode, body)
			}
			if resp, _ := srv.get(loc, ""); resp.StatusCode != http.StatusGone {
				t.Errorf("GET deleted post = %d, want 410", resp.StatusCode)
			}
			if resp, _ := srv.get(loc, srv.token); resp.StatusCode != http.StatusGone {
				t.Errorf("GET deleted post as owner = %d, want 410", resp.StatusCode)
			}
			if items := srv.query(url.Values{"q": {"source"}})["items"].([]any); len(items) != 0 {
				t.Errorf("the deleted post is still listed: %v", items)
			}
			if resp, body := sendFixture(t, srv, pair[1]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("undelete: %d %s", resp.StatusCode, body)
			}
			if resp, _ := srv.get(loc, ""); resp.StatusCode != http.StatusOK {
				t.Errorf("GET undeleted post = %d, want 200 at the same URL", resp.StatusCode)
			}
		})
	}
}
