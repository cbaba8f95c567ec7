package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/micropubd/micropubd/indieauth"
)

func TestToken_ChosenExpiryEndsTheRefreshTokenToo(t *testing.T) {
	clock := testNow
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.Now = func() time.Time { return clock } })
	b := newBrowser(t)
	loc := b.consent(authURL(srv.base+"auth", map[string]string{"response_type": "code", "client_id": appID,
		"redirect_uri": appRedirect, "state": "s", "scope": "create"}), "approve", func(f url.Values) { f.Set("expiry", "day") })
	_, tok := exchange(t, srv.base+"token", redeemFields(codeFrom(t, loc, appRedirect, "s", srv.base)))
	clock = clock.Add(25 * time.Hour)
	status, body := exchange(t, srv.base+"token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok["refresh_token"].(string)}, "client_id": {appID}})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh after the chosen day: %d %v", status, body)
	}
}

func TestToken_ConcurrentRefreshesIssueOnePairAtMost(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	_, tok := exchange(t, srv.base+"token", redeemFields(approvedCode(t, srv, "create", "")))
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {appID}}
	var wg sync.WaitGroup
	var wins atomic.Int32
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(srv.base+"token", form)
			if err == nil {
				if resp.StatusCode == http.StatusOK {
					wins.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if wins.Load() > 1 {
		t.Errorf("%d refreshes succeeded with one refresh token", wins.Load())
	}
	active, _ := srv.db.ListTokens(context.Background(), testNow.Add(time.Hour))
	for _, a := range active {
		if a.ClientID == appID {
			t.Errorf("after a raced refresh token the grant still has a live token (id %d)", a.ID)
		}
	}
}

func TestToken_AFailedRedemptionDoesNotSpendTheCode(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	verifier, challenge := pkce("spend")
	code := approvedCode(t, srv, "create", challenge)
	wrong := redeemFields(code)
	wrong.Set("client_id", "https://thief.example/")
	wrong.Set("code_verifier", verifier)
	if status, _ := exchange(t, srv.base+"token", wrong); status != http.StatusBadRequest {
		t.Fatalf("wrong client: %d", status)
	}
	right := redeemFields(code)
	right.Set("code_verifier", verifier)
	if status, body := exchange(t, srv.base+"token", right); status != http.StatusOK {
		t.Errorf("the real client after a failed attempt: %d %v", status, body)
	}

	// A code without scope tried at the token endpoint stays good for the authorization endpoint.
	code = approvedCode(t, srv, "", "")
	exchange(t, srv.base+"token", redeemFields(code))
	if status, body := exchange(t, srv.base+"auth", redeemFields(code)); status != http.StatusOK || body["me"] != srv.base {
		t.Errorf("profile redemption after a refused token request: %d %v", status, body)
	}
}

func TestCSRF_PlantedCookieNullOriginAndCrossSiteAreRefused(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b := newBrowser(t)
	_, page := b.signIn(authURL(srv.base+"auth", map[string]string{"response_type": "code", "client_id": appID,
		"redirect_uri": appRedirect, "state": "s", "scope": "create"}), ownerPassword)
	f := findForm(t, page, "/auth/approve")
	f.fields.Set("decision", "approve")
	post := func(headers map[string]string, csrf string, cookies ...*http.Cookie) int {
		return b.resubmit(f, map[string]string{"csrf": csrf}, headers, cookies...)
	}
	good := f.fields.Get("csrf")
	// A neighbouring site plants its own csrf cookie and posts the matching value.
	if got := post(nil, "planted-value-0123456789abcdef0123456789", &http.Cookie{Name: "micropubd_csrf", Value: "planted-value-0123456789abcdef0123456789"}); got != http.StatusForbidden {
		t.Errorf("planted CSRF cookie: %d", got)
	}
	if got := post(map[string]string{"Origin": "null"}, good); got != http.StatusForbidden {
		t.Errorf("Origin: null: %d", got)
	}
	if got := post(map[string]string{"Sec-Fetch-Site": "same-site"}, good); got != http.StatusForbidden {
		t.Errorf("Sec-Fetch-Site: same-site: %d", got)
	}
	if got := post(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": strings.TrimSuffix(srv.base, "/")}, good); got != http.StatusFound {
		t.Errorf("the genuine form: %d", got)
	}
}

func TestLogin_ParallelGuessesAreCountedAndProxyAddressesTrusted(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.TrustProxy = true })
	b := newBrowser(t)
	_, page := b.get(srv.base + "auth/tokens")
	f := findForm(t, page, "/auth/login")
	attempt := func(password, forwardedFor string) int {
		return b.resubmit(f, map[string]string{"password": password}, map[string]string{"X-Forwarded-For": forwardedFor})
	}
	var wg sync.WaitGroup
	var checked atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if attempt("wrong", "spoofed, 203.0.113.7") == http.StatusUnauthorized {
				checked.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := checked.Load(); n > 5 {
		t.Errorf("%d parallel guesses were checked, want at most 5", n)
	}
	if got := attempt(ownerPassword, "203.0.113.7"); got != http.StatusTooManyRequests {
		t.Errorf("the attacker's address after its guesses: %d", got)
	}
	// The owner, behind the same proxy but from another address, still signs in.
	if got := attempt(ownerPassword, "198.51.100.2"); got != http.StatusSeeOther {
		t.Errorf("the owner from another address: %d", got)
	}
}

func TestPasswd_NewPasswordEndsSessions(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b := newBrowser(t)
	if resp, _ := b.signIn(srv.base+"auth/tokens", ownerPassword); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	if err := indieauth.SetPassword(context.Background(), srv.db, "another long password", bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	_, page := b.get(srv.base + "auth/tokens")
	if !bytes.Contains(page, []byte("/auth/login")) {
		t.Error("the old session survived a new password")
	}
}

func TestAuthorize_NoFetchBeforeSignInAndNoDetailsOnThePage(t *testing.T) {
	var hits atomic.Int32
	web := &fakeWeb{}
	web.add("counted.example", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<link rel="redirect_uri" href="https://elsewhere.example/cb">`)
	}), t)
	srv := newAuthServer(t, web)
	for i := 0; i < 5; i++ {
		resp, _ := newBrowser(t).get(authURL(srv.base+"auth", map[string]string{"response_type": "code",
			"client_id": fmt.Sprintf("https://counted.example/%d", i), "redirect_uri": "https://elsewhere.example/cb"}))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("anonymous request: %d", resp.StatusCode)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d fetches for requests from someone who is not signed in", n)
	}
	b := newBrowser(t)
	resp, page := b.signIn(authURL(srv.base+"auth", map[string]string{"response_type": "code",
		"client_id": "https://unreachable.example/", "redirect_uri": "https://elsewhere.example/cb"}), ownerPassword)
	if resp.StatusCode != http.StatusBadRequest || bytes.Contains(page, []byte("dial")) || bytes.Contains(page, []byte("not reachable")) {
		t.Errorf("%d; the page must not tell how the fetch failed:\n%s", resp.StatusCode, page)
	}
}
