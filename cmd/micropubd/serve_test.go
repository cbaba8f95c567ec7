package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestServe_ShutdownLetsRequestsInFlightFinish(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr + "/"
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- run(ctx, []string{"--addr", addr, "--data", dir, "--url", base}, io.Discard, &logs) }()
	for i := 0; ; i++ {
		if resp, err := http.Get(base); err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatal("the server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The owner mints a token in a second terminal while the server runs.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "--data", dir, "--scope", "create"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]

	// A multipart create whose body arrives slowly: half before the shutdown, half after.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, _ := http.NewRequest(http.MethodPost, base+"micropub", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	result := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("in-flight request: %v", err)
			result <- nil
			return
		}
		result <- resp
	}()
	mw.WriteField("h", "entry")
	mw.WriteField("content", "sent across a shutdown")
	time.Sleep(200 * time.Millisecond)
	stop() // as SIGTERM does
	time.Sleep(200 * time.Millisecond)
	png, _ := os.ReadFile(filepath.Join(fixtureDir, "media", "pixel.png"))
	part, _ := mw.CreateFormFile("photo", "p.png")
	part.Write(png)
	mw.Close()
	pw.Close()

	resp := <-result
	if resp == nil {
		t.FailNow()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("the in-flight create answered %d, want 201", resp.StatusCode)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get(base); err == nil {
		t.Error("the server still answers after shutdown")
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
	// The database closed cleanly: it opens again and holds the post.
	if err := run(context.Background(), []string{"token", "--data", dir, "--url", base}, io.Discard, io.Discard); err != nil {
		t.Errorf("reopening the data folder: %v", err)
	}
}

func TestRuntimeTuning_EnvironmentWins(t *testing.T) {
	tests := []struct {
		env        map[string]string
		gcPercent  int
		extraProcs int
	}{
		{nil, 200, 1},
		{map[string]string{"GOGC": "100"}, 0, 1},
		{map[string]string{"GOMEMLIMIT": "1GiB"}, 0, 1},
		{map[string]string{"GOGC": "off"}, 0, 1},
		{map[string]string{"GOMAXPROCS": "2"}, 200, 0},
	}
	for _, tt := range tests {
		got := runtimeTuning(func(k string) string { return tt.env[k] })
		if got.gcPercent != tt.gcPercent || (got.gcPercent > 0) != (got.memoryLimit > 0) || got.extraProcs != tt.extraProcs {
			t.Errorf("env %v: %+v; want GC percent %d with a limit, and %d more Ps", tt.env, got, tt.gcPercent, tt.extraProcs)
		}
	}
}

// The routes answer each method as the paths' owners expect, at the root and under a path
// prefix (a site at https://example.com/blog/): other paths are not the site's.
func TestRoutes_MethodsAndPathPrefix(t *testing.T) {
	for _, prefix := range []string{"", "blog/", "my%20blog/"} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			srv := newTestServer(t, func(c *serverConfig) {
				u := *c.BaseURL
				u.Path += strings.ReplaceAll(prefix, "%20", " ") // Path is unescaped
				c.BaseURL = &u
			})
			base := srv.base + prefix
			resp, body := srv.post("application/x-www-form-urlencoded", "h=entry&content=routed&category=r", srv.token, prefix+"micropub")
			post := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(post, base) {
				t.Fatalf("create: %d %s, Location %q", resp.StatusCode, body, post)
			}
			tests := []struct {
				method, url string
				status      int
				contentType string
			}{
				{http.MethodGet, base, http.StatusOK, "text/html"},
				{http.MethodHead, base, http.StatusOK, "text/html"},
				{http.MethodGet, post, http.StatusOK, "text/html"},
				{http.MethodPost, post, http.StatusMethodNotAllowed, "text/plain"},
				{http.MethodGet, base + "tags/r", http.StatusOK, "text/html"},
				{http.MethodGet, base + "feed.xml", http.StatusOK, "application/rss+xml"},
				{http.MethodGet, base + "no/such/post", http.StatusNotFound, "text/html"},
				{http.MethodDelete, base + "micropub", http.StatusMethodNotAllowed, "application/json"},
				{http.MethodGet, base + "webmention", http.StatusMethodNotAllowed, "application/json"},
				{http.MethodOptions, base + "token", http.StatusNoContent, ""},
				{http.MethodGet, base + "admin", http.StatusMovedPermanently, ""},
				{http.MethodGet, base + ".well-known/oauth-authorization-server", http.StatusOK, "application/json"},
			}
			// A path routed for other methods names them, beside the page methods every path takes.
			req, _ := http.NewRequest(http.MethodPut, base+"token", nil)
			if resp, _ := srv.do(req); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, POST, OPTIONS" {
				t.Errorf("PUT %stoken: %d, Allow %q; want 405 and GET, HEAD, POST, OPTIONS", base, resp.StatusCode, resp.Header.Get("Allow"))
			}
			if prefix != "" {
				tests = append(tests, struct {
					method, url string
					status      int
					contentType string
				}{http.MethodGet, srv.base + "elsewhere", http.StatusNotFound, "text/html"})
			}
			for _, tt := range tests {
				req, _ := http.NewRequest(tt.method, tt.url, nil)
				resp, _ := srv.do(req)
				if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) {
					t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.url, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.contentType)
				}
				if allow := resp.Header.Get("Allow"); tt.status == http.StatusMethodNotAllowed && allow == "" {
					t.Errorf("%s %s: 405 with Allow %q", tt.method, tt.url, allow)
				}
			}
		})
	}
}
