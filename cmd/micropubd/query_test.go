package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuery_Config(t *testing.T) {
	srv := newTestServer(t)
	srv.create("content=a&category=cats&category=dogs")
	got := srv.query(url.Values{"q": {"config"}})
	if got["media-endpoint"] != srv.base+"micropub/media" {
		t.Errorf("media-endpoint = %v", got["media-endpoint"])
	}
	wantLists := map[string][]any{
		"q":           {"config", "source", "syndicate-to", "category", "post-types"},
		"visibility":  {"public", "unlisted", "private"},
		"post-status": {"published", "draft"},
		"categories":  {"cats", "dogs"},
	}
	for key, want := range wantLists {
		if diff := cmp.Diff(want, got[key]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", key, diff)
		}
	}
	wantTargets := []any{
		map[string]any{"uid": "https://social.example/@me", "name": "Mastodon"},
		map[string]any{"uid": "https://bsky.example/profile/me", "name": "Bluesky"},
	}
	if diff := cmp.Diff(wantTargets, got["syndicate-to"]); diff != "" {
		t.Errorf("syndicate-to (-want +got):\n%s", diff)
	}
	if types, _ := got["post-types"].([]any); len(types) < 10 {
		t.Errorf("post-types = %v", got["post-types"])
	}
}

func TestQuery_SyndicateToIsAnEmptyListWhenNone(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.SyndicateTo = nil })
	if diff := cmp.Diff(map[string]any{"syndicate-to": []any{}}, srv.query(url.Values{"q": {"syndicate-to"}})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	resp, body := srv.postForm("content=x&mp-syndicate-to=https://unknown.example/")
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
}

func TestQuery_SourceFiltersProperties(t *testing.T) {
	srv := newTestServer(t)
	loc := srv.create("content=hello&category=a&category=b&name=Title&location=geo:1,2")
	got := srv.query(url.Values{"q": {"source"}, "url": {loc}, "properties[]": {"content", "category", "missing"}})
	want := map[string]any{"properties": map[string]any{"content": []any{"hello"}, "category": []any{"a", "b"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got = srv.query(url.Values{"q": {"source"}, "url": {loc}, "properties": {"name"}})
	if diff := cmp.Diff(map[string]any{"properties": map[string]any{"name": []any{"Title"}}}, got); diff != "" {
		t.Errorf("properties=name (-want +got):\n%s", diff)
	}
}

func TestQuery_SourceOfHTMLContentIsAnHTMLObject(t *testing.T) {
	srv := newTestServer(t)
	resp, body := srv.postJSON(`{"type":["h-entry"],"properties":{"content":[{"html":"<p>Hi <em>there</em></p>"}]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	got := srv.source(resp.Header.Get("Location"))["properties"].(map[string]any)["content"]
	if diff := cmp.Diff([]any{map[string]any{"html": "<p>Hi <em>there</em></p>"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestQuery_SourceErrors(t *testing.T) {
	srv := newTestServer(t)
	for _, u := range []string{srv.base + "2026/01/nothing", "https://elsewhere.example/2026/01/x", "not a url"} {
		resp, body := srv.get(srv.base+"micropub?q=source&url="+url.QueryEscape(u), srv.token)
		wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	}
	resp, body := srv.get(srv.base+"micropub?q=nonsense", srv.token)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	resp, body = srv.get(srv.base+"micropub?q=source&after=garbage", srv.token)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	resp, body = srv.get(srv.base+"micropub?q=source&limit=-1", srv.token)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
}

// listURLs returns the urls of a q=source listing and its paging object.
func listURLs(t *testing.T, srv *testServer, params url.Values) ([]string, map[string]any) {
	t.Helper()
	params.Set("q", "source")
	got := srv.query(params)
	var urls []string
	for _, it := range got["items"].([]any) {
		urls = append(urls, it.(map[string]any)["properties"].(map[string]any)["url"].([]any)[0].(string))
	}
	return urls, got["paging"].(map[string]any)
}

func TestQuery_SourceListsNewestFirstWithPaging(t *testing.T) {
	srv := newTestServer(t)
	var all []string // newest first
	for i := 1; i <= 7; i++ {
		loc := srv.create(fmt.Sprintf("content=post+%d&mp-slug=p%d&published=2026-01-%02dT10:00:00Z", i, i, i))
		all = append([]string{loc}, all...)
	}
	// A draft, a private and an unlisted post, and an article.
	draft := srv.create("content=draft&post-status=draft&published=2026-02-01T00:00:00Z")
	private := srv.create("content=private&visibility=private&published=2026-02-02T00:00:00Z")
	unlisted := srv.create("content=unlisted&visibility=unlisted&published=2026-02-03T00:00:00Z")
	article := srv.create("name=An+Article&content=body&published=2026-02-04T00:00:00Z")

	everything, _ := listURLs(t, srv, url.Values{"limit": {"100"}})
	if diff := cmp.Diff(append([]string{article, unlisted, private, draft}, all...), everything); diff != "" {
		t.Errorf("full listing (-want +got):\n%s", diff)
	}

	// Cursor paging over notes: three pages of 3, 3, 1, and back.
	p1, paging := listURLs(t, srv, url.Values{"limit": {"3"}, "post-type": {"note"}, "visibility": {"public"}, "post-status": {"published"}})
	if diff := cmp.Diff(all[:3], p1); diff != "" {
		t.Errorf("page 1 (-want +got):\n%s", diff)
	}
	if _, ok := paging["before"]; ok {
		t.Errorf("page 1 has a before cursor: %v", paging)
	}
	p2, paging2 := listURLs(t, srv, url.Values{"limit": {"3"}, "post-type": {"note"}, "visibility": {"public"}, "post-status": {"published"}, "after": {paging["after"].(string)}})
	if diff := cmp.Diff(all[3:6], p2); diff != "" {
		t.Errorf("page 2 (-want +got):\n%s", diff)
	}
	p3, paging3 := listURLs(t, srv, url.Values{"limit": {"3"}, "post-type": {"note"}, "visibility": {"public"}, "post-status": {"published"}, "after": {paging2["after"].(string)}})
	if diff := cmp.Diff(all[6:], p3); diff != "" {
		t.Errorf("page 3 (-want +got):\n%s", diff)
	}
	if _, ok := paging3["after"]; ok {
		t.Errorf("the last page has an after cursor: %v", paging3)
	}
	back, _ := listURLs(t, srv, url.Values{"limit": {"3"}, "post-type": {"note"}, "visibility": {"public"}, "post-status": {"published"}, "before": {paging3["before"].(string)}})
	if diff := cmp.Diff(all[3:6], back); diff != "" {
		t.Errorf("before page 3 (-want +got):\n%s", diff)
	}

	// limit and offset.
	off, _ := listURLs(t, srv, url.Values{"limit": {"2"}, "offset": {"1"}, "post-type": {"note"}, "visibility": {"public"}, "post-status": {"published"}})
	if diff := cmp.Diff(all[1:3], off); diff != "" {
		t.Errorf("offset (-want +got):\n%s", diff)
	}

	// Filters.
	for _, tt := range []struct {
		params url.Values
		want   []string
	}{
		{url.Values{"post-status": {"draft"}}, []string{draft}},
		{url.Values{"visibility": {"private"}}, []string{private}},
		{url.Values{"visibility": {"unlisted"}}, []string{unlisted}},
		{url.Values{"post-type": {"article"}}, []string{article}},
	} {
		got, _ := listURLs(t, srv, tt.params)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.params, diff)
		}
	}
}

func TestQuery_CategoryWithFilter(t *testing.T) {
	srv := newTestServer(t)
	srv.create("content=a&category=indieweb&category=Micropub")
	srv.create("content=b&category=indieweb&category=cats")
	got := srv.query(url.Values{"q": {"category"}})
	if diff := cmp.Diff(map[string]any{"categories": []any{"indieweb", "Micropub", "cats"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got = srv.query(url.Values{"q": {"category"}, "filter": {"micro"}})
	if diff := cmp.Diff(map[string]any{"categories": []any{"Micropub"}}, got); diff != "" {
		t.Errorf("filter (-want +got):\n%s", diff)
	}
}

func TestQuery_PostTypes(t *testing.T) {
	srv := newTestServer(t)
	got := srv.query(url.Values{"q": {"post-types"}})
	types := got["post-types"].([]any)
	var names []string
	for _, pt := range types {
		names = append(names, pt.(map[string]any)["type"].(string))
	}
	for _, want := range []string{"note", "article", "photo", "reply", "like", "repost", "bookmark", "event", "checkin"} {
		if !contains(names, want) {
			t.Errorf("post-types lacks %s: %v", want, names)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestQuery_KeptAnswersFollowEveryWriteAndTheScopeCheck checks the post queries answered
// from memory: every write shows in the next answer, and a token that may not read posts is
// refused even when the answer is kept.
func TestQuery_KeptAnswersFollowEveryWriteAndTheScopeCheck(t *testing.T) {
	srv := newTestServer(t)
	first := srv.create("h=entry&content=First&category=kept")
	list := url.Values{"q": {"source"}, "limit": {"5"}}
	contents := func() []string {
		var out []string
		for _, it := range srv.query(list)["items"].([]any) {
			props := it.(map[string]any)["properties"].(map[string]any)
			out = append(out, fmt.Sprint(props["content"]))
		}
		return out
	}
	for range 2 { // the second answer is the kept one
		if got := contents(); !cmp.Equal(got, []string{"[First]"}) {
			t.Fatalf("q=source: %v", got)
		}
	}
	second := srv.create("h=entry&content=Second&category=kept2")
	if got := contents(); !cmp.Equal(got, []string{"[Second]", "[First]"}) {
		t.Errorf("after a create: %v", got)
	}
	srv.postJSON(`{"action":"update","url":"` + first + `","replace":{"content":["First, edited"]}}`)
	if got := srv.source(first)["properties"].(map[string]any)["content"]; fmt.Sprint(got) != "[First, edited]" {
		t.Errorf("q=source&url after an update: %v", got)
	}
	if got := contents(); !cmp.Equal(got, []string{"[Second]", "[First, edited]"}) {
		t.Errorf("after an update: %v", got)
	}
	srv.postForm("action=delete&url=" + url.QueryEscape(second))
	if got := contents(); !cmp.Equal(got, []string{"[First, edited]"}) {
		t.Errorf("after a delete: %v", got)
	}
	cats := srv.query(url.Values{"q": {"category"}})["categories"]
	if !cmp.Equal(cats, []any{"kept"}) {
		t.Errorf("q=category after the delete: %v", cats)
	}
	// The same query with the token in the URL is the same answer, and a media-only token is
	// refused it.
	resp, body := srv.get(srv.base+"micropub?q=source&limit=5&access_token="+url.QueryEscape(srv.token), "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "First, edited") {
		t.Errorf("q=source with access_token: %d %s", resp.StatusCode, body)
	}
	media := srv.mint("media")
	if resp, body := srv.get(srv.base+"micropub?q=source&limit=5", media); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a media token's q=source: %d %s, want 403", resp.StatusCode, body)
	}
	srv.query(url.Values{"q": {"config"}}) // kept for the tokens that read posts
	resp, body = srv.get(srv.base+"micropub?q=config", media)
	if cats := decodeJSON(t, body)["categories"]; resp.StatusCode != http.StatusOK || !cmp.Equal(cats, []any{}) {
		t.Errorf("a media token's q=config: %d, categories %v; want none", resp.StatusCode, cats)
	}
}
