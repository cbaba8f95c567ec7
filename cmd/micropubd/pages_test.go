package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/site"
	"github.com/micropubd/micropubd/storage"
	"golang.org/x/net/html"
	"willnorris.com/go/microformats"
)

// hfeedEntries parses a page's h-feed: its entries' urls, its own url, name and author, and
// the rel=next and rel=prev links.
func hfeedEntries(t *testing.T, page []byte, pageURL string) (urls []string, feed map[string][]any, rels map[string][]string) {
	t.Helper()
	u, _ := url.Parse(pageURL)
	data := microformats.Parse(bytes.NewReader(page), u)
	for _, it := range data.Items {
		if it.Type[0] != "h-feed" {
			continue
		}
		feed = it.Properties
		for _, e := range it.Children {
			urls = append(urls, e.Properties["url"][0].(string))
		}
	}
	return urls, feed, data.Rels
}

func TestTags_PagesArePaginatedHFeedsAndEndWithA404(t *testing.T) {
	srv := newTestServer(t)
	var tagged []string
	for i := 1; i <= 45; i++ {
		tagged = append([]string{srv.create(fmt.Sprintf("content=go+%d&category=go&published=2026-01-01T00:%02d:00Z", i, i))}, tagged...)
	}
	srv.create("content=other&category=rust")
	tag := srv.base + "tags/go"
	var all []string
	for n := 1; n <= 3; n++ {
		page := tag
		if n > 1 {
			page += "?page=" + strconv.Itoa(n)
		}
		resp, body := srv.get(page, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", page, resp.StatusCode)
		}
		urls, feed, rels := hfeedEntries(t, body, page)
		all = append(all, urls...)
		if !cmp.Equal(feed["url"], []any{tag}) || !cmp.Equal(feed["name"], []any{"#go"}) || len(feed["author"]) != 1 {
			t.Errorf("page %d h-feed url %v, name %v, author %v", n, feed["url"], feed["name"], feed["author"])
		}
		wantNext := map[int][]string{1: {tag + "?page=2"}, 2: {tag + "?page=3"}, 3: nil}[n]
		if !cmp.Equal(rels["next"], wantNext) {
			t.Errorf("page %d rel=next %v, want %v", n, rels["next"], wantNext)
		}
		if n == 2 && !cmp.Equal(rels["prev"], []string{tag}) {
			t.Errorf("page 2 rel=prev %v, want %s", rels["prev"], tag)
		}
	}
	if diff := cmp.Diff(tagged, all); diff != "" {
		t.Errorf("the three pages (-want +got):\n%s", diff)
	}
	tests := []struct {
		name, path string
		status     int
	}{
		{"past the last page", "tags/go?page=4", http.StatusNotFound},
		{"far past it", "tags/go?page=99", http.StatusNotFound},
		{"a page number that would overflow", "tags/go?page=9223372036854775807", http.StatusNotFound},
		{"past the int range", "tags/go?page=99999999999999999999999", http.StatusNotFound},
		{"page zero", "tags/go?page=0", http.StatusNotFound},
		{"a negative page", "tags/go?page=-2", http.StatusNotFound},
		{"not a number is the first page", "tags/go?page=abc", http.StatusOK},
		{"a tag without posts", "tags/nothing", http.StatusNotFound},
		{"homepage past its last page", "?page=99", http.StatusNotFound},
		{"homepage with a huge page", "?page=4611686018427387904", http.StatusNotFound},
		{"homepage page 3", "?page=3", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.get(srv.base+tt.path, "")
			if resp.StatusCode != tt.status {
				t.Errorf("GET /%s = %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if regexp.MustCompile(`page=-\d`).Match(body) {
				t.Errorf("GET /%s links to a negative page", tt.path)
			}
		})
	}
}

func TestTags_CategoriesLinkToTheirPages(t *testing.T) {
	srv := newTestServer(t)
	post := srv.create("content=chips&category=indieweb&category=" + url.QueryEscape("a/b c?"))
	_, body := srv.get(post, "")
	for _, tag := range []string{"indieweb", "a/b c?"} {
		href := srv.base + "tags/" + url.PathEscape(tag)
		if !strings.Contains(string(body), `<a class="p-category" href="`+strings.ReplaceAll(href, "?", "%3f")+`" rel="tag">`+html.EscapeString(tag)+`</a>`) &&
			!strings.Contains(string(body), `<a class="p-category" href="`+href+`" rel="tag">`+html.EscapeString(tag)+`</a>`) {
			t.Errorf("no chip linking %s to %s:\n%s", tag, href, body)
		}
		resp, page := srv.get(href, "")
		urls, _, _ := hfeedEntries(t, page, href)
		if resp.StatusCode != http.StatusOK || !cmp.Equal(urls, []string{post}) {
			t.Errorf("GET %s = %d with %v", href, resp.StatusCode, urls)
		}
	}
	item := pageItem(t, body, post)
	if diff := cmp.Diff([]any{"indieweb", "a/b c?"}, item["properties"].(map[string]any)["category"]); diff != "" {
		t.Errorf("parsed categories (-want +got):\n%s", diff)
	}
}

func TestHomepage_HFeedHasUrlNameAndAuthor(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.Photo = "https://photos.example/me.jpg" })
	srv.create("content=one")
	_, body := srv.get(srv.base, "")
	_, feed, _ := hfeedEntries(t, body, srv.base)
	author := map[string]any{"type": []any{"h-card"}, "value": "Test Owner", "properties": map[string]any{
		"name": []any{"Test Owner"}, "url": []any{srv.base}, "photo": []any{"https://photos.example/me.jpg"}}}
	raw, _ := json.Marshal(map[string]any{"url": feed["url"], "name": feed["name"], "author": feed["author"]})
	got := decodeJSON(t, raw)
	want := map[string]any{"url": []any{srv.base}, "name": []any{"Test Owner"}, "author": []any{author}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("h-feed (-want +got):\n%s", diff)
	}
}

// TestSite_EveryResponseCarriesTheProtections asks for each kind of address the server
// answers and checks the headers every response must have; pages with stricter needs keep
// their own.
func TestSite_EveryResponseCarriesTheProtections(t *testing.T) {
	srv := newTestServer(t)
	post := srv.create("content=hi&category=x")
	resp, _ := srv.upload(srv.token, "pixel.png", "image/png", readFixture(t, fixtureDir+"/media/pixel.png"), nil)
	media := resp.Header.Get("Location")
	tests := []struct {
		name, path, csp string
	}{
		{"homepage", "", pageCSPWant},
		{"post", strings.TrimPrefix(post, srv.base), pageCSPWant},
		{"tag page", "tags/x", pageCSPWant},
		{"feed", "feed.xml", pageCSPWant},
		{"robots.txt", "robots.txt", pageCSPWant},
		{"sitemap", "sitemap.xml", pageCSPWant},
		{"style sheet", "static/site.css", pageCSPWant},
		{"not found", "nothing/here", pageCSPWant},
		{"gone", "", ""}, // filled below
		{"micropub error", "micropub", pageCSPWant},
		{"uploaded file", strings.TrimPrefix(media, srv.base), "default-src 'none'; sandbox"},
		{"sign-in page", "auth/login", "frame-ancestors 'none'"},
	}
	deleted := srv.create("content=bye")
	if r, b := srv.postForm("action=delete&url=" + url.QueryEscape(deleted)); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.StatusCode, b)
	}
	tests[8] = struct{ name, path, csp string }{"gone", strings.TrimPrefix(deleted, srv.base), pageCSPWant}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := srv.get(srv.base+tt.path, "")
			h := resp.Header
			if got := h.Get("Content-Security-Policy"); got != tt.csp {
				t.Errorf("CSP = %q, want %q", got, tt.csp)
			}
			if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
				t.Error("the CSP allows inline code")
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("nosniff %q, Referrer-Policy %q, X-Frame-Options %q", h.Get("X-Content-Type-Options"),
					h.Get("Referrer-Policy"), h.Get("X-Frame-Options"))
			}
		})
	}
}

const pageCSPWant = "default-src 'self'; img-src * data:; media-src *; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

func TestSite_RobotsSitemapAndFavicon(t *testing.T) {
	srv := newTestServer(t)
	public := srv.create("content=public&published=2026-01-01T00:00:00Z")
	updated := srv.create("content=updated&published=2026-01-02T00:00:00Z")
	srv.postJSON(`{"action":"update","url":"` + updated + `","replace":{"content":["changed"]}}`)
	srv.create("content=draft&post-status=draft")
	unlisted := srv.create("content=unlisted&visibility=unlisted")

	resp, body := srv.get(srv.base+"robots.txt", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(body), "Sitemap: "+srv.base+"sitemap.xml") || !strings.Contains(string(body), "Disallow: /s/") {
		t.Errorf("robots.txt: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	resp, body = srv.get(srv.base+"sitemap.xml", "")
	var sitemap struct {
		URLs []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(body, &sitemap); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sitemap: %d %v\n%s", resp.StatusCode, err, body)
	}
	got := map[string]string{}
	for _, u := range sitemap.URLs {
		got[u.Loc] = u.LastMod
	}
	want := map[string]string{srv.base: got[srv.base], updated: testNow.Format("2006-01-02T15:04:05Z07:00"), public: "2026-01-01T00:00:00Z"}
	if diff := cmp.Diff(want, got); diff != "" || got[srv.base] == "" {
		t.Errorf("sitemap (-want +got):\n%s", diff)
	}
	if _, listed := got[unlisted]; listed {
		t.Error("the sitemap lists an unlisted post")
	}

	resp, _ = srv.get(srv.base+"favicon.ico", "")
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "static/favicon.svg") {
		t.Errorf("favicon.ico: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, icon := srv.get(resp.Header.Get("Location"), "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(icon, []byte("<svg")) {
		t.Errorf("the default icon: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	withPhoto := newTestServer(t, func(c *serverConfig) { c.Photo = "https://photos.example/me.jpg" })
	resp, body = withPhoto.get(withPhoto.base+"favicon.ico", "")
	if resp.Header.Get("Location") != "https://photos.example/me.jpg" {
		t.Errorf("favicon.ico with an owner photo → %s", resp.Header.Get("Location"))
	}
	_, body = withPhoto.get(withPhoto.base, "")
	if !strings.Contains(string(body), `<link rel="icon" href="https://photos.example/me.jpg">`) {
		t.Error("the page does not use the owner's photo as its icon")
	}
}

// headOf reads a page's <title> and meta tags (name or property → content).
func headOf(t *testing.T, page []byte) (title string, meta map[string]string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	meta = map[string]string{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			switch n.Data {
			case "title":
				if n.FirstChild != nil {
					title = n.FirstChild.Data
				}
			case "meta":
				if k := attrs["name"] + attrs["property"]; k != "" {
					meta[k] = attrs["content"]
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return title, meta
}

func TestPages_HaveRealTitlesDescriptionsAndCards(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.Photo = "https://photos.example/me.jpg" })
	long := "Walked along the river this morning and counted eleven herons standing in the shallows, more than ever before."
	tests := []struct {
		name, body                                      string
		wantTitle, wantDescription, wantImage, wantCard string
	}{
		{"note", "content=" + url.QueryEscape(long),
			"Walked along the river this morning and counted eleven… · Test Owner", long, "https://photos.example/me.jpg", "summary_large_image"},
		{"article", "name=On+herons&content=" + url.QueryEscape("<p>Herons are patient.</p>") + "&summary=Why+herons+wait",
			"On herons · Test Owner", "Why herons wait", "https://photos.example/me.jpg", "summary_large_image"},
		{"photo", "photo=" + url.QueryEscape("https://photos.example/heron.jpg"),
			"Photo, 14 March 2026, 15:09 · Test Owner", "Photo, 14 March 2026, 15:09", "https://photos.example/heron.jpg", "summary_large_image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := srv.create(tt.body)
			_, page := srv.get(loc, "")
			title, meta := headOf(t, page)
			got := map[string]string{"title": title, "description": meta["description"], "og:title": meta["og:title"],
				"og:description": meta["og:description"], "og:url": meta["og:url"], "og:image": meta["og:image"],
				"twitter:card": meta["twitter:card"], "og:type": meta["og:type"]}
			want := map[string]string{"title": tt.wantTitle, "description": tt.wantDescription,
				"og:title": strings.TrimSuffix(tt.wantTitle, " · Test Owner"), "og:description": tt.wantDescription,
				"og:url": loc, "og:image": tt.wantImage, "twitter:card": tt.wantCard, "og:type": "article"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("head (-want +got):\n%s", diff)
			}
		})
	}
	_, page := srv.get(srv.base, "")
	title, meta := headOf(t, page)
	if title != "Test Owner" || meta["og:type"] != "website" || meta["description"] == "" {
		t.Errorf("homepage title %q, meta %v", title, meta)
	}
}

func TestHomepage_ArticlesShowTheirSummaryAndNotesInFull(t *testing.T) {
	srv := newTestServer(t)
	article := srv.create("name=Long+read&content[html]=" + url.QueryEscape("<p>The opening paragraph.</p><p>The second, only on its page.</p><h2>More</h2>") + "&published=2026-01-03T00:00:00Z")
	summarised := srv.create("name=Summarised&summary=" + url.QueryEscape("A summary written for lists.") + "&content=" + url.QueryEscape("Body text only on the page.") + "&published=2026-01-02T00:00:00Z")
	note := srv.create("content=" + url.QueryEscape("A note in full.\n\nIts second paragraph too.") + "&published=2026-01-01T00:00:00Z")
	_, home := srv.get(srv.base, "")
	s := string(home)
	for _, want := range []string{
		"<p>The opening paragraph.</p>", `href="` + article + `">Continue reading`,
		"A summary written for lists.", `href="` + summarised + `">Continue reading`,
		"<p>A note in full.</p>", "Its second paragraph too.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the homepage lacks %q", want)
		}
	}
	for _, not := range []string{"The second, only on its page.", "Body text only on the page.", `href="` + note + `">Continue reading`} {
		if strings.Contains(s, not) {
			t.Errorf("the homepage shows %q", not)
		}
	}
	_, page := srv.get(article, "")
	if !strings.Contains(string(page), "The second, only on its page.") || strings.Contains(string(page), "Continue reading") {
		t.Error("the article's own page does not show it in full")
	}
}

func TestPages_CheckinsAndVenuesAreReadablePlaces(t *testing.T) {
	srv := newTestServer(t)
	resp, body := srv.postJSON(`{"type":["h-entry"],"properties":{"content":["Lunch"],"checkin":[{"type":["h-card"],"properties":{` +
		`"name":["Ford Food and Drink"],"url":["http://www.fordfoodanddrink.com/"],"locality":["Portland"],"region":["OR"],` +
		`"latitude":[45.5048473],"longitude":[-122.6549551]}}]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	checkin := resp.Header.Get("Location")
	venue := srv.create("h=card&name=Ford+Food+and+Drink&street-address=2505+SE+11th+Ave&locality=Portland&region=OR&geo=" + url.QueryEscape("geo:45.5048473,-122.6549551"))
	at := srv.create("content=Again&location=" + url.QueryEscape(venue))
	mapLink := `<a class="map" href="https://www.openstreetmap.org/?mlat=45.5048473&amp;mlon=-122.6549551#map=16/45.5048473/-122.6549551">Map ↗</a>`
	tests := []struct {
		name, url string
		want      []string
	}{
		{"check-in", checkin, []string{`<a class="p-name u-url" href="http://www.fordfoodanddrink.com/">Ford Food and Drink</a>`,
			`<span class="p-locality">Portland</span>, <span class="p-region">OR</span>`, mapLink, `<data class="p-latitude" value="45.5048473"></data>`}},
		{"venue", venue, []string{`<span class="p-street-address">2505 SE 11th Ave</span>, <span class="p-locality">Portland</span>, <span class="p-region">OR</span>`, mapLink}},
		{"at a venue of the site", at, []string{`<a class="p-name u-url" href="` + venue + `">Ford Food and Drink</a>`, `<span class="where">Portland, OR</span>`, mapLink}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, page := srv.get(tt.url, "")
			for _, w := range tt.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("the page lacks %s", w)
				}
			}
			if text := visibleText(t, page); strings.Contains(text, "-122.6549551") && tt.name == "check-in" {
				t.Errorf("the page shows raw coordinates: %s", text)
			}
		})
	}
}

// visibleText is what a browser shows of a page: its text outside head, hidden elements and data.
func visibleText(t *testing.T, page []byte) string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "head" || n.Data == "data" {
				return
			}
			for _, a := range n.Attr {
				if a.Key == "hidden" {
					return
				}
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestPages_ContextShowsTheCitedTitleAndSite(t *testing.T) {
	srv := newTestServer(t)
	resp, body := srv.postJSON(`{"type":["h-entry"],"properties":{"content":["Agreed"],"in-reply-to":[{"type":["h-cite"],"properties":{` +
		`"name":["Why the IndieWeb"],"url":["https://www.example.org/why"]}}]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	cited := resp.Header.Get("Location")
	plain := srv.create("like-of=" + url.QueryEscape("https://example.net/a/post"))
	for _, tt := range []struct{ url, want string }{
		{cited, `<span class="label">In reply to</span> <div class="u-in-reply-to h-cite"><a class="p-name u-url" href="https://www.example.org/why">Why the IndieWeb</a> <span class="site">on example.org</span>`},
		{plain, `<span class="label">Liked</span> <a class="u-like-of" href="https://example.net/a/post">https://example.net/a/post</a>`},
	} {
		_, page := srv.get(tt.url, "")
		if !strings.Contains(string(page), tt.want) {
			t.Errorf("%s lacks %s", tt.url, tt.want)
		}
	}
}

// listingCalls records how the site reads its listings: after a cursor or past an offset.
type listingCalls struct {
	*storage.DB
	mu    sync.Mutex
	calls []string
}

func (l *listingCalls) note(after *micropubd.Cursor, offset int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after != nil {
		l.calls = append(l.calls, "cursor")
	} else {
		l.calls = append(l.calls, "offset "+strconv.Itoa(offset))
	}
}

func (l *listingCalls) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[len(l.calls)-1]
}

func (l *listingCalls) ListFeed(ctx context.Context, after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error) {
	l.note(after, offset)
	return l.DB.ListFeed(ctx, after, limit, offset)
}

func (l *listingCalls) ListTagged(ctx context.Context, tag string, after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error) {
	l.note(after, offset)
	return l.DB.ListTagged(ctx, tag, after, limit, offset)
}

// TestPages_OlderPagesSeekFromThePageBefore walks the homepage and a tag page by "Older posts"
// and checks that each page after the first is read by a seek from where the page before
// ended, not by skipping the posts before it, and is the same page a fresh server reads by
// offset; and that after a write the pages are read by offset again, shifted by the new post.
func TestPages_OlderPagesSeekFromThePageBefore(t *testing.T) {
	srv := newTestServer(t)
	for i := 1; i <= 45; i++ {
		// Three posts a minute: the pages end inside a run of equal times (posts 20 and 21 of
		// the newest first share one, as do 40 and 41), which the post id orders.
		srv.create(fmt.Sprintf("content=go+%d&category=go&published=2026-01-01T00:%02d:00Z", i, i/3))
	}
	base, _ := url.Parse(srv.base)
	newSite := func() (*site.Handler, *listingCalls) {
		rec := &listingCalls{DB: srv.db}
		h, err := site.New(site.Config{URL: base, Name: "Owner"}, rec, func(*http.Request) bool { return false }, nil, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return h, rec
	}
	read := func(h *site.Handler, page string) []string {
		t.Helper()
		w := httptest.NewRecorder()
		serve := h.Home
		if strings.Contains(page, "/tags/") {
			serve = h.Tag
		}
		serve(w, httptest.NewRequest(http.MethodGet, page, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", page, w.Code)
		}
		urls, _, _ := hfeedEntries(t, w.Body.Bytes(), page)
		return urls
	}
	for name, first := range map[string]string{"homepage": srv.base, "tag page": srv.base + "tags/go"} {
		t.Run(name, func(t *testing.T) {
			walked, calls := newSite()
			pages := map[int][]string{}
			for n := 1; n <= 3; n++ {
				page := first
				if n > 1 {
					page += "?page=" + strconv.Itoa(n)
				}
				pages[n] = read(walked, page)
				want := "cursor"
				if n == 1 {
					want = "offset 0"
				}
				if got := calls.last(); got != want {
					t.Errorf("page %d read by %s, want %s", n, got, want)
				}
				fresh, freshCalls := newSite()
				if got := read(fresh, page); !cmp.Equal(got, pages[n]) {
					t.Errorf("page %d walked to differs from page %d read by offset:\n%s", n, n, cmp.Diff(got, pages[n]))
				}
				if got, want := freshCalls.last(), "offset "+strconv.Itoa((n-1)*20); got != want {
					t.Errorf("page %d on a fresh server read by %s, want %s", n, got, want)
				}
			}
			if len(pages[1]) != 20 || len(pages[2]) != 20 || len(pages[3]) < 5 {
				t.Fatalf("pages of %d, %d and %d posts", len(pages[1]), len(pages[2]), len(pages[3]))
			}
			newest := srv.create("content=newest&category=go&published=2026-01-02T00:00:00Z")
			page2 := read(walked, first+"?page=2")
			if got := calls.last(); got != "offset 20" {
				t.Errorf("page 2 after a write read by %s, want offset 20", got)
			}
			if want := append(pages[1][19:], pages[2][:19]...); !cmp.Equal(page2, want) {
				t.Errorf("page 2 after a new post (%s) is not shifted by one:\n%s", newest, cmp.Diff(page2, want))
			}
		})
	}
}
