package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/site"
)

// Benchmarks of the whole server over HTTP and of its parts, reporting allocations: run them
// with go test -run XXX -bench . ./cmd/micropubd (-bench 'posts=100000' for the large archive,
// prefilled through the storage layer as micropubd bench does).

// archiveSizes are the archives the size-dependent benchmarks run at: the costs must be flat.
var archiveSizes = []int{10, 100000}

// benchServer is a test server whose archive holds posts posts.
func benchServer(b *testing.B, posts int) *testServer {
	b.Helper()
	srv := newTestServer(b)
	if err := prefill(context.Background(), srv.db, 0, posts); err != nil {
		b.Fatal(err)
	}
	return srv
}

// hammer sends the request req makes from parallel clients and checks its status.
func hammer(b *testing.B, want int, req func() *http.Request) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.ReportAllocs()
	b.SetParallelism(16) // 32 clients on 2 cores, as the load tool's -c32
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(req())
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkCreate_FormOverHTTP is a form-encoded create through the whole server: HTTP,
// token check, parsing, slug, a durable group commit; the same request as the load script's.
func BenchmarkCreate_FormOverHTTP(b *testing.B) {
	for _, n := range archiveSizes {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			srv := benchServer(b, n)
			const body = "h=entry&content=Hello+world+this+is+a+test+post&category[]=a&category[]=b"
			hammer(b, http.StatusCreated, func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, srv.base+"micropub", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", "Bearer "+srv.token)
				return req
			})
			reportBatches(b, srv)
		})
	}
}

// BenchmarkCreate_JSONOverHTTP is a JSON create through the whole server.
func BenchmarkCreate_JSONOverHTTP(b *testing.B) {
	srv := benchServer(b, 10)
	const body = `{"type":["h-entry"],"properties":{"content":["Hello world, this is a test post"],"category":["a","b"]}}`
	hammer(b, http.StatusCreated, func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, srv.base+"micropub", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+srv.token)
		return req
	})
}

// BenchmarkPermalink_OverHTTP renders a post page.
func BenchmarkPermalink_OverHTTP(b *testing.B) {
	for _, n := range archiveSizes {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			srv := benchServer(b, n)
			loc := srv.create("h=entry&content=Hello+world+this+is+a+test+post&category[]=a&category[]=b")
			hammer(b, http.StatusOK, func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, loc, nil)
				return req
			})
		})
	}
}

// BenchmarkHomepage_OverHTTP renders the homepage: 20 posts.
func BenchmarkHomepage_OverHTTP(b *testing.B) {
	for _, n := range archiveSizes {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			srv := benchServer(b, n)
			hammer(b, http.StatusOK, func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.base, nil)
				return req
			})
		})
	}
}

// BenchmarkQuery_OverHTTP runs the Micropub queries whose cost must not grow with the archive:
// q=config and q=category (read from the counted categories), a listing page 90 % deep by
// offset and by cursor. Each request differs by a parameter the endpoint ignores, so none is
// the answer kept from the one before (micropub/answers.go): this is the cost of a page a
// client has not asked for since the last write.
func BenchmarkQuery_OverHTTP(b *testing.B) {
	for _, n := range archiveSizes {
		srv := benchServer(b, n)
		resp, body := srv.get(srv.base+fmt.Sprintf("micropub?q=source&limit=1&offset=%d", n*9/10), srv.token)
		if resp.StatusCode != http.StatusOK {
			b.Fatal(string(body))
		}
		cursor, _ := decodeJSON(b, body)["paging"].(map[string]any)["after"].(string)
		for name, query := range map[string]string{
			"config":   "q=config",
			"category": "q=category",
			"offset":   fmt.Sprintf("q=source&limit=20&offset=%d", n*9/10),
			"cursor":   "q=source&limit=20&after=" + url.QueryEscape(cursor),
		} {
			b.Run(fmt.Sprintf("%s/posts=%d", name, n), func(b *testing.B) {
				var i atomic.Int64
				hammer(b, http.StatusOK, func() *http.Request {
					req, _ := http.NewRequest(http.MethodGet, srv.base+"micropub?"+query+"&bench="+strconv.FormatInt(i.Add(1), 10), nil)
					req.Header.Set("Authorization", "Bearer "+srv.token)
					return req
				})
			})
		}
	}
}

// BenchmarkAuthorise_Token verifies an access token as every request does: from the cache of
// verified tokens after the first lookup.
func BenchmarkAuthorise_Token(b *testing.B) {
	srv := newTestServer(b)
	tokens := &indieauth.Tokens{Store: srv.db, Me: srv.base}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Verify(ctx, srv.token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender_Permalink renders a post page without HTTP: the site handler alone.
func BenchmarkRender_Permalink(b *testing.B) {
	srv := newTestServer(b)
	loc := srv.create("h=entry&name=A+title&content=Hello+world+this+is+a+test+post+https://example.com/&category[]=a&category[]=b")
	base, _ := url.Parse(srv.base)
	pages, err := site.New(site.Config{URL: base, Name: "Owner"}, srv.db, func(*http.Request) bool { return false }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		pages.Post(w, httptest.NewRequest(http.MethodGet, loc, nil))
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkCreate_Storage stores posts from parallel writers: the group commit alone.
func BenchmarkCreate_Storage(b *testing.B) {
	srv := newTestServer(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			p := &micropubd.Post{Path: fmt.Sprintf("2026/03/%p-%d", pb, i), Type: "entry", PostType: "note",
				Status: "published", Visibility: "public", Published: testNow,
				Properties: micropubd.Properties{"content": {"Hello"}, "category": {"a", "b"}}}
			if err := srv.db.CreatePost(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	reportBatches(b, srv)
}

// reportBatches reports the mean number of writes a commit held.
func reportBatches(b *testing.B, srv *testServer) {
	commits, jobs := srv.db.CommitStats()
	if commits > 0 {
		b.ReportMetric(float64(jobs)/float64(commits), "writes/commit")
	}
}
