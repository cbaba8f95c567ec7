package main

// Black-box conformance test of the micropubd binary against the W3C Micropub
// Recommendation (https://www.w3.org/TR/micropub/, 23 May 2017) and the server
// tests of the micropub.rocks suite.
//
// The test builds the binary, mints tokens with `micropubd token`, starts
// `micropubd serve` on a free loopback port and then behaves like a Micropub
// client: it discovers the endpoint from the homepage, the Media Endpoint from
// q=config, and checks every server requirement over real HTTP.
//
// Subtest names start with the micropub.rocks server test number where one
// exists (100-107 form-encoded create, 200-206 JSON create, 300-301 multipart,
// 400-405 update, 500-503 delete/undelete, 600-603 queries, 700-702 Media
// Endpoint, 800-805 authentication), or with the section of the
// Recommendation that states the requirement.
//
// Every identifier in this file starts with "spec" so that it cannot clash with
// the package main it is compiled into.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ---------------------------------------------------------------------------
// Environment: binary, server process, tokens, fixtures.
// ---------------------------------------------------------------------------

type specEnv struct {
	bin      string
	dataDir  string
	base     string // site URL given with --url, e.g. http://127.0.0.1:PORT/
	endpoint string // Micropub endpoint discovered from the homepage
	media    string // Media Endpoint discovered from q=config
	mediaErr string // why media is empty

	cmd      *exec.Cmd
	waitErr  chan error
	exited   bool
	exitErr  error
	stopOnce sync.Once
	logs     *specLog

	client *http.Client
	tok    map[string]string

	fix      *httptest.Server
	fixFiles map[string]specUpload
}

// specLog collects the server's stdout and stderr for diagnostics.
type specLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *specLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *specLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if len(s) > n {
		s = "...\n" + s[len(s)-n:]
	}
	return s
}

// specChildEnv is the environment for child processes, without MICROPUBD_*
// variables so that only the flags given decide the configuration.
func specChildEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MICROPUBD_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func specGoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// specBuild builds the binary exactly as a user would: `go build -o X .` in
// the main package directory.
func specBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "micropubd")
	cmd := exec.Command(specGoTool(), "build", "-o", bin, ".")
	cmd.Env = specChildEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build -o %s . failed: %v\n%s", bin, err, out)
	}
	return bin
}

func specFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// specMint runs `micropubd token --data DIR --scope SCOPE [extra...]` and
// returns the token printed alone on the last line of stdout.
func (e *specEnv) mint(scope string, extra []string, env []string) (string, error) {
	args := []string{"token"}
	if env == nil {
		args = append(args, "--data", e.dataDir)
	}
	args = append(args, "--scope", scope)
	args = append(args, extra...)
	cmd := exec.Command(e.bin, args...)
	cmd.Env = specChildEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", e.bin, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	out := strings.TrimRight(stdout.String(), "\r\n")
	lines := strings.Split(out, "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" || strings.ContainsAny(last, " \t") {
		return "", fmt.Errorf("%s %s: the last line of stdout is not a lone token: %q\nstderr:\n%s", e.bin, strings.Join(args, " "), lines[len(lines)-1], stderr.String())
	}
	return last, nil
}

func specSetup(t *testing.T) *specEnv {
	t.Helper()
	e := &specEnv{
		bin:     specBuild(t),
		dataDir: t.TempDir(),
		logs:    &specLog{},
		tok:     map[string]string{},
		client: &http.Client{
			Timeout: 20 * time.Second,
			// A Micropub client must see the server's own status codes.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}

	port := specFreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	e.base = fmt.Sprintf("http://%s/", addr)
	e.cmd = exec.Command(e.bin, "serve", "--addr", addr, "--data", e.dataDir, "--url", e.base)
	e.cmd.Env = specChildEnv()
	e.cmd.Stdout = e.logs
	e.cmd.Stderr = e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting %s serve: %v", e.bin, err)
	}
	e.waitErr = make(chan error, 1)
	go func() { e.waitErr <- e.cmd.Wait() }()
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			t.Logf("micropubd serve output (tail):\n%s", e.logs.tail(8000))
		}
	})

	deadline := time.Now().Add(20 * time.Second)
	var lastErr string
	for {
		select {
		case err := <-e.waitErr:
			e.exited, e.exitErr = true, err
			t.Fatalf("micropubd serve exited before answering GET %s: %v\noutput:\n%s", e.base, err, e.logs.tail(8000))
		default:
		}
		resp, err := e.client.Get(e.base)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			lastErr = resp.Status
		} else {
			lastErr = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer 200 within 20 s (last: %s)\noutput:\n%s", e.base, lastErr, e.logs.tail(8000))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Tokens, minted the way a user would once the server runs (it creates the database),
	// before pointing a client at the site.
	mints := []struct {
		name, scope string
		extra       []string
	}{
		{"full", "create update delete undelete media", nil},
		{"client", "create update delete undelete media", []string{"--client-id", "https://client.example/"}},
		{"create", "create", nil},
		{"update", "update", nil},
		{"delete", "delete", nil},
	}
	for _, m := range mints {
		tok, err := e.mint(m.scope, m.extra, nil)
		if err != nil {
			t.Fatalf("minting the %q token: %v", m.name, err)
		}
		e.tok[m.name] = tok
	}

	// Fixture server for photos referenced by URL (the spec lets the server
	// either hotlink or download them, so they must be really reachable).
	e.fixFiles = map[string]specUpload{
		"/media/sunset.jpg":        {filename: "sunset.jpg", ctype: "image/jpeg", data: specImage(t, "jpeg", color.RGBA{250, 120, 30, 255})},
		"/media/city-at-night.jpg": {filename: "city-at-night.jpg", ctype: "image/jpeg", data: specImage(t, "jpeg", color.RGBA{10, 20, 80, 255})},
		"/media/globe.gif":         {filename: "globe.gif", ctype: "image/gif", data: specImage(t, "gif", color.RGBA{0, 160, 60, 255})},
	}
	e.fix = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := e.fixFiles[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		w.Write(f.data)
	}))
	t.Cleanup(e.fix.Close)

	// Endpoint discovery (checked in detail by the "5.3" subtest).
	e.endpoint = e.base + "micropub"
	if ep, _, _ := e.discover(); ep != "" {
		e.endpoint = ep
	}

	// Media Endpoint discovery (checked in detail by the "600" subtest).
	e.discoverMedia()
	return e
}

func (e *specEnv) discoverMedia() {
	req, err := http.NewRequest("GET", e.queryURL("q=config"), nil)
	if err != nil {
		e.mediaErr = err.Error()
		return
	}
	req.Header.Set("Authorization", "Bearer "+e.tok["full"])
	req.Header.Set("Accept", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		e.mediaErr = "GET q=config: " + err.Error()
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.mediaErr = fmt.Sprintf("GET q=config answered %s: %s", resp.Status, specTrunc(string(body), 500))
		return
	}
	var cfg map[string]any
	if err := json.Unmarshal(body, &cfg); err != nil {
		e.mediaErr = fmt.Sprintf("q=config is not a JSON object: %v: %s", err, specTrunc(string(body), 500))
		return
	}
	m, _ := cfg["media-endpoint"].(string)
	u, err := url.Parse(m)
	if m == "" || err != nil || !u.IsAbs() || u.Host == "" {
		e.mediaErr = fmt.Sprintf("q=config has no absolute media-endpoint URL (got %#v): %s", cfg["media-endpoint"], specTrunc(string(body), 500))
		return
	}
	e.media = m
}

// stop sends SIGTERM and waits for the process; it returns the exit error.
func (e *specEnv) stop() error {
	e.stopOnce.Do(func() {
		if e.cmd == nil || e.cmd.Process == nil {
			return
		}
		if e.exited {
			return
		}
		e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-e.waitErr:
			e.exited, e.exitErr = true, err
		case <-time.After(15 * time.Second):
			e.cmd.Process.Kill()
			<-e.waitErr
			e.exited, e.exitErr = true, errors.New("did not exit within 15 s of SIGTERM; killed")
		}
	})
	return e.exitErr
}

// ---------------------------------------------------------------------------
// HTTP plumbing with readable transcripts.
// ---------------------------------------------------------------------------

type specReq struct {
	method   string
	url      string
	token    string // sent as Authorization: Bearer
	ctype    string
	accept   string
	body     []byte
	bodyNote string // shown instead of body (binary bodies)
}

type specResp struct {
	status int
	header http.Header
	body   []byte
	trace  string
}

func specTrunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("... (%d bytes in all)", len(s))
	}
	return s
}

func (e *specEnv) do(t *testing.T, q specReq) *specResp {
	t.Helper()
	req, err := http.NewRequest(q.method, q.url, bytes.NewReader(q.body))
	if err != nil {
		t.Fatalf("building request %s %s: %v", q.method, q.url, err)
	}
	if q.ctype != "" {
		req.Header.Set("Content-Type", q.ctype)
	}
	if q.token != "" {
		req.Header.Set("Authorization", "Bearer "+q.token)
	}
	if q.accept != "" {
		req.Header.Set("Accept", q.accept)
	}
	var tr strings.Builder
	fmt.Fprintf(&tr, "--- request ---\n%s %s\n", q.method, q.url)
	for _, k := range []string{"Authorization", "Content-Type", "Accept"} {
		if v := req.Header.Get(k); v != "" {
			fmt.Fprintf(&tr, "%s: %s\n", k, v)
		}
	}
	switch {
	case q.bodyNote != "":
		fmt.Fprintf(&tr, "\n%s\n", q.bodyNote)
	case len(q.body) > 0:
		fmt.Fprintf(&tr, "\n%s\n", specTrunc(string(q.body), 1500))
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s%s %s failed: %v", tr.String(), q.method, q.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%sreading response body: %v", tr.String(), err)
	}
	fmt.Fprintf(&tr, "--- response ---\n%s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&tr, "%s: %s\n", k, v)
		}
	}
	if len(body) > 0 {
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
			fmt.Fprintf(&tr, "\n<%d bytes of %s>\n", len(body), resp.Header.Get("Content-Type"))
		} else {
			fmt.Fprintf(&tr, "\n%s\n", specTrunc(string(body), 2000))
		}
	}
	return &specResp{status: resp.StatusCode, header: resp.Header, body: body, trace: tr.String()}
}

// get fetches a page or file without credentials, as a visitor would.
func (e *specEnv) get(t *testing.T, u string) *specResp {
	t.Helper()
	return e.do(t, specReq{method: "GET", url: u, accept: "text/html,*/*"})
}

// specForm builds an x-www-form-urlencoded body from key, value pairs. Keys
// are sent as given (so "category[]" keeps literal brackets, as in the
// examples of the Recommendation); values are percent-encoded.
func specForm(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, kv[i]+"="+url.QueryEscape(kv[i+1]))
	}
	return strings.Join(parts, "&")
}

func (e *specEnv) postForm(t *testing.T, token, body string) *specResp {
	t.Helper()
	return e.do(t, specReq{method: "POST", url: e.endpoint, token: token,
		ctype: "application/x-www-form-urlencoded; charset=utf-8", accept: "application/json", body: []byte(body)})
}

func specJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

func (e *specEnv) postJSON(t *testing.T, token string, v any) *specResp {
	t.Helper()
	return e.postRawJSON(t, token, specJSON(v))
}

func (e *specEnv) postRawJSON(t *testing.T, token string, body []byte) *specResp {
	t.Helper()
	return e.do(t, specReq{method: "POST", url: e.endpoint, token: token,
		ctype: "application/json", accept: "application/json", body: body})
}

type specUpload struct {
	field    string
	filename string
	ctype    string
	data     []byte
}

func specMultipart(t *testing.T, fields [][2]string, files []specUpload) (body []byte, ctype, note string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var desc []string
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
		desc = append(desc, fmt.Sprintf("  part name=%q: %q", f[0], f[1]))
	}
	for _, f := range files {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, f.field, f.filename))
		h.Set("Content-Type", f.ctype)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
		desc = append(desc, fmt.Sprintf("  part name=%q filename=%q Content-Type: %s (%d bytes)", f.field, f.filename, f.ctype, len(f.data)))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType(), "<multipart/form-data body>\n" + strings.Join(desc, "\n")
}

func (e *specEnv) postMultipart(t *testing.T, target, token string, fields [][2]string, files []specUpload) *specResp {
	t.Helper()
	body, ct, note := specMultipart(t, fields, files)
	return e.do(t, specReq{method: "POST", url: target, token: token, ctype: ct, accept: "application/json", body: body, bodyNote: note})
}

// queryURL appends a query to the endpoint: the endpoint URL may already have
// a query string (3.7), so q is appended rather than replacing it.
func (e *specEnv) queryURL(rawQuery string) string {
	sep := "?"
	if strings.Contains(e.endpoint, "?") {
		sep = "&"
	}
	return e.endpoint + sep + rawQuery
}

func (e *specEnv) query(t *testing.T, token, rawQuery string) *specResp {
	t.Helper()
	return e.do(t, specReq{method: "GET", url: e.queryURL(rawQuery), token: token, accept: "application/json"})
}

// ---------------------------------------------------------------------------
// Assertions.
// ---------------------------------------------------------------------------

func specList(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func specIsJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func specAbs(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.IsAbs() && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// expectCreated checks 3.3.6: 201 Created (or 202 Accepted) and a Location
// header with the URL of the post. It returns that URL.
func (e *specEnv) expectCreated(t *testing.T, r *specResp) string {
	t.Helper()
	if r.status != http.StatusCreated && r.status != http.StatusAccepted {
		t.Fatalf("3.3.6: a create MUST answer HTTP 201 Created or 202 Accepted, got %d\n%s", r.status, r.trace)
	}
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("3.3.6: a create MUST return a Location header with the URL of the post; none was sent\n%s", r.trace)
	}
	if !specAbs(loc) {
		t.Errorf("Location must be an absolute URL, got %q\n%s", loc, r.trace)
		if b, err := url.Parse(e.endpoint); err == nil {
			if rel, err := b.Parse(loc); err == nil {
				loc = rel.String()
			}
		}
	}
	if r.status == http.StatusAccepted {
		// 3.3.6: the object must exist at the Location "at some point in the
		// (near) future"; wait a little for it.
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if pr := e.get(t, loc); pr.status == http.StatusOK {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return loc
}

// expectError checks 3.8: the status code and a JSON body whose "error" is code
// (code "" accepts any error string).
func (e *specEnv) expectError(t *testing.T, r *specResp, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("want HTTP %d (error %q), got %d\n%s", status, code, r.status, r.trace)
		return
	}
	if !specIsJSON(r.header) {
		t.Errorf("3.8: an error body MUST be a JSON object; Content-Type is %q\n%s", r.header.Get("Content-Type"), r.trace)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Errorf("3.8: an error body MUST be a JSON object with an \"error\" property: %v\n%s", err, r.trace)
		return
	}
	got, ok := body["error"].(string)
	if !ok {
		t.Errorf("3.8: the error body MUST include a string property \"error\"\n%s", r.trace)
		return
	}
	if code != "" && got != code {
		t.Errorf("want \"error\": %q, got %q\n%s", code, got, r.trace)
	}
	if d, ok := body["error_description"]; ok {
		if _, isStr := d.(string); !isStr {
			t.Errorf("3.8: error_description should be a human-readable string, got %#v", d)
		}
	}
}

// expectChanged checks 3.4.4 / 3.5.1: a successful update, delete or undelete
// answers 200 or 204, or 201 with a Location if the URL of the post changed.
// It returns the (possibly new) URL of the post.
func (e *specEnv) expectChanged(t *testing.T, what string, r *specResp, postURL string) string {
	t.Helper()
	switch r.status {
	case http.StatusOK, http.StatusNoContent:
		if r.status == http.StatusOK && len(bytes.TrimSpace(r.body)) > 0 {
			var v map[string]any
			if err := json.Unmarshal(r.body, &v); err != nil {
				t.Errorf("3.1: a response body SHOULD be a JSON object; the %s response body is not: %v\n%s", what, err, r.trace)
			}
		}
		if loc := r.header.Get("Location"); loc != "" && loc != postURL {
			t.Errorf("the %s answered %d with a different Location %q; a changed URL MUST be answered with 201\n%s", what, r.status, loc, r.trace)
		}
		return postURL
	case http.StatusCreated:
		loc := r.header.Get("Location")
		if loc == "" {
			t.Fatalf("a %s answered 201, which means the URL changed, but sent no Location header with the new URL\n%s", what, r.trace)
		}
		if !specAbs(loc) {
			t.Errorf("Location must be an absolute URL, got %q\n%s", loc, r.trace)
		}
		t.Logf("the %s moved the post: %s -> %s", what, postURL, loc)
		return loc
	default:
		t.Fatalf("a successful %s MUST answer HTTP 200, 201 or 204, got %d\n%s", what, r.status, r.trace)
		return postURL
	}
}

var (
	specClassRe = regexp.MustCompile(`(?is)\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	specLinkRe  = regexp.MustCompile(`(?is)<link\b[^>]*>`)
	specAttrRe  = regexp.MustCompile(`(?is)([a-z][a-z0-9-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))`)
)

func specHasClass(page []byte, class string) bool {
	for _, m := range specClassRe.FindAllSubmatch(page, -1) {
		v := string(m[1]) + string(m[2])
		for _, c := range strings.Fields(v) {
			if c == class {
				return true
			}
		}
	}
	return false
}

// expectPage fetches the post page: 200, HTML, marked up as h-entry, and
// containing each of the given strings. It returns the page body.
func (e *specEnv) expectPage(t *testing.T, postURL string, contains ...string) []byte {
	t.Helper()
	r := e.get(t, postURL)
	if r.status != http.StatusOK {
		t.Errorf("the post page %s should answer 200, got %d\n%s", postURL, r.status, r.trace)
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "text/html" {
		t.Errorf("the post page should be text/html, got Content-Type %q", r.header.Get("Content-Type"))
	}
	if !specHasClass(r.body, "h-entry") {
		t.Errorf("the post page %s is not marked up as an h-entry (no element with class h-entry)\n%s", postURL, r.trace)
	}
	for _, s := range contains {
		if !bytes.Contains(r.body, []byte(s)) {
			t.Errorf("the post page %s does not contain %q\n%s", postURL, s, r.trace)
		}
	}
	return r.body
}

func (e *specEnv) expectPageStatus(t *testing.T, postURL string, status int, why string) {
	t.Helper()
	r := e.get(t, postURL)
	if r.status != status {
		t.Errorf("%s: GET %s should answer %d, got %d\n%s", why, postURL, status, r.status, r.trace)
	}
}

// homeLacks is a best-effort check that a rejected create did not publish a
// post: the homepage (which lists posts, if it lists any) must not show text.
func (e *specEnv) homeLacks(t *testing.T, text string) {
	t.Helper()
	r := e.get(t, e.base)
	if bytes.Contains(r.body, []byte(text)) {
		t.Errorf("a rejected request published a post anyway: the homepage shows %q", text)
	}
}

// source runs q=source for postURL with an optional raw properties query.
func (e *specEnv) source(t *testing.T, token, postURL, extra string) (map[string]any, *specResp) {
	t.Helper()
	r := e.query(t, token, "q=source&url="+url.QueryEscape(postURL)+extra)
	if r.status != http.StatusOK {
		t.Fatalf("3.7.2: q=source for an existing post should answer 200, got %d\n%s", r.status, r.trace)
	}
	if !specIsJSON(r.header) {
		t.Errorf("3.7.2: q=source MUST answer JSON; Content-Type is %q", r.header.Get("Content-Type"))
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("3.7.2: q=source answer is not a JSON object: %v\n%s", err, r.trace)
	}
	return m, r
}

// Properties a server may add to what the client sent.
var specServerManaged = map[string]bool{
	"published": true, "updated": true, "url": true, "uid": true,
	"author": true, "post-status": true, "visibility": true,
}

type specPhoto struct {
	url  string // URL the client sent; "" for an uploaded file
	data []byte // bytes a copy served by the server must have
	alt  *string
}

func specStr(s string) *string { return &s }

type specWant struct {
	typ      []any
	props    map[string]any // must be present with exactly these values
	photos   []specPhoto    // if non-nil, "photo" must match these
	optional map[string]any // unrecognized properties: may be dropped (3.3.5), but if kept must be unchanged
	absent   []string       // must not be present
}

// checkSource fetches q=source for postURL and compares it with w. It returns
// the properties and the photo URLs the server reports.
func (e *specEnv) checkSource(t *testing.T, postURL string, w specWant) (map[string]any, []string) {
	t.Helper()
	got, r := e.source(t, e.tok["full"], postURL, "")
	if d := cmp.Diff(w.typ, got["type"]); d != "" {
		t.Errorf("3.7.2: q=source without properties MUST include the type (-want +got):\n%s\n%s", d, r.trace)
	}
	props, ok := got["properties"].(map[string]any)
	if !ok {
		t.Fatalf("3.7.2: q=source MUST return an object named \"properties\"\n%s", r.trace)
	}
	props = specNormalizeContent(t, props)

	sub := map[string]any{}
	for k := range w.props {
		if v, ok := props[k]; ok {
			sub[k] = v
		}
	}
	if d := cmp.Diff(w.props, sub); d != "" {
		t.Errorf("q=source properties differ from what was posted (-want +got):\n%s\n%s", d, r.trace)
	}
	for k, v := range w.optional {
		gv, ok := props[k]
		if !ok {
			t.Logf("the server dropped the unrecognized property %q (allowed by 3.3.5)", k)
			continue
		}
		if d := cmp.Diff(v, gv); d != "" {
			t.Errorf("the server kept property %q but changed its value (-want +got):\n%s\n%s", k, d, r.trace)
		}
	}
	var photoURLs []string
	if w.photos != nil {
		photoURLs = e.checkPhotos(t, props["photo"], w.photos, r.trace)
	}
	for _, k := range w.absent {
		if v, ok := props[k]; ok {
			t.Errorf("property %q should be absent, got %s\n%s", k, specJSON(v), r.trace)
		}
	}
	for k, v := range props {
		if _, ok := w.props[k]; ok {
			continue
		}
		if _, ok := w.optional[k]; ok {
			continue
		}
		if k == "photo" && w.photos != nil {
			continue
		}
		switch {
		case k == "access_token":
			t.Errorf("3.2: the server MUST NOT store the access_token property, but q=source returns it: %s", specJSON(v))
		case strings.HasPrefix(k, "mp-"):
			t.Errorf("3.2: mp-* parameters are commands to the server, not properties of the post, but q=source returns %q: %s", k, specJSON(v))
		case k == "h" || k == "action" || k == "type":
			t.Errorf("3.2: the reserved parameter %q was stored as a property: %s", k, specJSON(v))
		case specServerManaged[k]:
			t.Logf("server-managed property %q = %s", k, specJSON(v))
		default:
			t.Errorf("q=source returns property %q = %s that the client never sent\n%s", k, specJSON(v), r.trace)
		}
	}
	return props, photoURLs
}

// specNormalizeContent drops a "value" next to "html" in content objects: the
// spec requires "an object containing an html property", and microformats2
// parsed JSON may carry the plain-text value alongside.
func specNormalizeContent(t *testing.T, props map[string]any) map[string]any {
	t.Helper()
	c, ok := props["content"].([]any)
	if !ok {
		return props
	}
	out := map[string]any{}
	for k, v := range props {
		out[k] = v
	}
	nc := make([]any, len(c))
	for i, v := range c {
		m, ok := v.(map[string]any)
		if !ok {
			nc[i] = v
			continue
		}
		if _, hasHTML := m["html"]; hasHTML {
			if val, hasVal := m["value"].(string); hasVal {
				t.Logf("content object carries a plain-text value alongside html: %q", val)
				m2 := map[string]any{}
				for k, x := range m {
					if k != "value" {
						m2[k] = x
					}
				}
				m = m2
			}
		}
		nc[i] = m
	}
	out["content"] = nc
	return out
}

// checkPhotos compares the photo values of q=source with what was sent: a URL
// value may be kept as is, or replaced by the URL of a copy that the server
// serves with the same bytes (3.3.1); uploaded files must be served back
// byte for byte. Alt text must be kept (3.3.2).
func (e *specEnv) checkPhotos(t *testing.T, got any, want []specPhoto, trace string) []string {
	t.Helper()
	arr, ok := got.([]any)
	if !ok || len(arr) != len(want) {
		t.Errorf("photo: want %d value(s), got %s\n%s", len(want), specJSON(got), trace)
		return nil
	}
	var urls []string
	for i, w := range want {
		var u string
		var alt *string
		switch v := arr[i].(type) {
		case string:
			u = v
		case map[string]any:
			u, _ = v["value"].(string)
			if a, ok := v["alt"].(string); ok {
				alt = &a
			}
			for k := range v {
				if k != "value" && k != "alt" {
					t.Errorf("photo[%d]: unexpected key %q in %s", i, k, specJSON(v))
				}
			}
		default:
			t.Errorf("photo[%d]: want a URL or {value, alt}, got %s", i, specJSON(v))
			continue
		}
		switch {
		case w.alt != nil && alt == nil:
			t.Errorf("photo[%d]: 3.3.2: the alt text %q was lost; got %s\n%s", i, *w.alt, specJSON(arr[i]), trace)
		case w.alt != nil && *alt != *w.alt:
			t.Errorf("photo[%d]: alt text: want %q, got %q", i, *w.alt, *alt)
		case w.alt == nil && alt != nil:
			t.Errorf("photo[%d]: no alt text was sent, got %q", i, *alt)
		}
		urls = append(urls, u)
		if w.url != "" && u == w.url {
			continue // hotlinked, as sent
		}
		if !specAbs(u) {
			t.Errorf("photo[%d]: want an absolute URL, got %q\n%s", i, u, trace)
			continue
		}
		r := e.get(t, u)
		if r.status != http.StatusOK {
			t.Errorf("photo[%d]: the stored photo %s should be fetchable (200), got %d\n%s", i, u, r.status, r.trace)
			continue
		}
		if !bytes.Equal(r.body, w.data) {
			t.Errorf("photo[%d]: %s returns %d bytes that differ from the %d bytes sent", i, u, len(r.body), len(w.data))
		}
	}
	return urls
}

// ---------------------------------------------------------------------------
// Discovery helpers.
// ---------------------------------------------------------------------------

// specSplitLinks splits a Link header value on commas outside <...> and quotes.
func specSplitLinks(v string) []string {
	var parts []string
	var cur strings.Builder
	inAngle, inQuote := false, false
	for _, r := range v {
		switch {
		case r == '<' && !inQuote:
			inAngle = true
		case r == '>' && !inQuote:
			inAngle = false
		case r == '"' && !inAngle:
			inQuote = !inQuote
		case r == ',' && !inAngle && !inQuote:
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(parts, cur.String())
}

// specLinkHeaderTargets returns the targets of Link headers with rel.
func specLinkHeaderTargets(h http.Header, rel string) []string {
	var out []string
	for _, v := range h.Values("Link") {
		for _, part := range specSplitLinks(v) {
			part = strings.TrimSpace(part)
			if !strings.HasPrefix(part, "<") {
				continue
			}
			end := strings.Index(part, ">")
			if end < 0 {
				continue
			}
			target := part[1:end]
			for _, p := range strings.Split(part[end+1:], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				for _, r := range strings.Fields(val) {
					if strings.EqualFold(r, rel) {
						out = append(out, target)
					}
				}
			}
		}
	}
	return out
}

type specLinkTag struct {
	href   string
	inHead bool
}

// specHTMLLinks returns <link rel=rel href> tags of an HTML page.
func specHTMLLinks(page string, rel string) []specLinkTag {
	lower := strings.ToLower(page)
	headEnd := strings.Index(lower, "</head>")
	if headEnd < 0 {
		headEnd = strings.Index(lower, "<body")
	}
	if headEnd < 0 {
		headEnd = len(page)
	}
	var out []specLinkTag
	for _, loc := range specLinkRe.FindAllStringIndex(page, -1) {
		tag := page[loc[0]:loc[1]]
		attrs := map[string]string{}
		for _, m := range specAttrRe.FindAllStringSubmatch(tag, -1) {
			attrs[strings.ToLower(m[1])] = html.UnescapeString(m[2] + m[3] + m[4])
		}
		for _, r := range strings.Fields(attrs["rel"]) {
			if strings.EqualFold(r, rel) {
				out = append(out, specLinkTag{href: attrs["href"], inHead: loc[0] < headEnd})
			}
		}
	}
	return out
}

func (e *specEnv) resolve(ref string) string {
	b, err := url.Parse(e.base)
	if err != nil {
		return ref
	}
	u, err := b.Parse(ref)
	if err != nil {
		return ref
	}
	return u.String()
}

// discover fetches the homepage and returns the endpoint advertised in the
// Link header and in the HTML <link> tag.
func (e *specEnv) discover() (endpoint string, fromHeader, fromHTML []string) {
	resp, err := e.client.Get(e.base)
	if err != nil {
		return "", nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, h := range specLinkHeaderTargets(resp.Header, "micropub") {
		fromHeader = append(fromHeader, e.resolve(h))
	}
	for _, l := range specHTMLLinks(string(body), "micropub") {
		fromHTML = append(fromHTML, e.resolve(l.href))
	}
	switch {
	case len(fromHeader) > 0:
		endpoint = fromHeader[0]
	case len(fromHTML) > 0:
		endpoint = fromHTML[0]
	}
	return endpoint, fromHeader, fromHTML
}

// ---------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------

// specImage encodes a small real image (8x8, diagonal stripe) in the format.
func specImage(t *testing.T, format string, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			if x == y {
				img.Set(x, y, color.RGBA{255, 255, 255, 255})
			} else {
				img.Set(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&buf, img, nil)
	default:
		t.Fatalf("unknown image format %q", format)
	}
	if err != nil {
		t.Fatalf("encoding %s: %v", format, err)
	}
	return buf.Bytes()
}

func (e *specEnv) fixURL(name string) string { return e.fix.URL + "/media/" + name }

func (e *specEnv) fixData(name string) []byte { return e.fixFiles["/media/"+name].data }

// createJSON creates a post with the full token and returns its URL.
func (e *specEnv) createJSON(t *testing.T, props map[string]any) string {
	t.Helper()
	return e.expectCreated(t, e.postJSON(t, e.tok["full"], map[string]any{"type": specList("h-entry"), "properties": props}))
}

// ---------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------

func TestSpec(t *testing.T) {
	e := specSetup(t)
	full := e.tok["full"]

	// ---- Discovery -------------------------------------------------------

	t.Run("5.3 discovery: homepage advertises the Micropub endpoint (Link header and <link rel=micropub>)", func(t *testing.T) {
		r := e.get(t, e.base)
		if r.status != http.StatusOK {
			t.Fatalf("GET / should answer 200, got %d\n%s", r.status, r.trace)
		}
		hdr := specLinkHeaderTargets(r.header, "micropub")
		if len(hdr) == 0 {
			t.Errorf("5.3: no HTTP Link header with rel=\"micropub\" on the homepage\n%s", r.trace)
		}
		tags := specHTMLLinks(string(r.body), "micropub")
		if len(tags) == 0 {
			t.Errorf("5.3: no <link rel=\"micropub\" href=...> on the homepage\n%s", r.trace)
		}
		for _, tag := range tags {
			if !tag.inHead {
				t.Errorf("5.3: <link rel=\"micropub\"> should be in the HTML head, found one after it (href %q)", tag.href)
			}
			if tag.href == "" {
				t.Errorf("5.3: <link rel=\"micropub\"> has no href")
			}
		}
		var all []string
		for _, h := range hdr {
			all = append(all, e.resolve(h))
		}
		for _, tag := range tags {
			all = append(all, e.resolve(tag.href))
		}
		for _, u := range all {
			if u != all[0] {
				t.Errorf("the Link header and the <link> tag advertise different endpoints: %q", all)
				break
			}
		}
		if len(all) > 0 {
			sep := "?"
			if strings.Contains(all[0], "?") {
				sep = "&"
			}
			qr := e.do(t, specReq{method: "GET", url: all[0] + sep + "q=config", token: full, accept: "application/json"})
			if qr.status != http.StatusOK {
				t.Errorf("the discovered endpoint %s does not answer q=config with 200\n%s", all[0], qr.trace)
			}
		}
		t.Logf("micropub endpoint: %s; media endpoint: %s", e.endpoint, e.media)
	})

	// ---- Create: form-encoded ---------------------------------------------

	t.Run("100 create an h-entry (form-encoded)", func(t *testing.T) {
		content := "Micropub test of creating a basic h-entry"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content)))
		e.expectPage(t, u, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("101 create an h-entry with multiple categories (form-encoded, category[])", func(t *testing.T) {
		content := "Micropub test of creating an h-entry with categories. This post should have two categories, test1 and test2"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "category[]", "test1", "category[]", "test2")))
		e.expectPage(t, u, content, "test1", "test2")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("test1", "test2")}})
	})

	t.Run("101b multiple values with percent-encoded brackets (category%5B%5D)", func(t *testing.T) {
		content := "Categories sent with percent-encoded brackets"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "category%5B%5D", "alpha", "category%5B%5D", "beta")))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("alpha", "beta")}})
	})

	t.Run("104 create an h-entry with a photo referenced by URL (form-encoded)", func(t *testing.T) {
		content := "Micropub test of creating a photo referenced by URL"
		photo := e.fixURL("sunset.jpg")
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "photo", photo)))
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:  map[string]any{"content": specList(content)},
			photos: []specPhoto{{url: photo, data: e.fixData("sunset.jpg")}}})
		e.expectPage(t, u, append([]string{content}, urls...)...)
	})

	t.Run("107 create an h-entry with one category without brackets (form-encoded)", func(t *testing.T) {
		content := "Micropub test of creating an h-entry with one category. This post should have one category, test1"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "category", "test1")))
		e.expectPage(t, u, content, "test1")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("test1")}})
	})

	t.Run("3.3 one value with brackets is accepted (category[]=one)", func(t *testing.T) {
		content := "One category sent with brackets"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "category[]", "solo")))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("solo")}})
	})

	t.Run("3.3 SHOULD default to h-entry when h is omitted (form-encoded)", func(t *testing.T) {
		content := "A note sent without the h parameter"
		u := e.expectCreated(t, e.postForm(t, full, specForm("content", content)))
		e.expectPage(t, u, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("3.3.5 MUST ignore unrecognized properties and still create the post (form-encoded)", func(t *testing.T) {
		content := "A post with properties the server may not know"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content,
			"x-custom-thing", "alpha", "x-other[]", "one", "x-other[]", "two")))
		e.expectPage(t, u, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:    map[string]any{"content": specList(content)},
			optional: map[string]any{"x-custom-thing": specList("alpha"), "x-other": specList("one", "two")}})
	})

	t.Run("2.1 MUST support UTF-8 (form-encoded)", func(t *testing.T) {
		content := "Grüße aus Zürich, こんにちは世界, emoji 🌍 and «quotes»"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "category", "übung")))
		e.expectPage(t, u, "Grüße aus Zürich", "こんにちは世界", "🌍")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("übung")}})
	})

	t.Run("3.3.4 bidirectional text is stored unchanged", func(t *testing.T) {
		content := "שלום עולם - hello - مرحبا بالعالم"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content)))
		e.expectPage(t, u, "שלום עולם", "مرحبا بالعالم")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("3.7.2 plain-text content with markup stays a plain string and is escaped on the page", func(t *testing.T) {
		content := "1 < 2 and <b>not bold</b> & more"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content)))
		page := e.expectPage(t, u, html.EscapeString("<b>not bold</b>"))
		if bytes.Contains(page, []byte("<b>not bold</b>")) {
			t.Errorf("plain-text content was rendered as HTML: the page contains the raw markup <b>not bold</b>")
		}
		// 3.7.2: content not written as HTML MUST come back as a string.
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("3.2 mp-* commands are not stored as properties", func(t *testing.T) {
		content := "A post carrying an unknown mp- command"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content, "mp-x-unknown-command", "1")))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)},
			absent: []string{"mp-x-unknown-command"}})

		content = "A JSON post carrying an unknown mp- command"
		u = e.createJSON(t, map[string]any{"content": specList(content), "mp-x-unknown-command": specList("1")})
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)},
			absent: []string{"mp-x-unknown-command"}})
	})

	// ---- Create: JSON -----------------------------------------------------

	t.Run("200 create an h-entry (JSON)", func(t *testing.T) {
		content := "Micropub test of creating an h-entry with a JSON request"
		u := e.createJSON(t, map[string]any{"content": specList(content)})
		e.expectPage(t, u, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("201 create an h-entry with multiple categories (JSON)", func(t *testing.T) {
		content := "Micropub test of creating an h-entry with a JSON request containing multiple categories. This post should have two categories, test1 and test2."
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("test1", "test2")})
		e.expectPage(t, u, content, "test1", "test2")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("test1", "test2")}})
	})

	htmlContent := "<p>This post has <b>bold</b> and <i>italic</i> text.</p>"
	var htmlPost string
	t.Run("202 create an h-entry with HTML content (JSON)", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": []any{map[string]any{"html": htmlContent}}})
		htmlPost = u
		page := e.expectPage(t, u, "<b>bold</b>", "<i>italic</i>")
		if bytes.Contains(page, []byte("&lt;b&gt;bold")) {
			t.Errorf("the HTML content was escaped instead of rendered")
		}
		// 3.7.2: content written as HTML MUST come back as {"html": ...}.
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": []any{map[string]any{"html": htmlContent}}}})
	})

	t.Run("203 create an h-entry with a photo referenced by URL (JSON)", func(t *testing.T) {
		content := "Micropub test of creating a photo referenced by URL. This post should include a photo of a sunset."
		photo := e.fixURL("sunset.jpg")
		u := e.createJSON(t, map[string]any{"content": specList(content), "photo": specList(photo)})
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:  map[string]any{"content": specList(content)},
			photos: []specPhoto{{url: photo, data: e.fixData("sunset.jpg")}}})
		e.expectPage(t, u, append([]string{content}, urls...)...)
	})

	t.Run("204 create an h-entry with a nested microformats2 object (JSON)", func(t *testing.T) {
		summary := "Weighed 70.64 kg at the Test Cafe"
		card := []any{map[string]any{
			"type":       specList("h-card"),
			"properties": map[string]any{"name": specList("Test Cafe"), "locality": specList("Portland"), "url": specList("https://cafe.example/")},
		}}
		measure := []any{map[string]any{
			"type":       specList("h-measure"),
			"properties": map[string]any{"num": specList("70.64"), "unit": specList("kg")},
		}}
		u := e.createJSON(t, map[string]any{"summary": specList(summary), "location": card, "x-weight": measure})
		e.expectPage(t, u, summary)
		e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:    map[string]any{"summary": specList(summary), "location": card},
			optional: map[string]any{"x-weight": measure}})
	})

	t.Run("205 create an h-entry with a photo with alt text (JSON)", func(t *testing.T) {
		content := "Micropub test of creating a photo referenced by URL with alt text. This post should include a photo of a sunset."
		photo := e.fixURL("sunset.jpg")
		alt := "Photo of a sunset"
		u := e.createJSON(t, map[string]any{"content": specList(content),
			"photo": []any{map[string]any{"value": photo, "alt": alt}}})
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:  map[string]any{"content": specList(content)},
			photos: []specPhoto{{url: photo, data: e.fixData("sunset.jpg"), alt: specStr(alt)}}})
		page := e.expectPage(t, u, append([]string{content}, urls...)...)
		if page != nil && !bytes.Contains(page, []byte(alt)) {
			t.Errorf("the post page does not show the alt text %q", alt)
		}
	})

	t.Run("206 create an h-entry with multiple photos referenced by URL (JSON)", func(t *testing.T) {
		content := "Micropub test of creating multiple photos referenced by URL. This post should include a photo of a city at night."
		p1, p2 := e.fixURL("sunset.jpg"), e.fixURL("city-at-night.jpg")
		u := e.createJSON(t, map[string]any{"content": specList(content), "photo": specList(p1, p2)})
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props: map[string]any{"content": specList(content)},
			photos: []specPhoto{
				{url: p1, data: e.fixData("sunset.jpg")},
				{url: p2, data: e.fixData("city-at-night.jpg")},
			}})
		e.expectPage(t, u, append([]string{content}, urls...)...)
	})

	t.Run("3.3.5 MUST ignore unrecognized properties and still create the post (JSON)", func(t *testing.T) {
		content := "A JSON post with custom properties"
		custom := map[string]any{
			"x-mood":   specList("curious"),
			"x-rating": []any{map[string]any{"type": specList("h-review"), "properties": map[string]any{"rating": specList("5")}}},
		}
		props := map[string]any{"content": specList(content)}
		for k, v := range custom {
			props[k] = v
		}
		u := e.createJSON(t, props)
		e.expectPage(t, u, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}, optional: custom})
	})

	t.Run("4 SHOULD default to h-entry when type is omitted (JSON)", func(t *testing.T) {
		content := "A JSON post without a type"
		u := e.expectCreated(t, e.postJSON(t, full, map[string]any{"properties": map[string]any{"content": specList(content)}}))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("3.3.2 a JSON create whose values are not arrays is rejected (400) or stored as arrays", func(t *testing.T) {
		// "all values MUST be specified as arrays" binds the client; the
		// server may reject such a request as invalid_request or be lenient,
		// but q=source MUST still answer microformats2 JSON, where every
		// value is an array.
		content := "JSON create with a bare string value"
		r := e.postJSON(t, full, map[string]any{"type": specList("h-entry"), "properties": map[string]any{"content": content}})
		if r.status == http.StatusBadRequest {
			e.expectError(t, r, http.StatusBadRequest, "invalid_request")
			e.homeLacks(t, content)
			return
		}
		u := e.expectCreated(t, r)
		t.Logf("the server accepted a bare string value (lenient); checking it is stored as a one-element array")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("3.8 reject a malformed JSON body (400 invalid_request)", func(t *testing.T) {
		r := e.postRawJSON(t, full, []byte(`{"type": ["h-entry"], "properties": {"content": ["unterminated`))
		e.expectError(t, r, http.StatusBadRequest, "invalid_request")
	})

	// ---- Create: multipart --------------------------------------------------

	t.Run("300 create an h-entry with a photo (multipart)", func(t *testing.T) {
		content := "Nice sunset tonight"
		img := specImage(t, "jpeg", color.RGBA{200, 90, 20, 255})
		r := e.postMultipart(t, e.endpoint, full, [][2]string{{"h", "entry"}, {"content", content}},
			[]specUpload{{field: "photo", filename: "sunset.jpg", ctype: "image/jpeg", data: img}})
		u := e.expectCreated(t, r)
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:  map[string]any{"content": specList(content)},
			photos: []specPhoto{{data: img}}})
		e.expectPage(t, u, append([]string{content}, urls...)...)
	})

	t.Run("301 create an h-entry with two photos (multipart, photo[])", func(t *testing.T) {
		content := "This post should have two photos"
		img1 := specImage(t, "jpeg", color.RGBA{220, 100, 40, 255})
		img2 := specImage(t, "png", color.RGBA{20, 30, 90, 255})
		r := e.postMultipart(t, e.endpoint, full,
			[][2]string{{"h", "entry"}, {"content", content}, {"category[]", "photos"}, {"category[]", "test"}},
			[]specUpload{
				{field: "photo[]", filename: "sunset.jpg", ctype: "image/jpeg", data: img1},
				{field: "photo[]", filename: "city-at-night.png", ctype: "image/png", data: img2},
			})
		u := e.expectCreated(t, r)
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:  map[string]any{"content": specList(content), "category": specList("photos", "test")},
			photos: []specPhoto{{data: img1}, {data: img2}}})
		e.expectPage(t, u, append([]string{content}, urls...)...)
	})

	// ---- Update -------------------------------------------------------------

	t.Run("400 update: replace a property", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("Micropub update test."), "category": specList("keep")})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u,
			"replace": map[string]any{"content": specList("This is the updated text. If you can see this you passed the test!")}})
		u = e.expectChanged(t, "update", r, u)
		e.expectPage(t, u, "This is the updated text. If you can see this you passed the test!")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content":  specList("This is the updated text. If you can see this you passed the test!"),
			"category": specList("keep")}})
	})

	t.Run("401 update: add a value to an existing property", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("This test adds a category to the post. After you run the update, this post should have two categories: test1 and test2."),
			"category": specList("test1")})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u, "add": map[string]any{"category": specList("test2")}})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content":  specList("This test adds a category to the post. After you run the update, this post should have two categories: test1 and test2."),
			"category": specList("test1", "test2")}})
	})

	t.Run("402 update: add a value to a non-existent property", func(t *testing.T) {
		content := "This test adds a new property to the post. After you run the update, this post should have the category test1."
		u := e.createJSON(t, map[string]any{"content": specList(content)})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u, "add": map[string]any{"category": specList("test1")}})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("test1")}})
	})

	t.Run("403 update: remove a value from a property", func(t *testing.T) {
		content := "This test deletes a category from the post. After you run the update, this post should have only the category test1."
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("test1", "test2")})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u, "delete": map[string]any{"category": specList("test2")}})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "category": specList("test1")}})
	})

	t.Run("404 update: remove a property", func(t *testing.T) {
		content := "This test removes a property from the post. After you run the update, this post should have no category."
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("test1", "test2")})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u, "delete": specList("category")})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)},
			absent: []string{"category"}})
	})

	t.Run("405 update: reject a malformed update (400) and change nothing", func(t *testing.T) {
		content := "Micropub update test #405."
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("one", "two")})
		want := specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content), "category": specList("one", "two")}}
		e.checkSource(t, u, want)
		cases := []struct{ name, body string }{
			{"replace is a string", `{"action": "update", "url": %q, "replace": "This is not a valid update request."}`},
			{"add is a string", `{"action": "update", "url": %q, "add": "not valid"}`},
			{"delete is a string", `{"action": "update", "url": %q, "delete": "category"}`},
			{"replace value is not an array", `{"action": "update", "url": %q, "replace": {"content": "not an array"}}`},
			{"add value is not an array", `{"action": "update", "url": %q, "add": {"category": "three"}}`},
			{"delete value is not an array", `{"action": "update", "url": %q, "delete": {"category": "one"}}`},
			{"replace is an array", `{"action": "update", "url": %q, "replace": ["content"]}`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.postRawJSON(t, full, []byte(fmt.Sprintf(c.body, u)))
				e.expectError(t, r, http.StatusBadRequest, "invalid_request")
				e.checkSource(t, u, want)
			})
		}
		// Not malformed: Micropublish sends an update without an operation when nothing was
		// edited. It succeeds and changes nothing (issue 7).
		t.Run("no replace, add or delete is a no-op", func(t *testing.T) {
			r := e.postRawJSON(t, full, []byte(fmt.Sprintf(`{"action": "update", "url": %q}`, u)))
			e.expectChanged(t, "update", r, u)
			e.checkSource(t, u, specWant{typ: want.typ, props: want.props, absent: []string{"updated"}})
		})
	})

	t.Run("3.4.1 replace creates a property that does not exist", func(t *testing.T) {
		content := "A post that gets a summary by replace"
		u := e.createJSON(t, map[string]any{"content": specList(content)})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u, "replace": map[string]any{"summary": specList("Added by replace")}})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList(content), "summary": specList("Added by replace")}})
	})

	t.Run("3.4.3 removing the last value removes the property", func(t *testing.T) {
		content := "A post whose only category is removed by value"
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("only")})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u, "delete": map[string]any{"category": specList("only")}})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)},
			absent: []string{"category"}})
	})

	t.Run("3.4 update combining replace, add and delete", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("Before the combined update"), "category": specList("a", "b")})
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u,
			"replace": map[string]any{"content": specList("After the combined update")},
			"add":     map[string]any{"category": specList("c")},
			"delete":  map[string]any{"category": specList("a")},
		})
		u = e.expectChanged(t, "update", r, u)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": specList("After the combined update"), "category": specList("b", "c")}})
	})

	t.Run("3.4.1 replace content with HTML keeps it HTML", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("Plain before the update")})
		newHTML := "<p>Now with <b>bold</b> text</p>"
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": u,
			"replace": map[string]any{"content": []any{map[string]any{"html": newHTML}}}})
		u = e.expectChanged(t, "update", r, u)
		e.expectPage(t, u, "<b>bold</b>")
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content": []any{map[string]any{"html": newHTML}}}})
	})

	t.Run("3.8 update of an unknown post is an error", func(t *testing.T) {
		r := e.postJSON(t, full, map[string]any{"action": "update", "url": e.base + "no/such/post/4040404",
			"replace": map[string]any{"content": specList("nothing")}})
		if r.status < 400 || r.status > 499 {
			t.Errorf("an update of a post that does not exist must fail with a 4xx error, got %d\n%s", r.status, r.trace)
			return
		}
		e.expectError(t, r, r.status, "")
	})

	// ---- Delete / undelete -------------------------------------------------

	t.Run("500 delete a post (form-encoded)", func(t *testing.T) {
		content := "This post will be deleted when the test succeeds."
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", content)))
		e.expectPage(t, u, content)
		r := e.postForm(t, full, specForm("action", "delete", "url", u))
		e.expectChanged(t, "delete", r, u)
		e.expectPageStatus(t, u, http.StatusGone, "a deleted post")
	})

	t.Run("501 delete a post (JSON)", func(t *testing.T) {
		content := "This post will be deleted with a JSON request."
		u := e.createJSON(t, map[string]any{"content": specList(content)})
		e.expectPage(t, u, content)
		r := e.postJSON(t, full, map[string]any{"action": "delete", "url": u})
		e.expectChanged(t, "delete", r, u)
		e.expectPageStatus(t, u, http.StatusGone, "a deleted post")
	})

	undelete := func(t *testing.T, viaJSON bool) {
		content := "This post will be deleted, and should be restored after undeleting it."
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("undelete")})
		want := specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content), "category": specList("undelete")}}
		e.checkSource(t, u, want)
		var r *specResp
		if viaJSON {
			r = e.postJSON(t, full, map[string]any{"action": "delete", "url": u})
		} else {
			r = e.postForm(t, full, specForm("action", "delete", "url", u))
		}
		e.expectChanged(t, "delete", r, u)
		e.expectPageStatus(t, u, http.StatusGone, "a deleted post")
		if viaJSON {
			r = e.postJSON(t, full, map[string]any{"action": "undelete", "url": u})
		} else {
			r = e.postForm(t, full, specForm("action", "undelete", "url", u))
		}
		nu := e.expectChanged(t, "undelete", r, u)
		if nu != u {
			e.expectPageStatus(t, u, http.StatusGone, "the old URL of a post moved by undelete")
		}
		e.expectPage(t, nu, content)
		e.checkSource(t, nu, want)
	}
	t.Run("502 undelete a post (form-encoded)", func(t *testing.T) { undelete(t, false) })
	t.Run("503 undelete a post (JSON)", func(t *testing.T) { undelete(t, true) })

	t.Run("3.8 delete without a url is rejected (400 invalid_request)", func(t *testing.T) {
		e.expectError(t, e.postForm(t, full, specForm("action", "delete")), http.StatusBadRequest, "invalid_request")
		e.expectError(t, e.postJSON(t, full, map[string]any{"action": "delete"}), http.StatusBadRequest, "invalid_request")
	})

	t.Run("3.8 unknown action is rejected (400 invalid_request)", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("A post hit by an unknown action")})
		e.expectError(t, e.postJSON(t, full, map[string]any{"action": "frobnicate", "url": u}), http.StatusBadRequest, "invalid_request")
		e.expectPage(t, u, "A post hit by an unknown action")
	})

	// ---- Queries ------------------------------------------------------------

	var config map[string]any
	t.Run("600 configuration query (q=config)", func(t *testing.T) {
		r := e.query(t, full, "q=config")
		if r.status != http.StatusOK {
			t.Fatalf("3.7.1: q=config should answer 200, got %d\n%s", r.status, r.trace)
		}
		if !specIsJSON(r.header) {
			t.Errorf("q=config should answer application/json, got %q", r.header.Get("Content-Type"))
		}
		if err := json.Unmarshal(r.body, &config); err != nil {
			t.Fatalf("q=config answer is not a JSON object: %v\n%s", err, r.trace)
		}
		m, ok := config["media-endpoint"].(string)
		if !ok || !specAbs(m) {
			t.Errorf("3.6.1: the server MUST include media-endpoint with the full URL of the Media Endpoint in q=config; got %s\n%s", specJSON(config["media-endpoint"]), r.trace)
		}
		specCheckTargets(t, "q=config", config["syndicate-to"], r.trace)
		qs, ok := config["q"].([]any)
		if !ok {
			t.Errorf("q=config should list the supported queries in \"q\"; got %s", specJSON(config["q"]))
		} else {
			have := map[string]bool{}
			for _, q := range qs {
				s, _ := q.(string)
				have[s] = true
			}
			for _, q := range []string{"config", "source", "syndicate-to"} {
				if !have[q] {
					t.Errorf("q=config \"q\" list %s does not include %q", specJSON(qs), q)
				}
			}
		}
	})

	t.Run("601 syndication targets query (q=syndicate-to)", func(t *testing.T) {
		r := e.query(t, full, "q=syndicate-to")
		if r.status != http.StatusOK {
			t.Fatalf("3.7.3: q=syndicate-to should answer 200, got %d\n%s", r.status, r.trace)
		}
		if !specIsJSON(r.header) {
			t.Errorf("3.7.3: the endpoint MUST answer in JSON format, got Content-Type %q", r.header.Get("Content-Type"))
		}
		var body map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("3.7.3: q=syndicate-to answer is not a JSON object: %v\n%s", err, r.trace)
		}
		specCheckTargets(t, "q=syndicate-to", body["syndicate-to"], r.trace)
		if config != nil {
			if d := cmp.Diff(config["syndicate-to"], body["syndicate-to"]); d != "" {
				t.Errorf("q=config and q=syndicate-to list different syndication targets (-config +syndicate-to):\n%s", d)
			}
		}
	})

	t.Run("602 source query: all properties", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("Test of querying the endpoint for the source content"), "category": specList("micropub", "test")})
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{
			"content":  specList("Test of querying the endpoint for the source content"),
			"category": specList("micropub", "test")}})
	})

	t.Run("603 source query: specific properties (properties[])", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("Test of querying the endpoint for the source content"),
			"category": specList("micropub", "test"), "summary": specList("not requested")})
		got, r := e.source(t, full, u, "&properties[]=content&properties[]=category")
		want := map[string]any{"properties": map[string]any{
			"content":  specList("Test of querying the endpoint for the source content"),
			"category": specList("micropub", "test")}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("3.7.2: with properties[] the answer MUST be only {\"properties\": {...}} with the requested keys (-want +got):\n%s\n%s", d, r.trace)
		}
	})

	t.Run("3.7.2 source query: single properties=content without brackets", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("Only the content is requested"), "category": specList("x")})
		got, r := e.source(t, full, u, "&properties=content")
		want := map[string]any{"properties": map[string]any{"content": specList("Only the content is requested")}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("3.7.2 (Example 23): properties=content (-want +got):\n%s\n%s", d, r.trace)
		}
	})

	t.Run("3.7.2 source query: HTML content comes back as {html}", func(t *testing.T) {
		u := htmlPost
		if u == "" {
			u = e.createJSON(t, map[string]any{"content": []any{map[string]any{"html": htmlContent}}})
		}
		got, r := e.source(t, full, u, "&properties[]=content")
		props, _ := got["properties"].(map[string]any)
		if props == nil {
			t.Fatalf("no properties object\n%s", r.trace)
		}
		props = specNormalizeContent(t, props)
		want := map[string]any{"content": []any{map[string]any{"html": htmlContent}}}
		if d := cmp.Diff(want, props); d != "" {
			t.Errorf("3.7.2: content written as HTML MUST be returned as an object with an html property (-want +got):\n%s\n%s", d, r.trace)
		}
		if _, ok := got["type"]; ok {
			t.Errorf("3.7.2: with properties requested the answer should hold only \"properties\", got type too\n%s", r.trace)
		}
	})

	t.Run("3.8 source query for an unknown URL (400 invalid_request)", func(t *testing.T) {
		r := e.query(t, full, "q=source&url="+url.QueryEscape(e.base+"post/404-does-not-exist"))
		e.expectError(t, r, http.StatusBadRequest, "invalid_request")
	})

	t.Run("3.8 unknown query (400 invalid_request)", func(t *testing.T) {
		e.expectError(t, e.query(t, full, "q=frobnicate"), http.StatusBadRequest, "invalid_request")
	})

	// ---- Media Endpoint --------------------------------------------------------

	requireMedia := func(t *testing.T) {
		t.Helper()
		if e.media == "" {
			t.Fatalf("no Media Endpoint could be discovered: %s", e.mediaErr)
		}
	}
	uploadOK := func(t *testing.T, up specUpload) string {
		t.Helper()
		requireMedia(t)
		r := e.postMultipart(t, e.media, full, nil, []specUpload{up})
		if r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed {
			t.Fatalf("3.6: the media-endpoint advertised in q=config (%s) does not accept a multipart POST (HTTP %d): the Media Endpoint is missing\n%s", e.media, r.status, r.trace)
		}
		if r.status != http.StatusCreated {
			t.Fatalf("3.6.4: a successful upload MUST answer HTTP 201 Created, got %d\n%s", r.status, r.trace)
		}
		loc := r.header.Get("Location")
		if loc == "" {
			t.Fatalf("3.6.4: the Media Endpoint MUST return the URL of the file in the Location header; none sent\n%s", r.trace)
		}
		if !specAbs(loc) {
			t.Fatalf("the Location of an uploaded file must be an absolute URL, got %q\n%s", loc, r.trace)
		}
		g := e.get(t, loc)
		if g.status != http.StatusOK {
			t.Fatalf("GET %s (the uploaded file) should answer 200, got %d\n%s", loc, g.status, g.trace)
		}
		if !bytes.Equal(g.body, up.data) {
			t.Errorf("GET %s returns %d bytes that differ from the %d bytes uploaded", loc, len(g.body), len(up.data))
		}
		if mt, _, _ := mime.ParseMediaType(g.header.Get("Content-Type")); mt != up.ctype {
			t.Errorf("GET %s: want Content-Type %s, got %q", loc, up.ctype, g.header.Get("Content-Type"))
		}
		return loc
	}

	t.Run("700 upload a jpg to the Media Endpoint", func(t *testing.T) {
		uploadOK(t, specUpload{field: "file", filename: "sunset.jpg", ctype: "image/jpeg", data: specImage(t, "jpeg", color.RGBA{240, 110, 30, 255})})
	})
	t.Run("701 upload a png to the Media Endpoint", func(t *testing.T) {
		uploadOK(t, specUpload{field: "file", filename: "micropub-rocks.png", ctype: "image/png", data: specImage(t, "png", color.RGBA{90, 30, 160, 255})})
	})
	t.Run("702 upload a gif to the Media Endpoint", func(t *testing.T) {
		uploadOK(t, specUpload{field: "file", filename: "w3c-socialwg.gif", ctype: "image/gif", data: specImage(t, "gif", color.RGBA{0, 90, 156, 255})})
	})

	t.Run("3.6.4 SHOULD give uploaded files unguessable URLs", func(t *testing.T) {
		data := specImage(t, "png", color.RGBA{1, 2, 3, 255})
		a := uploadOK(t, specUpload{field: "file", filename: "a.png", ctype: "image/png", data: data})
		b := uploadOK(t, specUpload{field: "file", filename: "b.png", ctype: "image/png", data: specImage(t, "png", color.RGBA{4, 5, 6, 255})})
		for _, u := range []string{a, b} {
			p, _ := url.Parse(u)
			seg := strings.TrimSuffix(path.Base(p.Path), path.Ext(p.Path))
			if len(seg) < 16 {
				t.Errorf("3.6.4: the file URL SHOULD be unguessable (e.g. a UUID); %q has a short name %q", u, seg)
			}
		}
		if a == b {
			t.Errorf("two different files got the same URL %q", a)
		}
	})

	t.Run("3.6.2 Media Endpoint rejects an upload without a token (401)", func(t *testing.T) {
		requireMedia(t)
		r := e.postMultipart(t, e.media, "", nil, []specUpload{{field: "file", filename: "x.png", ctype: "image/png", data: specImage(t, "png", color.RGBA{9, 9, 9, 255})}})
		e.expectError(t, r, http.StatusUnauthorized, "unauthorized")
	})

	t.Run("3.6.2 Media Endpoint rejects an unknown token (401)", func(t *testing.T) {
		requireMedia(t)
		r := e.postMultipart(t, e.media, "no-such-token-for-media", nil, []specUpload{{field: "file", filename: "x.png", ctype: "image/png", data: specImage(t, "png", color.RGBA{8, 8, 8, 255})}})
		e.expectError(t, r, http.StatusUnauthorized, "")
	})

	t.Run("3.6.4.1 Media Endpoint error for a request without a file part (400 invalid_request)", func(t *testing.T) {
		requireMedia(t)
		r := e.postMultipart(t, e.media, full, [][2]string{{"note", "no file here"}}, nil)
		e.expectError(t, r, http.StatusBadRequest, "invalid_request")
	})

	t.Run("3.6 upload to the Media Endpoint, then create a post with the URL and alt text", func(t *testing.T) {
		data := specImage(t, "jpeg", color.RGBA{130, 60, 10, 255})
		loc := uploadOK(t, specUpload{field: "file", filename: "sunset.jpg", ctype: "image/jpeg", data: data})
		content := "A post using a photo from the Media Endpoint"
		alt := "A sunset over the sea"
		u := e.createJSON(t, map[string]any{"content": specList(content), "photo": []any{map[string]any{"value": loc, "alt": alt}}})
		_, urls := e.checkSource(t, u, specWant{typ: specList("h-entry"),
			props:  map[string]any{"content": specList(content)},
			photos: []specPhoto{{url: loc, data: data, alt: specStr(alt)}}})
		e.expectPage(t, u, append([]string{content, alt}, urls...)...)
	})

	// ---- Authentication and authorization ---------------------------------------

	t.Run("800 accept the access token in the HTTP Authorization header", func(t *testing.T) {
		content := "Testing accepting access token in HTTP Authorization header"
		u := e.expectCreated(t, e.postForm(t, e.tok["client"], specForm("h", "entry", "content", content)))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("801 accept the access token in the form-encoded body", func(t *testing.T) {
		content := "Testing accepting access token in post body"
		u := e.expectCreated(t, e.postForm(t, "", specForm("h", "entry", "content", content, "access_token", full)))
		e.expectPage(t, u, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)},
			absent: []string{"access_token"}})
	})

	t.Run("802 does not store the access_token property", func(t *testing.T) {
		content := "Testing accepting access token in post body, not storing it"
		u := e.expectCreated(t, e.postForm(t, "", specForm("h", "entry", "access_token", full, "content", content)))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)},
			absent: []string{"access_token"}})
		page := e.expectPage(t, u, content)
		if bytes.Contains(page, []byte(full)) {
			t.Errorf("3.2: the access token appears on the post page")
		}
	})

	t.Run("803 reject unauthenticated requests (401 unauthorized)", func(t *testing.T) {
		u := e.createJSON(t, map[string]any{"content": specList("A post that unauthenticated requests must not touch")})
		content := "Testing unauthenticated request. This should not create a post."
		cases := []struct {
			name string
			do   func() *specResp
		}{
			{"create (form-encoded)", func() *specResp { return e.postForm(t, "", specForm("h", "entry", "content", content)) }},
			{"create (JSON)", func() *specResp {
				return e.postJSON(t, "", map[string]any{"type": specList("h-entry"), "properties": map[string]any{"content": specList(content)}})
			}},
			{"update", func() *specResp {
				return e.postJSON(t, "", map[string]any{"action": "update", "url": u, "replace": map[string]any{"content": specList("hacked")}})
			}},
			{"delete", func() *specResp { return e.postForm(t, "", specForm("action", "delete", "url", u)) }},
			{"q=source", func() *specResp { return e.query(t, "", "q=source&url="+url.QueryEscape(u)) }},
			{"q=config", func() *specResp { return e.query(t, "", "q=config") }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := c.do()
				e.expectError(t, r, http.StatusUnauthorized, "unauthorized")
				if r.status == http.StatusUnauthorized && !strings.HasPrefix(strings.ToLower(r.header.Get("WWW-Authenticate")), "bearer") {
					t.Errorf("RFC 7235 3.1 / RFC 6750 3: a 401 MUST carry a WWW-Authenticate: Bearer challenge; got %q", r.header.Get("WWW-Authenticate"))
				}
			})
		}
		e.homeLacks(t, content)
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList("A post that unauthenticated requests must not touch")}})
	})

	t.Run("803b reject an unknown token (401, WWW-Authenticate error=invalid_token)", func(t *testing.T) {
		content := "Testing a request with an unknown access token. This should not create a post."
		check := func(t *testing.T, r *specResp) {
			t.Helper()
			e.expectError(t, r, http.StatusUnauthorized, "")
			wa := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(strings.ToLower(wa), "bearer") || !strings.Contains(wa, `error="invalid_token"`) {
				t.Errorf(`RFC 6750 3.1: want WWW-Authenticate: Bearer error="invalid_token", got %q`, wa)
			}
		}
		t.Run("header", func(t *testing.T) {
			check(t, e.postForm(t, "this-token-was-never-issued", specForm("h", "entry", "content", content)))
		})
		t.Run("form body", func(t *testing.T) {
			check(t, e.postForm(t, "", specForm("h", "entry", "content", content, "access_token", "this-token-was-never-issued")))
		})
		t.Run("query", func(t *testing.T) {
			check(t, e.query(t, "this-token-was-never-issued", "q=config"))
		})
		e.homeLacks(t, content)
	})

	t.Run("804 reject a token without the needed scope (403 insufficient_scope)", func(t *testing.T) {
		content := "A post that under-scoped tokens must not touch"
		u := e.createJSON(t, map[string]any{"content": specList(content), "category": specList("scoped")})
		want := specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content), "category": specList("scoped")}}
		e.checkSource(t, u, want)

		t.Run("create with an update-only token", func(t *testing.T) {
			c := "Testing a request with an unauthorized access token. This should not create a post."
			e.expectError(t, e.postForm(t, e.tok["update"], specForm("h", "entry", "content", c)), http.StatusForbidden, "insufficient_scope")
			e.homeLacks(t, c)
		})
		t.Run("create with a delete-only token (JSON)", func(t *testing.T) {
			c := "Testing a JSON create with a delete-only token. This should not create a post."
			e.expectError(t, e.postJSON(t, e.tok["delete"], map[string]any{"type": specList("h-entry"), "properties": map[string]any{"content": specList(c)}}),
				http.StatusForbidden, "insufficient_scope")
			e.homeLacks(t, c)
		})
		t.Run("update with a create-only token", func(t *testing.T) {
			e.expectError(t, e.postJSON(t, e.tok["create"], map[string]any{"action": "update", "url": u,
				"replace": map[string]any{"content": specList("changed without update scope")}}), http.StatusForbidden, "insufficient_scope")
			e.checkSource(t, u, want)
		})
		t.Run("delete with a create-only token (form-encoded)", func(t *testing.T) {
			e.expectError(t, e.postForm(t, e.tok["create"], specForm("action", "delete", "url", u)), http.StatusForbidden, "insufficient_scope")
			e.expectPageStatus(t, u, http.StatusOK, "a post that a create-only token tried to delete")
		})
		t.Run("delete with a create-only token (JSON)", func(t *testing.T) {
			e.expectError(t, e.postJSON(t, e.tok["create"], map[string]any{"action": "delete", "url": u}), http.StatusForbidden, "insufficient_scope")
			e.expectPageStatus(t, u, http.StatusOK, "a post that a create-only token tried to delete")
		})
		t.Run("delete with an update-only token", func(t *testing.T) {
			e.expectError(t, e.postJSON(t, e.tok["update"], map[string]any{"action": "delete", "url": u}), http.StatusForbidden, "insufficient_scope")
			e.expectPageStatus(t, u, http.StatusOK, "a post that an update-only token tried to delete")
		})
		t.Run("undelete with a create-only token", func(t *testing.T) {
			d := e.createJSON(t, map[string]any{"content": specList("Deleted, and a create-only token tries to bring it back")})
			e.expectChanged(t, "delete", e.postJSON(t, full, map[string]any{"action": "delete", "url": d}), d)
			e.expectError(t, e.postJSON(t, e.tok["create"], map[string]any{"action": "undelete", "url": d}), http.StatusForbidden, "insufficient_scope")
			e.expectPageStatus(t, d, http.StatusGone, "a deleted post that a create-only token tried to undelete")
		})
		t.Run("the scoped tokens work for their own scope", func(t *testing.T) {
			c := "Created with a create-only token"
			n := e.expectCreated(t, e.postForm(t, e.tok["create"], specForm("h", "entry", "content", c)))
			r := e.postJSON(t, e.tok["update"], map[string]any{"action": "update", "url": n, "add": map[string]any{"category": specList("by-update-token")}})
			n = e.expectChanged(t, "update", r, n)
			e.checkSource(t, n, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(c), "category": specList("by-update-token")}})
			e.expectChanged(t, "delete", e.postJSON(t, e.tok["delete"], map[string]any{"action": "delete", "url": n}), n)
			e.expectPageStatus(t, n, http.StatusGone, "a post deleted with a delete-only token")
		})
	})

	// micropub.rocks 805 expects 400 for a token in both places (RFC 6750 3.1). micropubd
	// deliberately accepts the SAME token twice, because Quill sends every form post that way
	// and must work on the first try; two DIFFERENT tokens stay a 400 invalid_request.
	t.Run("805 a token sent both in the header and in the body: the same one is accepted, different ones are 400", func(t *testing.T) {
		same := "Testing the same access token in the HTTP Authorization header and the POST body"
		u := e.expectCreated(t, e.postForm(t, full, specForm("h", "entry", "content", same, "access_token", full)))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(same)}})
		different := "Testing two different access tokens. This should not create a post"
		r := e.postForm(t, full, specForm("h", "entry", "content", different, "access_token", e.tok["create"]))
		e.expectError(t, r, http.StatusBadRequest, "invalid_request")
		e.homeLacks(t, different)
	})

	t.Run("5.4 MUST require the token to include at least one scope", func(t *testing.T) {
		tok, err := e.mint("", nil, nil)
		if err != nil {
			t.Logf("micropubd token refuses to mint a token without scope (fine): %v", err)
			return
		}
		content := "Testing a token without any scope. This should not create a post."
		r := e.postForm(t, tok, specForm("h", "entry", "content", content))
		if r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
			t.Errorf("5.4: a token without scope MUST NOT create posts; want 403 insufficient_scope, got %d\n%s", r.status, r.trace)
		} else {
			e.expectError(t, r, r.status, "")
		}
		e.homeLacks(t, content)
	})

	// ---- Running the binary the way a user does ---------------------------------

	t.Run("cli: a token minted while the server runs is accepted", func(t *testing.T) {
		tok, err := e.mint("create", nil, nil)
		if err != nil {
			t.Fatalf("%v", err)
		}
		content := "Created with a token minted while the server was running"
		u := e.expectCreated(t, e.postForm(t, tok, specForm("h", "entry", "content", content)))
		e.checkSource(t, u, specWant{typ: specList("h-entry"), props: map[string]any{"content": specList(content)}})
	})

	t.Run("cli: token reads MICROPUBD_DATA", func(t *testing.T) {
		tok, err := e.mint("create", nil, []string{"MICROPUBD_DATA=" + e.dataDir})
		if err != nil {
			t.Fatalf("%v", err)
		}
		content := "Created with a token minted via MICROPUBD_DATA"
		e.expectCreated(t, e.postForm(t, tok, specForm("h", "entry", "content", content)))
	})

	t.Run("cli: serve exits 0 on SIGTERM", func(t *testing.T) {
		if err := e.stop(); err != nil {
			t.Errorf("micropubd serve did not exit cleanly on SIGTERM: %v\noutput:\n%s", err, e.logs.tail(4000))
		}
	})
}

// specCheckTargets checks 3.7.3: an array of objects with uid and name; service
// and user, if present, have a name.
func specCheckTargets(t *testing.T, where string, v any, trace string) {
	t.Helper()
	arr, ok := v.([]any)
	if !ok {
		t.Errorf("%s: syndicate-to MUST be present as a JSON array (an empty array [] when there are no targets); got %s\n%s", where, specJSON(v), trace)
		return
	}
	for i, x := range arr {
		obj, ok := x.(map[string]any)
		if !ok {
			t.Errorf("%s: syndicate-to[%d] must be an object, got %s", where, i, specJSON(x))
			continue
		}
		for _, k := range []string{"uid", "name"} {
			if s, _ := obj[k].(string); s == "" {
				t.Errorf("%s: syndicate-to[%d] MUST have a non-empty %q: %s", where, i, k, specJSON(obj))
			}
		}
		for _, k := range []string{"service", "user"} {
			sub, present := obj[k]
			if !present {
				continue
			}
			m, _ := sub.(map[string]any)
			if s, _ := m["name"].(string); s == "" {
				t.Errorf("%s: syndicate-to[%d].%s MUST contain a name: %s", where, i, k, specJSON(sub))
			}
		}
	}
}
