package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/storage"
)

// serveInBackground runs "micropubd serve" with args until the test ends.
func serveInBackground(t *testing.T, args ...string) {
	t.Helper()
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), io.Discard, io.Discard) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return
		}
		if i > 100 {
			t.Fatal("the server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestOwner_TokenAndPasswdUseTheURLServeRecorded(t *testing.T) {
	dir := t.TempDir()
	serveInBackground(t, "--data", dir, "--url", "https://blog.example/", "--name", "Ada")

	tests := []struct {
		name    string
		args    []string
		env     string // MICROPUBD_URL, if set
		wantOut string
		wantErr string
	}{
		{"token without --url", []string{"token", "--data", dir}, "", "# token for https://blog.example/ ", ""},
		{"token with the same --url", []string{"token", "--data", dir, "--url", "https://BLOG.example"}, "", "# token for https://blog.example/ ", ""},
		{"token with another --url", []string{"token", "--data", dir, "--url", "http://localhost:8080/"}, "",
			"", `--url http://localhost:8080/ does not match https://blog.example/`},
		{"token with another MICROPUBD_URL", []string{"token", "--data", dir}, "http://localhost:8080/",
			"", `does not match https://blog.example/, the URL the server of ` + dir + ` runs as`},
		{"passwd", []string{"passwd", "--data", dir}, "", "Sign in at https://blog.example/admin/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("MICROPUBD_URL", tt.env)
			}
			var out bytes.Buffer
			err := setPasswordOrRun(tt.args, &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("out %q, err %v; want %q", out.String(), err, tt.wantOut)
			}
		})
	}
	db, err := storage.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, token := range mustTokens(t, db) {
		if token != "https://blog.example/" {
			t.Errorf("a token was minted for %s", token)
		}
	}
	if name, _ := db.Setting(context.Background(), settingName); name != "Ada" {
		t.Errorf("recorded name = %q", name)
	}
}

// setPasswordOrRun runs a command; passwd reads its password from a pipe.
func setPasswordOrRun(args []string, out io.Writer) error {
	if args[0] == "passwd" {
		return setPassword(context.Background(), args[1:], strings.NewReader("a long password\n"), out, io.Discard)
	}
	return run(context.Background(), args, out, io.Discard)
}

func mustTokens(t *testing.T, db *storage.DB) []string {
	list, err := db.ListTokens(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var mes []string
	for _, tok := range list {
		mes = append(mes, tok.Me)
	}
	return mes
}

func TestOwner_CommandsRefuseAFolderWithoutADatabase(t *testing.T) {
	for _, cmd := range []string{"token", "passwd"} {
		t.Run(cmd, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dta") // a typo for data
			path := filepath.Join(dir, "micropubd.db")
			err := setPasswordOrRun([]string{cmd, "--data", dir}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "no database at "+path) || !strings.Contains(err.Error(), "micropubd serve") {
				t.Errorf("err = %v, want one naming %s and serve", err, path)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s created %s", cmd, dir)
			}
		})
	}
}

func TestOwner_VerificationAnswersReportTheServersMe(t *testing.T) {
	srv := newTestServer(t)
	// A token minted by an older "micropubd token" that did not know --url.
	stale, _, err := (&indieauth.Tokens{Store: srv.db, Me: "http://localhost:8080/"}).Mint(context.Background(), "", "create", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, body := srv.get(srv.base+"micropub", stale)
	if me := decodeJSON(t, body)["me"]; me != srv.base {
		t.Errorf("GET /micropub: me = %v, want %s", me, srv.base)
	}
	_, body = srv.get(srv.base+"token", stale)
	if me := decodeJSON(t, body)["me"]; me != srv.base {
		t.Errorf("GET /token: me = %v, want %s", me, srv.base)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.base+"token/introspect", strings.NewReader(url.Values{"token": {stale}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+srv.token)
	_, body = srv.do(req)
	if me := decodeJSON(t, body)["me"]; me != srv.base {
		t.Errorf("introspection: me = %v, want %s", me, srv.base)
	}
}

func TestOwner_AuthorizationWithoutBearerSaysHowToWriteIt(t *testing.T) {
	srv := newTestServer(t)
	const want = `Authorization: Bearer TOKEN`
	// curl -H "Authorization: $TOKEN" -d h=entry -d "content=Hello world", byte for byte.
	resp, body := srv.sendRaw("curl-create-without-bearer", srv.token, nil)
	wantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
	if !strings.Contains(string(body), want) {
		t.Errorf("POST /micropub: %s", body)
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "micropub?q=config"},
		{http.MethodGet, "micropub/media?q=source"},
		{http.MethodGet, "token"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.base+tt.path, nil)
			req.Header.Set("Authorization", srv.token)
			resp, body := srv.do(req)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), want) {
				t.Errorf("%d %s", resp.StatusCode, body)
			}
		})
	}
	// A token in the body still works beside an Authorization header of another scheme.
	req, _ := http.NewRequest(http.MethodPost, srv.base+"micropub", strings.NewReader("content=x&access_token="+srv.token))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+srv.token)
	if resp, body := srv.do(req); resp.StatusCode != http.StatusCreated {
		t.Errorf("body token beside a Basic header: %d %s", resp.StatusCode, body)
	}
}

func TestOwner_RefusedSVGUploadNamesItsTypeAndTheAcceptedOnes(t *testing.T) {
	srv := newTestServer(t)
	svgs := map[string]string{
		"with an XML declaration": `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`,
		"bare svg element":        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>`,
	}
	for name, svg := range svgs {
		t.Run(name, func(t *testing.T) {
			resp, body := srv.upload(srv.token, "logo.svg", "image/svg+xml", []byte(svg), nil)
			wantError(t, resp, body, http.StatusUnsupportedMediaType, "unsupported_media_type")
			ct, mp := multipartBody(t, map[string]string{"content": "a logo"}, "photo", "logo.svg", []byte(svg))
			resp2, body2 := srv.post(ct, mp, srv.token)
			wantError(t, resp2, body2, http.StatusUnsupportedMediaType, "unsupported_media_type")
			for _, desc := range []string{decodeJSON(t, body)["error_description"].(string), decodeJSON(t, body2)["error_description"].(string)} {
				for _, want := range []string{"image/svg+xml", "image/jpeg", "image/png", "video/mp4", "audio/mpeg"} {
					if !strings.Contains(desc, want) {
						t.Errorf("the refusal does not name %s: %s", want, desc)
					}
				}
			}
		})
	}
}

func TestOwner_413NamesTheFlagAndTheLimitInMB(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.Limits = micropub.Limits{Body: 1 << 20, Upload: 2 << 20} })
	big := strings.Repeat("a", 1<<20+1)
	gif := bigGIF(t) // over 2 MB
	textCT, textBody := multipartBody(t, map[string]string{"content": big}, "photo", "p.png", readFixture(t, fixtureDir+"/media/pixel.png"))
	fileCT, fileBody := multipartBody(t, map[string]string{"content": "big"}, "photo", "noise.gif", gif)
	tests := []struct {
		name string
		send func() (*http.Response, []byte)
		want string
	}{
		{"form body", func() (*http.Response, []byte) { return srv.postForm("content=" + big) }, "--body-limit (MICROPUBD_BODY_LIMIT)"},
		{"JSON body", func() (*http.Response, []byte) {
			return srv.postJSON(`{"type":["h-entry"],"properties":{"content":["` + big + `"]}}`)
		}, "--body-limit (MICROPUBD_BODY_LIMIT)"},
		{"multipart text fields", func() (*http.Response, []byte) { return srv.post(textCT, textBody, srv.token) }, "limit of 1 MB, set with the server's --body-limit"},
		{"multipart create file", func() (*http.Response, []byte) { return srv.post(fileCT, fileBody, srv.token) }, "limit of 2 MB, set with the server's --upload-limit"},
		{"media upload", func() (*http.Response, []byte) { return srv.upload(srv.token, "noise.gif", "image/gif", gif, nil) }, "limit of 2 MB, set with the server's --upload-limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.send()
			wantError(t, resp, body, http.StatusRequestEntityTooLarge, "request_too_large")
			if desc := decodeJSON(t, body)["error_description"].(string); !strings.Contains(desc, tt.want) || !strings.Contains(desc, " MB") {
				t.Errorf("description %q does not say %q", desc, tt.want)
			}
		})
	}
}

func TestOwner_UnknownTypesAreRefusedNamingTheSupportedOnes(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct{ name, contentType, body string }{
		{"form h=bogus", "application/x-www-form-urlencoded", "h=bogus&content=hello"},
		{"form h=review", "application/x-www-form-urlencoded", "h=review&name=A+book&rating=5"},
		{"JSON h-bogus", "application/json", `{"type":["h-bogus"],"properties":{"content":["hello"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.post(tt.contentType, tt.body, srv.token)
			wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
			desc := decodeJSON(t, body)["error_description"].(string)
			for _, want := range []string{"h-entry", "h-event", "h-card", "h-cite"} {
				if !strings.Contains(desc, want) {
					t.Errorf("%q does not name %s", desc, want)
				}
			}
		})
	}
	if items := srv.query(url.Values{"q": {"source"}})["items"].([]any); len(items) != 0 {
		t.Errorf("a refused type was stored: %v", items)
	}
	_, home := srv.get(srv.base, "")
	if strings.Contains(string(home), "h-bogus") {
		t.Error("the homepage shows an h-bogus post")
	}
}

func TestOwner_URLPropertiesAcceptOnlyHTTPAndGeoForLocation(t *testing.T) {
	srv := newTestServer(t)
	refused := []struct{ name, body, property string }{
		{"javascript photo", "content=x&photo=javascript:alert(1)", "photo"},
		{"data video", "content=x&video=data:video/mp4;base64,AAAA", "video"},
		{"file audio", "content=x&audio=file:///etc/passwd", "audio"},
		{"relative url", "content=x&url=/elsewhere", "url"},
		{"ftp reply", "content=x&in-reply-to=ftp://example.com/post", "in-reply-to"},
		{"mailto like", "like-of=mailto:a@example.com", "like-of"},
		{"no host repost", "repost-of=https:///x", "repost-of"},
		{"text bookmark", "bookmark-of=my+favourite+site", "bookmark-of"},
		{"javascript syndication", "content=x&syndication=javascript:void(0)", "syndication"},
		{"photo object", `{"type":["h-entry"],"properties":{"photo":[{"value":"javascript:alert(1)","alt":"x"}]}}`, "photo"},
		{"nested h-cite url", `{"type":["h-entry"],"properties":{"in-reply-to":[{"type":["h-cite"],"properties":{"url":["javascript:alert(1)"]}}],"content":["x"]}}`, "url (in in-reply-to)"},
		{"invalid geo location", "content=x&location=geo:91,200", "location"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			if strings.HasPrefix(tt.body, "{") {
				resp, body = srv.postJSON(tt.body)
			} else {
				resp, body = srv.postForm(tt.body)
			}
			wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
			if desc := decodeJSON(t, body)["error_description"].(string); !strings.HasPrefix(desc, tt.property) {
				t.Errorf("%q does not start with the property %s", desc, tt.property)
			}
		})
	}
	if items := srv.query(url.Values{"q": {"source"}})["items"].([]any); len(items) != 0 {
		t.Fatalf("refused posts were stored: %v", items)
	}
	// http, https (any case), geo: for location, and text locations are fine.
	loc := srv.create("content=x&photo=HTTPS://photos.example/a.jpg&in-reply-to=http://example.com/post" +
		"&location=geo:45.52345,-122.67621;u=35")
	srv.create("content=y&location=Portland,+Oregon")
	// An update is held to the same rule.
	resp, body := srv.postJSON(`{"action":"update","url":"` + loc + `","replace":{"photo":["javascript:alert(1)"]}}`)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
}
