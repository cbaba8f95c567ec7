package webmention

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/outbound"
)

func testService(t *testing.T) *Service {
	base, _ := url.Parse("https://me.example/")
	return New(Config{BaseURL: base, Outbound: outbound.Policy{AllowPrivate: true}}, nil, nil)
}

// TestDiscover_TheWebmentionRocksCases serves the discovery cases of webmention.rocks (tests
// 1 to 23, and a few more) and checks the endpoint found for each.
func TestDiscover_TheWebmentionRocksCases(t *testing.T) {
	type page struct {
		link, body, contentType string
		status                  int
	}
	cases := map[string]page{
		"1-link-header-relative":         {link: `</endpoint/1>; rel=webmention`},
		"2-link-header-absolute":         {link: `<{{BASE}}/endpoint/2>; rel=webmention`},
		"3-link-tag-relative":            {body: `<link rel="webmention" href="/endpoint/3">`},
		"4-link-tag-absolute":            {body: `<link rel="webmention" href="{{BASE}}/endpoint/4">`},
		"5-a-tag-relative":               {body: `<a rel="webmention" href="/endpoint/5">endpoint</a>`},
		"6-a-tag-absolute":               {body: `<a rel="webmention" href="{{BASE}}/endpoint/6">endpoint</a>`},
		"7-header-strange-casing":        {link: `<{{BASE}}/endpoint/7>; rel=webmention`},
		"8-header-quoted-rel":            {link: `<{{BASE}}/endpoint/8>; rel="webmention"`},
		"9-multiple-rel-values":          {body: `<link rel="webmention somethingelse" href="/endpoint/9">`},
		"10-header-multiple-rels":        {link: `<{{BASE}}/endpoint/10>; rel="webmention somethingelse"`},
		"11-header-and-tags-header-wins": {link: `</endpoint/11>; rel="webmention"`, body: `<link rel="webmention" href="/wrong"><a rel="webmention" href="/wrong">x</a>`},
		"12-rel-not-webmention":          {body: `<link rel="not-webmention" href="/wrong"><link rel="webmention" href="/endpoint/12">`},
		"13-link-in-a-comment":           {body: `<!-- <link rel="webmention" href="/wrong"> --><link rel="webmention" href="/endpoint/13">`},
		"14-link-in-escaped-code":        {body: `<code>&lt;link rel="webmention" href="/wrong"&gt;</code><link rel="webmention" href="/endpoint/14">`},
		"15-empty-href-is-the-page":      {body: `<link rel="webmention" href="">`},
		"16-a-before-link":               {body: `<a href="/endpoint/16" rel="webmention">x</a><link rel="webmention" href="/wrong">`},
		"17-link-before-a":               {body: `<link rel="webmention" href="/endpoint/17"><a href="/wrong" rel="webmention">x</a>`},
		"18-multiple-link-headers":       {link: `</endpoint/18>; rel="webmention", </wrong>; rel="other"`},
		"19-one-header-several-links":    {link: `</wrong>; rel="other", </endpoint/19>; rel="webmention"`},
		"20-a-without-href":              {body: `<link rel="webmention"><a rel="webmention" href="/endpoint/20">x</a>`},
		"21-endpoint-with-query":         {body: `<link rel="webmention" href="/endpoint/21?query=yes">`},
		"22-relative-to-the-page":        {body: `<link rel="webmention" href="22/endpoint">`},
		"none":                           {body: `<p>No endpoint here.</p>`},
		"comma-inside-the-url":           {link: `</endpoint/a,b>; rel="webmention"`},
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/23/redirect" {
			http.Redirect(w, r, "/23/page/", http.StatusFound)
			return
		}
		if r.URL.Path == "/23/page/" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<link rel="webmention" href="webmention-endpoint">`)
			return
		}
		c, ok := cases[strings.TrimPrefix(r.URL.Path, "/test/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if c.link != "" {
			w.Header().Set("Link", strings.ReplaceAll(c.link, "{{BASE}}", srv.URL))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><head><title>Test page</title>"+strings.ReplaceAll(c.body, "{{BASE}}", srv.URL)+"</head></html>")
	}))
	defer srv.Close()
	s := testService(t)
	want := map[string]string{"none": "", "15-empty-href-is-the-page": srv.URL + "/test/15-empty-href-is-the-page",
		"22-relative-to-the-page": srv.URL + "/test/22/endpoint", "comma-inside-the-url": srv.URL + "/endpoint/a,b"}
	for name := range cases {
		if _, ok := want[name]; !ok {
			want[name] = srv.URL + "/endpoint/" + strings.SplitN(name, "-", 2)[0]
		}
	}
	want["21-endpoint-with-query"] += "?query=yes"
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			got, title, err := s.discover(context.Background(), srv.URL+"/test/"+name)
			if err != nil || got != w {
				t.Errorf("endpoint = %q, %v; want %q", got, err, w)
			}
			if title != "Test page" {
				t.Errorf("title = %q", title)
			}
		})
	}
	t.Run("23-relative-to-the-page-after-a-redirect", func(t *testing.T) {
		got, _, err := s.discover(context.Background(), srv.URL+"/23/redirect")
		if got != srv.URL+"/23/page/webmention-endpoint" || err != nil {
			t.Errorf("endpoint = %q, %v", got, err)
		}
	})
	t.Run("a target that answers 404 is a permanent failure", func(t *testing.T) {
		_, _, err := s.discover(context.Background(), srv.URL+"/missing")
		var perm *permanentError
		if err == nil || !errorsAs(err, &perm) {
			t.Errorf("err = %v, want a permanent failure", err)
		}
	})
}

func errorsAs(err error, target **permanentError) bool {
	p, ok := err.(*permanentError)
	*target = p
	return ok
}

func TestClassify_ReadsKindAuthorAndContentFromMicroformats(t *testing.T) {
	const target = "https://me.example/2026/01/post"
	const source = "https://them.example/reply"
	tests := []struct {
		name, html string
		kind       string
		want       map[string]any
	}{
		{"reply with an author h-card", `<div class="h-entry"><a class="u-in-reply-to" href="` + target + `">re</a>
			<a class="p-author h-card" href="https://them.example/"><img class="u-photo" src="https://them.example/me.jpg" alt=""> <span class="p-name">Them</span></a>
			<div class="e-content">Nice <b>post</b><script>alert(1)</script></div><time class="dt-published" datetime="2026-01-02T03:04:05+01:00"></time></div>`,
			micropubd.KindReply, map[string]any{
				"url": []any{source}, "published": []any{"2026-01-02T03:04:05+01:00"},
				"content": []any{map[string]any{"html": "Nice <b>post</b>", "value": "Nice post"}},
				"author":  []any{map[string]any{"type": []any{"h-card"}, "properties": map[string]any{"name": []any{"Them"}, "url": []any{"https://them.example/"}, "photo": []any{"https://them.example/me.jpg"}}}},
			}},
		{"like of an h-cite, author from the page's h-card", `<div class="h-card"><a class="u-url p-name" href="https://them.example/">Page Owner</a></div>
			<div class="h-entry"><div class="u-like-of h-cite"><a class="u-url" href="` + target + `">a post</a></div></div>`,
			micropubd.KindLike, map[string]any{"url": []any{source},
				"author": []any{map[string]any{"type": []any{"h-card"}, "properties": map[string]any{"name": []any{"Page Owner"}, "url": []any{"https://them.example/"}}}}}},
		{"repost", `<div class="h-entry"><a class="u-repost-of" href="` + target + `">x</a></div>`, micropubd.KindRepost, nil},
		{"bookmark", `<div class="h-entry"><a class="u-bookmark-of" href="` + target + `">x</a></div>`, micropubd.KindBookmark, nil},
		{"a mention in an article keeps its title", `<article class="h-entry"><h1 class="p-name">An article</h1><div class="e-content">See <a href="` + target + `">this</a>.</div></article>`,
			micropubd.KindMention, map[string]any{"url": []any{source}, "name": []any{"An article"},
				"content": []any{map[string]any{"html": `See <a href="` + target + `" rel="nofollow">this</a>.`, "value": "See this."}},
				"author":  []any{map[string]any{"type": []any{"h-card"}, "properties": map[string]any{"name": []any{"them.example"}, "url": []any{"https://them.example/"}}}}}},
		{"no microformats at all", `<p>Link: <a href="` + target + `">here</a></p>`, micropubd.KindMention,
			map[string]any{"url": []any{source}, "author": []any{map[string]any{"type": []any{"h-card"}, "properties": map[string]any{"name": []any{"them.example"}, "url": []any{"https://them.example/"}}}}}},
	}
	s := testService(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(source)
			p := &page{url: u, status: 200, contentType: "text/html", body: []byte(tt.html)}
			if !linksTo(p, target) {
				t.Fatal("linksTo is false")
			}
			kind, cite := s.classify(p, source, target)
			if kind != tt.kind {
				t.Errorf("kind = %s, want %s", kind, tt.kind)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, cite["properties"]); diff != "" {
					t.Errorf("cite (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestLinksTo_MatchesOnlyRealLinksToTheTarget(t *testing.T) {
	const target = "https://me.example/2026/01/post"
	u, _ := url.Parse("https://them.example/dir/page")
	tests := []struct {
		name, contentType, body string
		want                    bool
	}{
		{"a link", "text/html", `<a href="https://me.example/2026/01/post">x</a>`, true},
		{"relative, resolved against the source", "text/html", `<a href="/x">x</a><a href="https://ME.example:443/2026/01/post#c">x</a>`, true},
		{"an image", "text/html", `<img src="https://me.example/2026/01/post">`, true},
		{"in text only", "text/html", `<p>https://me.example/2026/01/post</p>`, false},
		{"in a comment", "text/html", `<!-- <a href="https://me.example/2026/01/post">x</a> -->`, false},
		{"another post", "text/html", `<a href="https://me.example/2026/01/post-2">x</a>`, false},
		{"JSON", "application/json", `{"url": "https://me.example/2026/01/post"}`, true},
		{"plain text", "text/plain", `see https://me.example/2026/01/post`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linksTo(&page{url: u, contentType: tt.contentType, body: []byte(tt.body)}, target); got != tt.want {
				t.Errorf("linksTo = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLinks_ArePagesThePostIsAbout(t *testing.T) {
	s := testService(t)
	p := &micropubd.Post{Path: "2026/01/mine", Properties: micropubd.Properties{
		"in-reply-to": {"https://a.example/1", map[string]any{"type": []any{"h-cite"}, "properties": map[string]any{"url": []any{"https://b.example/2"}}}},
		"like-of":     {"javascript:alert(1)"},
		"content":     {map[string]any{"html": `<p><a href="https://c.example/3#frag">c</a> <a href="/2026/01/other">mine</a> <a href="https://a.example/1">again</a></p>`}},
	}}
	want := []string{"https://a.example/1", "https://b.example/2", "https://c.example/3"}
	if diff := cmp.Diff(want, s.links(p)); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	text := &micropubd.Post{Path: "2026/01/t", Properties: micropubd.Properties{"content": {"read https://d.example/4 and https://me.example/x"}}}
	if diff := cmp.Diff([]string{"https://d.example/4"}, s.links(text)); diff != "" {
		t.Errorf("links of text (-want +got):\n%s", diff)
	}
}
