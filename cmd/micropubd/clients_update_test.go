package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// storedPost reads a post straight from the database, for what q=source does not show
// (syndication targets, the updated column).
func (s *testServer) storedPost(postURL string) (syndicateTo []string, updated bool) {
	s.t.Helper()
	p, err := s.db.PostByPath(context.Background(), strings.Trim(strings.TrimPrefix(postURL, s.base), "/"))
	if err != nil {
		s.t.Fatal(err)
	}
	return p.SyndicateTo, !p.Updated.IsZero()
}

func TestClientUpdate_OwnYourSwarmEmptyArraysAreNoOperation(t *testing.T) {
	const photo = "https://fastly.4sqi.net/img/general/original/476_9ZsHTqj7nmPDAeE9ZMwn5hH9hhRQ2XC71CJgH3QD3rA.jpg"
	tests := []struct {
		fixture string
		changes map[string]any
	}{
		{"ownyourswarm-update-add-photo-replace-empty", map[string]any{"photo": []any{photo}}},
		{"ownyourswarm-update-shout-add-empty", map[string]any{"content": []any{"Coffee with @alice #sunday"}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			srv := newTestServer(t)
			loc := srv.create(helloWorld)
			before := srv.source(loc)["properties"].(map[string]any)
			resp, body := srv.sendRaw(tt.fixture, srv.token, map[string]string{"URL": jsonSlashes(loc)})
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("update: %d %s", resp.StatusCode, body)
			}
			want := map[string]any{"updated": []any{testNow.Format("2006-01-02T15:04:05Z07:00")}}
			for k, v := range before {
				want[k] = v
			}
			for k, v := range tt.changes {
				want[k] = v
			}
			if diff := cmp.Diff(want, srv.source(loc)["properties"]); diff != "" {
				t.Errorf("after the update (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientUpdate_MicropublishTopLevelCommands(t *testing.T) {
	// send creates a post syndicated to Mastodon, then sends the fixture to it.
	send := func(t *testing.T, fixture string, status int) (*testServer, string, *http.Response) {
		srv := newTestServer(t)
		loc := srv.create(helloWorld + "&mp-syndicate-to=https://social.example/@me")
		if targets, _ := srv.storedPost(loc); !slices.Equal(targets, []string{"https://social.example/@me"}) {
			t.Fatalf("targets after the create = %v", targets)
		}
		resp, body := srv.sendRaw(fixture, srv.token, map[string]string{"URL": loc})
		if resp.StatusCode != status {
			t.Fatalf("update: %d %s", resp.StatusCode, body)
		}
		return srv, loc, resp
	}
	t.Run("empty mp-syndicate-to clears the targets", func(t *testing.T) {
		srv, loc, _ := send(t, "micropublish-update-syndicate-none", http.StatusNoContent)
		if targets, _ := srv.storedPost(loc); len(targets) != 0 {
			t.Errorf("targets = %v, want none", targets)
		}
		props := srv.source(loc)["properties"].(map[string]any)
		if props["category"] != nil || !cmp.Equal(props["content"], []any{"hello again"}) {
			t.Errorf("replace and delete were not applied beside the command: %v", props)
		}
	})
	t.Run("mp-syndicate-to replaces the targets", func(t *testing.T) {
		srv, loc, _ := send(t, "micropublish-update-syndicate-other", http.StatusNoContent)
		if targets, _ := srv.storedPost(loc); !slices.Equal(targets, []string{"https://bsky.example/profile/me"}) {
			t.Errorf("targets = %v", targets)
		}
	})
	t.Run("mp-slug moves the post", func(t *testing.T) {
		srv, loc, resp := send(t, "micropublish-update-slug", http.StatusCreated)
		if resp.Header.Get("Location") != srv.base+"2026/01/hello-again" {
			t.Errorf("Location = %q", resp.Header.Get("Location"))
		}
		if resp, _ := srv.get(loc, ""); resp.StatusCode != http.StatusMovedPermanently {
			t.Errorf("the old URL answers %d, want 301", resp.StatusCode)
		}
	})
	t.Run("Micro.blog app's mp-destination is ignored", func(t *testing.T) {
		srv, loc, _ := send(t, "microblog-app-update-destination", http.StatusNoContent)
		if got := srv.source(loc)["properties"].(map[string]any)["name"]; !cmp.Equal(got, []any{"A title"}) {
			t.Errorf("name = %v", got)
		}
	})
}

func TestClientUpdate_NoOperationIsA204ThatWritesNothing(t *testing.T) {
	srv := newTestServer(t)
	loc := srv.create(helloWorld)
	before := srv.source(loc)
	resp, body := srv.sendRaw("micropublish-update-nothing", srv.token, map[string]string{"URL": loc})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if diff := cmp.Diff(before, srv.source(loc)); diff != "" {
		t.Errorf("a no-op update changed the post (-before +after):\n%s", diff)
	}
	if _, updated := srv.storedPost(loc); updated {
		t.Error("a no-op update set the updated time")
	}
	// Replacing a value with itself changes nothing either.
	resp, body = srv.postJSON(`{"action":"update","url":"` + loc + `","replace":{"content":["hello world"]}}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("same-value update: %d %s", resp.StatusCode, body)
	}
	if _, updated := srv.storedPost(loc); updated {
		t.Error("an update to the same value set the updated time")
	}
	// A no-op on a post that does not exist is still an error.
	resp, body = srv.postJSON(`{"action":"update","url":"` + srv.base + `2026/01/nope"}`)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
}
