package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium (.ci/run installs it). Outside CI the test is skipped
// when it is missing; in CI a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium: .ci/run should have installed Debian's chromium package")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium); CI runs this test")
	return ""
}

// newChrome starts headless Chromium with the flags this machine's closed network needs, in a
// fresh profile, and returns its context, ended when the test ends or after timeout.
func newChrome(t *testing.T, chrome string, timeout time.Duration) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// TestBrowser_OwnerSignsInAndApproves drives headless Chromium through the real pages: the
// sign-in form, the consent page, and the redirect back to the app with a code.
func TestBrowser_OwnerSignsInAndApproves(t *testing.T) {
	chrome := chromiumPath(t)
	srv := newAuthServer(t, &fakeWeb{})

	// The app runs on this machine (a loopback client_id: never fetched).
	codes := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			codes <- r.URL.Query()
		}
		w.Write([]byte("<!doctype html><title>app</title><p>signed in</p>"))
	}))
	defer app.Close()
	clientID, redirectURI := app.URL+"/", app.URL+"/callback"
	verifier, challenge := pkce("browser")

	ctx := newChrome(t, chrome, 60*time.Second)

	auth := authURL(srv.base+"auth", map[string]string{
		"response_type": "code", "client_id": clientID, "redirect_uri": redirectURI, "state": "browser-state",
		"scope": "create media", "code_challenge": challenge, "code_challenge_method": "S256",
	})
	err := chromedp.Do(ctx,
		chromedp.Navigate(auth),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), ownerPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("approve")),
	)
	if err != nil {
		t.Fatalf("browser, signing in: %v", err)
	}
	consentText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("browser, reading the consent page: %v", err)
	}
	// The owner unticks media before approving.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[value="media"]`)),
		chromedp.Click(chromedp.ID("approve")),
	); err != nil {
		t.Fatalf("browser, approving: %v", err)
	}
	for _, want := range []string{clientID, "create new posts", "upload files"} {
		if !strings.Contains(consentText, want) {
			t.Errorf("the consent page does not show %q:\n%s", want, consentText)
		}
	}
	var q url.Values
	select {
	case q = <-codes:
	case <-ctx.Done():
		t.Fatal("the browser never came back to the app")
	}
	if q.Get("state") != "browser-state" || q.Get("iss") != srv.base || q.Get("code") == "" {
		t.Fatalf("callback: %v", q)
	}
	status, tok := exchange(t, srv.base+"token", url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI},
		"client_id": {clientID}, "code_verifier": {verifier},
	})
	if status != http.StatusOK || tok["scope"] != "create" {
		t.Fatalf("token: %d %v", status, tok)
	}
	if resp, body := srv.post("application/x-www-form-urlencoded", "content=via+the+browser", tok["access_token"].(string)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
}
