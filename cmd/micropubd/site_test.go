package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"willnorris.com/go/microformats"
)

func TestSite_HomepageAnswersAndAdvertisesItsEndpoints(t *testing.T) {
	srv := newTestServer(t)
	endpoints := map[string]string{
		"indieauth-metadata":     srv.base + ".well-known/oauth-authorization-server",
		"authorization_endpoint": srv.base + "auth",
		"token_endpoint":         srv.base + "token",
		"micropub":               srv.base + "micropub",
		"webmention":             srv.base + "webmention",
	}
	wantLinks := []string{
		`<` + srv.base + `feed.xml>; rel="alternate"; type="application/rss+xml"; title="Test Owner (RSS)"`,
		`<` + srv.base + `feed.atom>; rel="alternate"; type="application/atom+xml"; title="Test Owner (Atom)"`,
		`<` + srv.base + `feed.json>; rel="alternate"; type="application/feed+json"; title="Test Owner (JSON Feed)"`,
	}
	for _, rel := range []string{"indieauth-metadata", "authorization_endpoint", "token_endpoint", "micropub", "webmention"} {
		wantLinks = append(wantLinks, `<`+endpoints[rel]+`>; rel="`+rel+`"`)
	}
	for _, path := range []string{"", "?v=123", "?page=nonsense"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, srv.base+path, nil)
			resp, body := srv.do(req)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s /%s = %d, want 200", method, path, resp.StatusCode)
			}
			if diff := cmp.Diff(wantLinks, resp.Header.Values("Link")); diff != "" {
				t.Errorf("%s /%s Link headers (-want +got):\n%s", method, path, diff)
			}
			if method == http.MethodGet {
				u, _ := url.Parse(srv.base)
				rels := microformats.Parse(bytes.NewReader(body), u).Rels
				for rel, href := range endpoints {
					if !cmp.Equal(rels[rel], []string{href}) {
						t.Errorf("<link rel=%s> = %v, want %s", rel, rels[rel], href)
					}
				}
			}
		}
	}
}

func TestSite_HomepageFeedShowsPublicPostsNewestFirst(t *testing.T) {
	srv := newTestServer(t)
	var public []string
	for i := 1; i <= 25; i++ {
		public = append([]string{srv.create(fmt.Sprintf("content=public+%d&published=2026-01-%02dT08:00:00Z", i, i))}, public...)
	}
	srv.create("content=draft&post-status=draft&published=2026-02-01T00:00:00Z")
	srv.create("content=private&visibility=private&published=2026-02-01T00:00:00Z")
	unlisted := srv.create("content=unlisted&visibility=unlisted&published=2026-02-01T00:00:00Z")

	feed := func(page string) ([]string, map[string]any) {
		_, body := srv.get(srv.base+page, "")
		u, _ := url.Parse(srv.base)
		data := microformats.Parse(bytes.NewReader(body), u)
		var card map[string]any
		var urls []string
		for _, it := range data.Items {
			switch it.Type[0] {
			case "h-card":
				card = map[string]any{"name": it.Properties["name"], "url": it.Properties["url"]}
			case "h-feed":
				for _, e := range it.Children {
					urls = append(urls, e.Properties["url"][0].(string))
				}
			}
		}
		return urls, card
	}
	first, card := feed("")
	if diff := cmp.Diff(map[string]any{"name": []any{"Test Owner"}, "url": []any{srv.base}}, card); diff != "" {
		t.Errorf("homepage h-card (-want +got):\n%s", diff)
	}
	second, _ := feed("?page=2")
	if diff := cmp.Diff(public, append(first, second...)); diff != "" {
		t.Errorf("feed pages 1+2 (-want +got):\n%s", diff)
	}
	if len(first) != 20 {
		t.Errorf("page 1 has %d entries, want 20", len(first))
	}
	if resp, _ := srv.get(unlisted, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("unlisted post by URL = %d, want 200", resp.StatusCode)
	}
}

func TestSite_PrivateAndDraftPostsNeedTheOwner(t *testing.T) {
	srv := newTestServer(t)
	for _, body := range []string{"content=draft&post-status=draft", "content=private&visibility=private"} {
		loc := srv.create(body)
		if resp, page := srv.get(loc, ""); resp.StatusCode != http.StatusNotFound || bytes.Contains(page, []byte(strings.Split(body, "&")[0][8:])) {
			t.Errorf("%s anonymously: %d", body, resp.StatusCode)
		}
		if resp, _ := srv.get(loc, "mpd_wrong"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with a wrong token: %d", body, resp.StatusCode)
		}
		resp, _ := srv.get(loc, srv.token)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s as the owner: %d", body, resp.StatusCode)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
			t.Errorf("%s Cache-Control = %q", body, cc)
		}
	}
	if resp, _ := srv.get(srv.base+"2026/01/never-posted", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

func TestSite_ContentIsSanitisedAndEscaped(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name, contentType, body string
		mustNot, must           []string
	}{
		{
			"html content", "application/json",
			`{"type":["h-entry"],"properties":{"content":[{"html":"<p onclick=\"x()\">Hi <script>alert(1)</script><a href=\"javascript:alert(2)\">link</a><img src=x onerror=alert(3)></p>"}]}}`,
			[]string{"<script", "onclick", "javascript:", "onerror"}, []string{"<p>Hi "},
		},
		{
			"text content", "application/x-www-form-urlencoded",
			"content=" + url.QueryEscape("<b>not bold</b>\nsecond line\n\nnew paragraph https://example.org/a?b=c&d=e"),
			[]string{"<b>not bold"}, []string{"&lt;b&gt;not bold&lt;/b&gt;<br>", "<p>new paragraph", `<a href="https://example.org/a?b=c&amp;d=e">`},
		},
		{
			"name and category", "application/x-www-form-urlencoded",
			"content=x&name=" + url.QueryEscape(`<img src=x onerror=alert(1)>`) + "&category=" + url.QueryEscape(`"><script>`),
			[]string{"<img src=x", "<script>"}, []string{"&lt;img src=x onerror=alert(1)&gt;"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, out := srv.post(tt.contentType, tt.body, srv.token)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			_, page := srv.get(resp.Header.Get("Location"), "")
			for _, s := range tt.mustNot {
				if bytes.Contains(page, []byte(s)) {
					t.Errorf("the page contains %q", s)
				}
			}
			for _, s := range tt.must {
				if !bytes.Contains(page, []byte(s)) {
					t.Errorf("the page lacks %q:\n%s", s, page)
				}
			}
		})
	}
}

func TestSite_CheckinAtAVenueOfTheSiteRendersTheVenue(t *testing.T) {
	srv := newTestServer(t)
	venue := srv.create("h=card&name=Ford+Food+and+Drink&url=http://www.fordfoodanddrink.com/&locality=Portland&geo=geo:45.5048473,-122.6549551")
	_, page := srv.get(venue, "")
	item := pageItem(t, page, venue)
	if diff := cmp.Diff([]any{"h-card"}, item["type"]); diff != "" {
		t.Errorf("venue page type (-want +got):\n%s", diff)
	}
	props := item["properties"].(map[string]any)
	if !cmp.Equal(props["uid"], []any{venue}) || !cmp.Equal(props["url"], []any{"http://www.fordfoodanddrink.com/"}) {
		t.Errorf("venue url/uid = %v / %v", props["url"], props["uid"])
	}

	entry := srv.create("h=entry&name=Working+on+Micropub&location=" + url.QueryEscape(venue))
	_, page = srv.get(entry, "")
	loc := pageItem(t, page, entry)["properties"].(map[string]any)["location"].([]any)[0].(map[string]any)
	want := map[string]any{
		"type":       []any{"h-card"},
		"properties": map[string]any{"name": []any{"Ford Food and Drink"}, "url": []any{venue}},
		"value":      "Ford Food and Drink",
	}
	if diff := cmp.Diff(want, loc); diff != "" {
		t.Errorf("location on the entry page (-want +got):\n%s", diff)
	}
}
