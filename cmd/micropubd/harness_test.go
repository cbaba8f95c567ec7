package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/storage"
)

// testNow is the fixed clock of test servers, so server-set times are known.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// testTargets are the syndication targets the fixtures choose from.
var testTargets = []micropub.SyndicationTarget{
	{UID: "https://social.example/@me", Name: "Mastodon"},
	{UID: "https://bsky.example/profile/me", Name: "Bluesky"},
}

// testServer is micropubd on a real HTTP server and a real SQLite file in a temp folder.
type testServer struct {
	*httptest.Server
	t     testing.TB
	db    *storage.DB
	base  string
	token string // the owner's token with every scope
	logs  *lockedBuffer
	// intercept, when set, sees each request first; it answers it by returning true.
	intercept atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

// lockedBuffer collects a test server's log lines, written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestServer(t testing.TB, opts ...func(*serverConfig)) *testServer {
	t.Helper()
	return newTestServerOn(t, t.TempDir(), opts...)
}

// newTestServerOn is newTestServer on the data folder dir.
func newTestServerOn(t testing.TB, dir string, opts ...func(*serverConfig)) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var handler http.Handler
	var ts *testServer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := ts.intercept.Load(); f != nil && (*f)(w, r) {
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL + "/")
	cfg := serverConfig{
		BaseURL:     base,
		Name:        "Test Owner",
		SyndicateTo: testTargets,
		Location:    time.UTC,
		Now:         func() time.Time { return testNow },
	}
	for _, o := range opts {
		o(&cfg)
	}
	logs := &lockedBuffer{}
	app, err := newServer(cfg, db, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	handler = app
	// The webmention queues run beside the server and stop before the database closes.
	bg, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.Run(bg)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	ts = &testServer{Server: srv, t: t, db: db, base: base.String(), logs: logs}
	ts.token = ts.mint("create update delete undelete media")
	return ts
}

// mint makes a token with scope, as `micropubd token` does.
func (s *testServer) mint(scope string) string {
	s.t.Helper()
	tokens := &indieauth.Tokens{Store: s.db, Me: s.base}
	secret, _, err := tokens.Mint(context.Background(), "https://client.example/", scope, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// do sends req and returns the response with its body read.
func (s *testServer) do(req *http.Request) (*http.Response, []byte) {
	s.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, body
}

// get fetches a URL, with the token when it is not empty.
func (s *testServer) get(rawURL, token string) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.do(req)
}

// post sends a body of the given type to /micropub (or to path) with the token in the header.
func (s *testServer) post(contentType, body, token string, path ...string) (*http.Response, []byte) {
	s.t.Helper()
	endpoint := "micropub"
	if len(path) > 0 {
		endpoint = path[0]
	}
	req, err := http.NewRequest(http.MethodPost, s.base+endpoint, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.do(req)
}

func (s *testServer) postForm(body string) (*http.Response, []byte) {
	return s.post("application/x-www-form-urlencoded", body, s.token)
}

func (s *testServer) postJSON(body string) (*http.Response, []byte) {
	return s.post("application/json", body, s.token)
}

// create posts a form-encoded create and returns the new post's URL.
func (s *testServer) create(body string) string {
	s.t.Helper()
	resp, out := s.postForm(body)
	if resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("create %q: %d %s", body, resp.StatusCode, out)
	}
	return resp.Header.Get("Location")
}

// query runs a Micropub GET query and decodes its JSON answer.
func (s *testServer) query(params url.Values) map[string]any {
	s.t.Helper()
	resp, body := s.get(s.base+"micropub?"+params.Encode(), s.token)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("query %s: %d %s", params.Encode(), resp.StatusCode, body)
	}
	return decodeJSON(s.t, body)
}

// source returns q=source of a post.
func (s *testServer) source(postURL string) map[string]any {
	s.t.Helper()
	return s.query(url.Values{"q": {"source"}, "url": {postURL}})
}

func decodeJSON(t testing.TB, body []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return m
}

// wantError checks a JSON error answer.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	m := decodeJSON(t, body)
	if m["error"] != code {
		t.Errorf("error = %v, want %s", m["error"], code)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Errorf("error_description is empty in %s", body)
	}
}

// dataDir returns a folder under the server's data folder.
func (s *testServer) dataDir(t *testing.T, name string) string {
	return filepath.Join(s.db.Dir(), name)
}

// testdataDir holds raw requests as real clients send them, byte for byte, header order
// included (clients/, and the fixtures of requests/); sendRaw writes them to the server over a
// plain TCP connection.
const testdataDir = "../../testdata"

// sendRaw sends testdata/clients/NAME.http (or testdata/DIR/NAME.http) exactly as written, after filling {{TOKEN}},
// {{BASE}}, {{HOST}} and the placeholders in vars, and setting its Content-Length header (where
// it has one) to the length of its body. Go's HTTP client would reorder and add headers.
func (s *testServer) sendRaw(name, token string, vars map[string]string) (*http.Response, []byte) {
	s.t.Helper()
	if !strings.Contains(name, "/") {
		name = "clients/" + name
	}
	raw, err := os.ReadFile(filepath.Join(testdataDir, name+".http"))
	if err != nil {
		s.t.Fatal(err)
	}
	host := strings.TrimPrefix(s.URL, "http://")
	text := strings.NewReplacer("{{TOKEN}}", token, "{{BASE}}", s.base, "{{HOST}}", host).Replace(string(raw))
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	head, body, ok := strings.Cut(text, "\n\n")
	if !ok {
		s.t.Fatalf("%s: no blank line after the headers", name)
	}
	var req strings.Builder
	for _, line := range strings.Split(head, "\n") {
		if strings.HasPrefix(strings.ToLower(line), "content-length:") {
			line = "Content-Length: " + strconv.Itoa(len(body))
		}
		req.WriteString(line + "\r\n")
	}
	req.WriteString("\r\n" + body)
	conn, err := net.Dial("tcp", host)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, req.String()); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		s.t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, out
}

// jsonSlashes writes a URL as PHP's json_encode does, with its slashes escaped.
func jsonSlashes(s string) string { return strings.ReplaceAll(s, "/", `\/`) }
