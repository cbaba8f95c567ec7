package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/site"
)

// onePost is a site with one post, which every venue and upload resolves to, the library's
// alt text of every upload being hostile.
type onePost struct{ p *micropubd.Post }

// postHolder lets one site, its templates parsed once, render a new post each run.
type postHolder struct{ onePost }

func (o onePost) PostByPath(_ context.Context, path string) (*micropubd.Post, error) {
	if path == o.p.Path {
		return o.p, nil
	}
	return nil, micropubd.ErrNotFound
}

func (o onePost) ListFeed(context.Context, *micropubd.Cursor, int, int) ([]*micropubd.Post, error) {
	return []*micropubd.Post{o.p}, nil
}

func (o onePost) ListTagged(context.Context, string, *micropubd.Cursor, int, int) ([]*micropubd.Post, error) {
	return []*micropubd.Post{o.p}, nil
}

func (o onePost) ListedPosts(_ context.Context, _ int, fn func(string, time.Time, time.Time) error) error {
	return fn(o.p.Path, o.p.Published, o.p.Updated)
}

func (o onePost) SiteChanged(context.Context) (time.Time, error) { return o.p.Published, nil }

func (o onePost) Generation() uint64 { return 0 }

func (o onePost) MediaVariantsOf(_ context.Context, ids []int64) (map[int64][]*micropubd.Media, error) {
	out := map[int64][]*micropubd.Media{}
	for _, id := range ids {
		out[id] = []*micropubd.Media{{Name: "small.png", Width: 640, VariantOf: id}}
	}
	return out, nil
}

func (o onePost) SentWebmentions(context.Context, int64) ([]*micropubd.WebmentionSend, error) {
	return []*micropubd.WebmentionSend{{Target: "https://x.example/", Title: `"><script>alert(3)</script>`}}, nil
}

func (o onePost) SentWebmentionsOf(_ context.Context, ids []int64) (map[int64][]*micropubd.WebmentionSend, error) {
	out := map[int64][]*micropubd.WebmentionSend{}
	for _, id := range ids {
		out[id], _ = o.SentWebmentions(context.Background(), id)
	}
	return out, nil
}

func (o onePost) PostsByPaths(_ context.Context, paths []string) (map[string]*micropubd.Post, error) {
	out := map[string]*micropubd.Post{}
	for _, p := range paths {
		out[p] = o.p
	}
	return out, nil
}

func (o onePost) MediaByNames(_ context.Context, names []string) (map[string]*micropubd.Media, error) {
	out := map[string]*micropubd.Media{}
	for _, n := range names {
		out[n] = &micropubd.Media{Name: n, Alt: `"><script>alert(1)</script><img src=x onerror=alert(2)>`}
	}
	return out, nil
}

// executable reports the first piece of markup in a page that could run script: an element
// that runs or embeds code, an event handler attribute, or a script URL.
func executable(page []byte) string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return "unparseable page: " + err.Error()
	}
	var found string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if found != "" {
			return
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "form", "svg", "math":
				found = "<" + n.Data + "> element"
				return
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" ||
					(n.Data == "meta" && key == "http-equiv") {
					found = "<" + n.Data + " " + a.Key + "=" + a.Val + ">"
					return
				}
				switch key {
				case "href", "src", "action", "poster", "srcset", "data", "cite", "background", "xlink:href":
					v := strings.Map(func(r rune) rune {
						if r <= ' ' || r == 0x7F {
							return -1 // browsers skip these inside a scheme
						}
						return r
					}, strings.ToLower(html.UnescapeString(a.Val)))
					for _, scheme := range []string{"javascript:", "vbscript:", "data:", "livescript:"} {
						if strings.HasPrefix(v, scheme) {
							found = "<" + n.Data + " " + a.Key + "=" + a.Val + ">"
							return
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}

// FuzzRenderPost renders a post made of any properties the Micropub service accepts, as its
// permalink and on the homepage: the page is always rendered (200) and never carries markup
// that runs script.
func FuzzRenderPost(f *testing.F) {
	for _, seed := range []struct{ typ, props string }{
		{"h-entry", `{"content":["Hello <script>alert(1)</script> https://example.com/?a=1&b=<2>"],"category":["a\"><script>x</script>"]}`},
		{"h-entry", `{"content":[{"html":"<p onclick=alert(1)>x<a href=\"javascript:alert(1)\">y</a><img src=x onerror=alert(1)><svg onload=alert(1)></svg><iframe src=//evil></iframe></p>"}],"name":["<b>t</b>"]}`},
		{"h-entry", `{"photo":[{"value":"https://me.example/media/abc.png","alt":"\" onerror=\"alert(1)"}],"in-reply-to":["https://x.example/\"><script>"]}`},
		{"h-entry", `{"location":["https://me.example/2026/01/fuzz","geo:45.5,-122.6;u=35"],"checkin":[{"type":["h-card"],"properties":{"name":["<script>"],"url":["javascript:alert(1)"]}}]}`},
		{"h-event", `{"name":["E"],"start":["2026-01-01T10:00:00Z"],"description":[{"html":"<style>*{}</style><form action=x><input formaction=javascript:1></form>"}]}`},
		{"h-card", `{"name":["V"],"url":["https://v.example/"],"photo":["https://v.example/p.jpg"],"x-secret":["hidden"]}`},
		{"h-cite", `{"name":["C"],"author":[{"type":["h-card"],"properties":{"name":["A"],"photo":["data:text/html,<script>"]}}]}`},
	} {
		f.Add(seed.typ, []byte(seed.props))
	}
	base, _ := url.Parse("https://me.example/")
	svc := &micropub.Service{BaseURL: base, Location: time.UTC}
	holder := &postHolder{}
	pages, err := site.New(site.Config{URL: base, Name: "Owner <script>"}, holder, func(*http.Request) bool { return true }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ string, raw []byte) {
		props, err := micropubd.DecodeProperties(raw)
		if err != nil {
			return
		}
		p := &micropubd.Post{ID: 1, Path: "2026/01/fuzz", Type: strings.TrimPrefix(typ, "h-"), Properties: props}
		if len(p.Properties["published"]) == 0 {
			p.Properties["published"] = []any{"2026-01-01T00:00:00Z"}
		}
		if svc.Prepare(p) != nil {
			return // not a post the site would take
		}
		holder.p = p
		for name, serve := range map[string]http.HandlerFunc{"permalink": pages.Post, "homepage": pages.Home} {
			target := "https://me.example/"
			if name == "permalink" {
				target += p.Path
			}
			w := httptest.NewRecorder()
			serve(w, httptest.NewRequest(http.MethodGet, target, nil))
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", name, w.Code, w.Body)
			}
			if bad := executable(w.Body.Bytes()); bad != "" {
				t.Fatalf("%s carries %s\n%s", name, bad, w.Body)
			}
		}
	})
}

func TestExecutable_FindsWhatRunsScript(t *testing.T) {
	for _, page := range []string{
		`<p><script>x</script></p>`, `<img src=x onerror=alert(1)>`, `<a href=" JaVa&#x09;Script:alert(1)">x</a>`,
		`<a href="data:text/html,x">x</a>`, `<iframe src=//e></iframe>`, `<div style="x">`, `<svg></svg>`,
	} {
		if executable([]byte(page)) == "" {
			t.Errorf("%s passed", page)
		}
	}
	if bad := executable([]byte(`<a href="https://example.com/">x</a><img src="/media/a.png" alt="&lt;script&gt;">`)); bad != "" {
		t.Errorf("a safe page was flagged: %s", bad)
	}
}

func TestRenderFuzzCorpus_IsCheckedIn(t *testing.T) {
	if entries, err := os.ReadDir("testdata/fuzz/FuzzRenderPost"); err != nil || len(entries) == 0 {
		t.Errorf("testdata/fuzz/FuzzRenderPost holds no corpus: %v", err)
	}
}
