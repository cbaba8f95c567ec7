package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd/micropub"
)

func TestCreate_Slugs(t *testing.T) {
	srv := newTestServer(t)
	month := srv.base + testNow.Format("2006/01/")
	tests := []struct {
		body string
		want string // "" means a short id
	}{
		{"content=x&mp-slug=My+First+Post!", month + "my-first-post"},
		{"content=x&mp-slug=My+First+Post", month + "my-first-post-2"},
		{"content=x&mp-slug=my-first-post", month + "my-first-post-3"},
		{"content=x&name=Ünïcödé+Title", month + "unicode-title"},
		{"content=x&mp-slug=../../etc/passwd", month + "etc-passwd"},
		{"content=x&published=2025-12-31T23:30:00-05:00&mp-slug=new-year", srv.base + "2025/12/new-year"},
		{"content=no+slug+nor+name", ""},
		{"content=x&mp-slug=%21%21%21", ""},
	}
	for _, tt := range tests {
		loc := srv.create(tt.body)
		if tt.want == "" {
			id := strings.TrimPrefix(loc, month)
			if len(id) != 12 || strings.ContainsAny(id, "/-") {
				t.Errorf("%s: Location %s, want a short id under %s", tt.body, loc, month)
			}
			continue
		}
		if loc != tt.want {
			t.Errorf("%s: Location %s, want %s", tt.body, loc, tt.want)
		}
	}
}

func TestCreate_PublishedKeepsTheClientOffset(t *testing.T) {
	est, _ := time.LoadLocation("America/New_York")
	srv := newTestServer(t, func(c *serverConfig) { c.Location = est })
	tests := []struct{ published, want string }{
		{"2026-01-15T10:30:00%2B02:00", "2026-01-15T10:30:00+02:00"},
		{"2026-01-15T10:30:00Z", "2026-01-15T10:30:00Z"},
		{"2026-01-15T10:30:00-0800", "2026-01-15T10:30:00-08:00"},
		{"2026-01-15T10:30:00", "2026-01-15T10:30:00-05:00"}, // no offset: the server's zone
		{"", testNow.In(est).Format(time.RFC3339)},
	}
	for _, tt := range tests {
		body := "content=x"
		if tt.published != "" {
			body += "&published=" + tt.published
		}
		got := srv.source(srv.create(body))["properties"].(map[string]any)["published"]
		if diff := cmp.Diff([]any{tt.want}, got); diff != "" {
			t.Errorf("published=%s (-want +got):\n%s", tt.published, diff)
		}
	}
}

func TestCreate_InvalidRequestsWriteNothing(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.Limits = micropub.Limits{Body: 1000, Upload: 4000} })
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"bad post-status", "application/x-www-form-urlencoded", "content=x&post-status=maybe", 400, "invalid_request"},
		{"bad visibility", "application/x-www-form-urlencoded", "content=x&visibility=secret", 400, "invalid_request"},
		{"bad published", "application/x-www-form-urlencoded", "content=x&published=last+tuesday", 400, "invalid_request"},
		{"two published", "application/x-www-form-urlencoded", "content=x&published=2026-01-01&published=2026-01-02", 400, "invalid_request"},
		{"too many alt texts", "application/x-www-form-urlencoded", "content=x&photo=https://a.example/1.jpg&mp-photo-alt=a&mp-photo-alt=b", 400, "invalid_request"},
		{"unknown syndication target", "application/x-www-form-urlencoded", "content=x&mp-syndicate-to=https://nowhere.example/", 400, "invalid_request"},
		{"body over the limit", "application/x-www-form-urlencoded", "content=" + strings.Repeat("x", 1200), 413, "request_too_large"},
		{"json over the limit", "application/json", `{"type":["h-entry"],"properties":{"content":["` + strings.Repeat("x", 1200) + `"]}}`, 413, "request_too_large"},
		{"malformed json", "application/json", `{"type":["h-entry"],`, 400, "invalid_request"},
		{"not a request", "text/plain", "hello", 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.post(tt.contentType, tt.body, srv.token)
			wantError(t, resp, body, tt.status, tt.code)
		})
	}
	t.Run("multipart with a file over the limit", func(t *testing.T) {
		ct, body := multipartBody(t, map[string]string{"content": "big"}, "photo", "big.jpg", bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0xE0}, 2000))
		resp, out := srv.post(ct, body, srv.token)
		wantError(t, resp, out, http.StatusRequestEntityTooLarge, "request_too_large")
	})
	t.Run("multipart with an HTML file", func(t *testing.T) {
		ct, body := multipartBody(t, map[string]string{"content": "script"}, "photo", "x.jpg", []byte("<html><script>alert(1)</script></html>"))
		resp, out := srv.post(ct, body, srv.token)
		wantError(t, resp, out, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	if items := srv.query(url.Values{"q": {"source"}, "post-status": {""}})["items"].([]any); len(items) != 0 {
		t.Errorf("rejected requests left %d posts behind", len(items))
	}
	entries, _ := os.ReadDir(srv.dataDir(t, "media"))
	if len(entries) != 0 {
		t.Errorf("rejected uploads left %d files in the media folder", len(entries))
	}
}

func multipartBody(t *testing.T, fields map[string]string, fileField, fileName string, data []byte) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, fileField, fileName))
	h.Set("Content-Type", "image/jpeg")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	w.Close()
	return w.FormDataContentType(), buf.String()
}

func TestCreate_UploadedFilesAreServedWithTheTypeOfTheirBytes(t *testing.T) {
	srv := newTestServer(t)
	png, err := os.ReadFile(fixtureDir + "/media/pixel.png")
	if err != nil {
		t.Fatal(err)
	}
	// The client claims image/jpeg and a .jpg name; the bytes are a PNG.
	ct, body := multipartBody(t, map[string]string{"h": "entry", "content": "a photo"}, "photo", "photo.jpg", png)
	resp, out := srv.post(ct, body, srv.token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, out)
	}
	photo := srv.source(resp.Header.Get("Location"))["properties"].(map[string]any)["photo"].([]any)[0].(string)
	if !strings.HasPrefix(photo, srv.base+"media/") || !strings.HasSuffix(photo, ".png") {
		t.Errorf("photo URL = %s", photo)
	}
	resp, got := srv.get(photo, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, png) {
		t.Errorf("GET photo: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	for _, p := range []string{"media/..%2fmicropubd.db", "media/../micropubd.db", "media/%2e%2e%2fmicropubd.db"} {
		resp, err := http.Get(srv.base + p) // following redirects
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(got, []byte("SQLite format")) {
			t.Errorf("%s answered %d", p, resp.StatusCode)
		}
	}
}

func TestCreate_ConcurrentRequestsAllSucceed(t *testing.T) {
	srv := newTestServer(t)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.base+"micropub", strings.NewReader(fmt.Sprintf("content=post+%d&mp-slug=same", i)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+srv.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				errs <- fmt.Sprintf("request %d: %d", i, resp.StatusCode)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	urls, _ := listURLs(t, srv, url.Values{"limit": {"200"}})
	seen := map[string]bool{}
	for _, u := range urls {
		seen[u] = true
	}
	if len(urls) != n || len(seen) != n {
		t.Errorf("%d posts listed with %d distinct URLs, want %d", len(urls), len(seen), n)
	}
}

// A browser-based client on another origin asks with a preflight first, then reads the answer
// of its create: the preflight names what the request may use, the answer lets it read
// Location.
func TestCORS_PreflightAndAnswerLetBrowserClientsCreate(t *testing.T) {
	srv := newTestServer(t)
	for _, path := range []string{"micropub", "micropub/media"} {
		req, _ := http.NewRequest(http.MethodOptions, srv.base+path, nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, _ := srv.do(req)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			h.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight of /%s: %d %v", path, resp.StatusCode, h)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.base+"micropub", strings.NewReader("h=entry&content=from+a+browser"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+srv.token)
	req.Header.Set("Origin", "https://app.example")
	resp, _ := srv.do(req)
	h := resp.Header
	if resp.StatusCode != http.StatusCreated || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") ||
		h.Get("Access-Control-Allow-Methods") != "" || h.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("create from another origin: %d %v; want the origin and exposed headers, and the method and header lists on preflights only", resp.StatusCode, h)
	}
	for _, name := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if len(h.Values(name)) != 1 {
			t.Errorf("create's answer has %s %q, want one value", name, h.Values(name))
		}
	}
}
