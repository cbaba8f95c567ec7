package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
)

// feedFormats are the three feeds and how a parsed item carries its HTML content.
var feedFormats = []struct {
	name, file, contentType string
	html                    func(*gofeed.Item) string
}{
	{"RSS 2.0", "feed.xml", "application/rss+xml; charset=utf-8", func(it *gofeed.Item) string { return it.Description }},
	{"Atom 1.0", "feed.atom", "application/atom+xml; charset=utf-8", func(it *gofeed.Item) string { return it.Content }},
	{"JSON Feed 1.1", "feed.json", "application/feed+json; charset=utf-8", func(it *gofeed.Item) string { return it.Content }},
}

// fetchFeed gets a feed and parses it with gofeed, checking XML feeds are well-formed.
func fetchFeed(t *testing.T, srv *testServer, feedURL, wantType string) *gofeed.Feed {
	t.Helper()
	resp, body := srv.get(feedURL, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", feedURL, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != wantType {
		t.Errorf("%s Content-Type = %q, want %q", feedURL, ct, wantType)
	}
	if strings.HasSuffix(feedURL, ".xml") || strings.HasSuffix(feedURL, ".atom") {
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not well-formed XML: %v\n%s", feedURL, err, body)
			}
		}
	}
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("gofeed cannot parse %s: %v\n%s", feedURL, err, body)
	}
	return f
}

// wantItem is what a feed item must carry of a post.
type wantItem struct {
	url, title    string
	htmlHas       []string
	published     string // RFC 3339 with the offset posted
	updated       string
	categories    []string
	enclosureURL  string
	enclosureType string
	enclosureLen  string
}

func TestFeeds_EveryFormatCarriesEveryPostAsPosted(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.Photo = "https://photos.example/me.jpg" })
	png := readFixture(t, fixtureDir+"/media/pixel.png")
	resp, body := srv.upload(srv.token, "pixel.png", "image/png", png, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	photo := resp.Header.Get("Location")

	// Older filler first, so that the posts under test are the newest 20 of 24.
	for i := 1; i <= 20; i++ {
		srv.create(fmt.Sprintf("content=filler+%d&published=2025-01-%02dT08:00:00Z", i, i))
	}
	note := srv.create("content=" + url.QueryEscape("A note with a photo") + "&category=cats&category=" + url.QueryEscape("black & white") +
		"&photo=" + url.QueryEscape(photo) + "&published=" + url.QueryEscape("2026-02-01T10:00:00+05:30"))
	article := srv.create("name=" + url.QueryEscape(`<b>Bold</b> & "quoted" title`) + "&content[html]=" +
		url.QueryEscape(`<p>First paragraph.</p><p>Second <script>alert(1)</script>paragraph.</p>`) + "&published=2026-02-02T09:00:00-08:00")
	unsafe := srv.create("content=" + url.QueryEscape("control \x01\x0b\x1b characters and \uFFFE ]]> end") + "&published=2026-02-03T00:00:00Z")
	video := srv.create("content=clip&video=" + url.QueryEscape("https://cdn.example/clip.mp4") + "&published=2026-02-04T00:00:00Z")
	srv.create("content=draft&post-status=draft&published=2026-03-01T00:00:00Z")
	srv.create("content=private&visibility=private&published=2026-03-01T00:00:00Z")
	srv.create("content=unlisted&visibility=unlisted&published=2026-03-01T00:00:00Z")
	if resp, body := srv.postJSON(`{"action":"update","url":"` + article + `","replace":{"content":[{"html":"<p>First paragraph.</p><p>Edited.</p>"}]}}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}

	want := []wantItem{
		{url: video, htmlHas: []string{"<p>clip</p>", `<video class="u-video" src="https://cdn.example/clip.mp4"`},
			published: "2026-02-04T00:00:00Z", enclosureURL: "https://cdn.example/clip.mp4", enclosureType: "video/mp4", enclosureLen: "0"},
		{url: unsafe, htmlHas: []string{"control", "characters and", "]]&gt; end"}, published: "2026-02-03T00:00:00Z"},
		{url: article, title: `<b>Bold</b> & "quoted" title`, htmlHas: []string{"<p>First paragraph.</p>", "<p>Edited.</p>"},
			published: "2026-02-02T09:00:00-08:00", updated: testNow.Format(time.RFC3339)},
		{url: note, htmlHas: []string{"<p>A note with a photo</p>", `<img class="u-photo" src="` + photo + `"`},
			published: "2026-02-01T10:00:00+05:30", categories: []string{"cats", "black & white"},
			enclosureURL: photo, enclosureType: "image/png", enclosureLen: strconv.Itoa(len(png))},
	}
	for _, ff := range feedFormats {
		t.Run(ff.name, func(t *testing.T) {
			f := fetchFeed(t, srv, srv.base+ff.file, ff.contentType)
			if f.Title != "Test Owner" || strings.TrimSuffix(f.Link, "/") != strings.TrimSuffix(srv.base, "/") {
				t.Errorf("feed title %q, link %q", f.Title, f.Link)
			}
			if len(f.Items) != 20 {
				t.Fatalf("%d items, want the newest 20", len(f.Items))
			}
			for _, it := range f.Items {
				for _, hidden := range []string{"draft", "private", "unlisted"} {
					if strings.Contains(ff.html(it), "<p>"+hidden+"</p>") {
						t.Errorf("the feed has the %s post", hidden)
					}
				}
			}
			for i, w := range want {
				it := f.Items[i]
				if it.Link != w.url || it.GUID != w.url {
					t.Errorf("item %d link %q, id %q; want %s", i, it.Link, it.GUID, w.url)
					continue
				}
				if it.Title != w.title {
					t.Errorf("%s title = %q, want %q", w.url, it.Title, w.title)
				}
				html := ff.html(it)
				for _, s := range w.htmlHas {
					if !strings.Contains(html, s) {
						t.Errorf("%s content lacks %q:\n%s", w.url, s, html)
					}
				}
				if strings.Contains(html, "<script") || strings.ContainsAny(html, "\x01\x0b\x1b") {
					t.Errorf("%s content is not sanitised: %q", w.url, html)
				}
				checkTime(t, w.url+" published", it.Published, w.published)
				if w.updated != "" {
					checkTime(t, w.url+" updated", it.Updated, w.updated)
				}
				if diff := cmp.Diff(w.categories, it.Categories); w.categories != nil && diff != "" {
					t.Errorf("%s categories (-want +got):\n%s", w.url, diff)
				}
				if w.enclosureURL != "" {
					if len(it.Enclosures) == 0 {
						t.Errorf("%s has no enclosure", w.url)
						continue
					}
					e := it.Enclosures[0]
					length := e.Length
					if length == "" {
						length = "0"
					}
					if e.URL != w.enclosureURL || e.Type != w.enclosureType || length != w.enclosureLen {
						t.Errorf("%s enclosure = %+v, want %s %s %s", w.url, *e, w.enclosureURL, w.enclosureType, w.enclosureLen)
					}
				}
			}
		})
	}
}

// checkTime compares a feed's time, as written (RFC 3339, or RFC 1123 in RSS), with an RFC
// 3339 one, offset included: gofeed's parsed times are all in UTC.
func checkTime(t *testing.T, what string, raw string, want string) {
	t.Helper()
	w, _ := time.Parse(time.RFC3339, want)
	got, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		got, err = time.Parse(time.RFC1123Z, raw)
	}
	if err != nil {
		t.Errorf("%s: %q is not a time, want %s", what, raw, want)
		return
	}
	_, gotOff := got.Zone()
	_, wantOff := w.Zone()
	if !got.Equal(w) || gotOff != wantOff {
		t.Errorf("%s = %s, want %s (with its offset)", what, got.Format(time.RFC3339), want)
	}
}

func TestFeeds_AnswerConditionalRequests(t *testing.T) {
	srv := newTestServer(t)
	srv.create("content=first")
	for _, ff := range feedFormats {
		t.Run(ff.name, func(t *testing.T) {
			resp, _ := srv.get(srv.base+ff.file, "")
			etag, modified := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
			if etag == "" || modified == "" {
				t.Fatalf("ETag %q, Last-Modified %q", etag, modified)
			}
			conditional := func(header, value string) int {
				req, _ := http.NewRequest(http.MethodGet, srv.base+ff.file, nil)
				req.Header.Set(header, value)
				resp, body := srv.do(req)
				if resp.StatusCode == http.StatusNotModified && len(body) > 0 {
					t.Errorf("a 304 with a body")
				}
				return resp.StatusCode
			}
			if got := conditional("If-None-Match", etag); got != http.StatusNotModified {
				t.Errorf("If-None-Match with the ETag: %d, want 304", got)
			}
			if got := conditional("If-Modified-Since", modified); got != http.StatusNotModified {
				t.Errorf("If-Modified-Since Last-Modified: %d, want 304", got)
			}
			if got := conditional("If-None-Match", `"something-else"`); got != http.StatusOK {
				t.Errorf("If-None-Match with another ETag: %d, want 200", got)
			}
		})
	}
	before, _ := srv.get(srv.base+"feed.json", "")
	time.Sleep(1100 * time.Millisecond) // Last-Modified has whole seconds
	srv.create("content=second")
	for _, h := range []struct{ name, value string }{
		{"If-None-Match", before.Header.Get("ETag")},
		{"If-Modified-Since", before.Header.Get("Last-Modified")},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.base+"feed.json", nil)
		req.Header.Set(h.name, h.value)
		if resp, body := srv.do(req); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "second") {
			t.Errorf("%s after a new post: %d, want 200 with the new post", h.name, resp.StatusCode)
		}
	}
}

func TestFeeds_PerTagFeedsHoldOnlyTheirTag(t *testing.T) {
	srv := newTestServer(t)
	a1 := srv.create("content=a1&category=alpha&published=2026-01-01T00:00:00Z")
	srv.create("content=b1&category=beta&published=2026-01-02T00:00:00Z")
	a2 := srv.create("content=a2&category=alpha&category=beta&published=2026-01-03T00:00:00Z")
	slash := srv.create("content=s1&category=" + url.QueryEscape("c/d e") + "&published=2026-01-04T00:00:00Z")
	tests := []struct {
		tag  string
		want []string
	}{
		{"alpha", []string{a2, a1}},
		{"c/d e", []string{slash}},
	}
	for _, tt := range tests {
		for _, ff := range feedFormats {
			t.Run(tt.tag+" "+ff.name, func(t *testing.T) {
				f := fetchFeed(t, srv, srv.base+"tags/"+url.PathEscape(tt.tag)+"/"+ff.file, ff.contentType)
				var got []string
				for _, it := range f.Items {
					got = append(got, it.Link)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("items (-want +got):\n%s", diff)
				}
				if !strings.Contains(f.Title, "#"+tt.tag) {
					t.Errorf("title %q does not name the tag", f.Title)
				}
			})
		}
	}
	for _, path := range []string{"tags/nothing/feed.xml", "tags/alpha/feed.html", "tags/alpha/feed.json/more"} {
		if resp, _ := srv.get(srv.base+path, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /%s = %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestFeeds_AdvertisedOnEveryPageWithASubscribeLink(t *testing.T) {
	srv := newTestServer(t)
	post := srv.create("content=hello&category=news")
	pages := map[string]int{
		srv.base:               http.StatusOK,
		post:                   http.StatusOK,
		srv.base + "tags/news": http.StatusOK,
		srv.base + "nothing":   http.StatusNotFound,
	}
	for page, status := range pages {
		resp, body := srv.get(page, "")
		if resp.StatusCode != status {
			t.Errorf("GET %s = %d, want %d", page, resp.StatusCode, status)
		}
		u, _ := url.Parse(page)
		for _, want := range []string{
			`<link rel="alternate" type="application/rss&#43;xml" title="Test Owner (RSS)" href="` + srv.base + `feed.xml">`,
			`<link rel="alternate" type="application/atom&#43;xml" title="Test Owner (Atom)" href="` + srv.base + `feed.atom">`,
			`<link rel="alternate" type="application/feed&#43;json" title="Test Owner (JSON Feed)" href="` + srv.base + `feed.json">`,
			`>Subscribe</a>`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s lacks %s", u.Path, want)
			}
		}
	}
	_, body := srv.get(srv.base+"tags/news", "")
	if !strings.Contains(string(body), `href="`+srv.base+`tags/news/feed.xml"`) {
		t.Error("the tag page does not advertise its own feed")
	}
}
