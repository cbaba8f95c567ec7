package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkCreate_FormOverHTTP is a form-encoded create through the whole server: HTTP,
// token check, parsing, slug, SQLite transaction; the same request as the load script's.
func BenchmarkCreate_FormOverHTTP(b *testing.B) {
	srv := newTestServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const body = "h=entry&content=Hello+world+this+is+a+test+post&category[]=a&category[]=b"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.base+"micropub", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+srv.token)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkPermalink_OverHTTP renders a post page.
func BenchmarkPermalink_OverHTTP(b *testing.B) {
	srv := newTestServer(b)
	loc := srv.create("h=entry&content=Hello+world+this+is+a+test+post&category[]=a&category[]=b")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(loc)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
