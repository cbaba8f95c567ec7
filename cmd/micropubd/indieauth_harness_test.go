package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/html"

	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/outbound"
)

const ownerPassword = "correct horse battery staple"

// fakeWeb maps host names of the apps the tests play (their client_id pages) to local test
// servers, so the server's client fetcher reaches them without the real network. Unmapped
// hosts fail at once, as an unreachable app does.
type fakeWeb struct {
	mu    sync.Mutex
	hosts map[string]string // host:port -> 127.0.0.1:port
}

func (f *fakeWeb) add(host string, h http.Handler, t *testing.T) {
	tlsSrv := httptest.NewTLSServer(h)
	plain := httptest.NewServer(h)
	t.Cleanup(tlsSrv.Close)
	t.Cleanup(plain.Close)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hosts == nil {
		f.hosts = map[string]string{}
	}
	f.hosts[host+":443"] = tlsSrv.Listener.Addr().String()
	f.hosts[host+":80"] = plain.Listener.Addr().String()
}

func (f *fakeWeb) fetcher() *indieauth.ClientFetcher {
	cf := indieauth.NewClientFetcher(outbound.Policy{})
	cf.HTTP = &http.Client{Transport: &http.Transport{
		// The fake apps' certificates are httptest's, for no real name.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			f.mu.Lock()
			target, ok := f.hosts[addr]
			f.mu.Unlock()
			if !ok {
				return nil, fmt.Errorf("%s is not reachable in this test", addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, target)
		},
	}}
	return cf
}

// newAuthServer is a test server with the owner's password set and the fake web for clients.
func newAuthServer(t *testing.T, web *fakeWeb, opts ...func(*serverConfig)) *testServer {
	t.Helper()
	opts = append([]func(*serverConfig){func(c *serverConfig) { c.Clients = web.fetcher() }}, opts...)
	srv := newTestServer(t, opts...)
	if err := indieauth.SetPassword(context.Background(), srv.db, ownerPassword, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	return srv
}

// browser is the owner's browser: it keeps cookies and shows each redirect instead of
// following it.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(rawURL string) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := b.client.Get(rawURL)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// submit posts a form as a browser does, Origin header included.
func (b *browser) submit(action string, fields url.Values) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u, _ := url.Parse(action)
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// resubmit posts form f again with some fields set, extra headers and cookies, as a forger or a
// proxy would (no Origin unless given), and returns the status. Safe from several goroutines.
func (b *browser) resubmit(f form, set, headers map[string]string, cookies ...*http.Cookie) int {
	fields := url.Values{}
	for k, v := range f.fields {
		fields[k] = v
	}
	for k, v := range set {
		fields.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodPost, f.action, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// form is the first form of a page whose action contains actionPart, with the values a
// browser would send: inputs, text areas, ticked checkboxes, the selected (or first) option.
type form struct {
	action string
	fields url.Values
}

func findForm(t *testing.T, page []byte, actionPart string) form {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found *form
	var walk func(n *html.Node, f *form)
	walk = func(n *html.Node, f *form) {
		if n.Type == html.ElementNode {
			attr := func(k string) (string, bool) {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val, true
					}
				}
				return "", false
			}
			switch n.Data {
			case "form":
				if action, _ := attr("action"); found == nil && strings.Contains(action, actionPart) {
					found = &form{action: action, fields: url.Values{}}
					f = found
				}
			case "input":
				if f != nil {
					name, _ := attr("name")
					value, _ := attr("value")
					typ, _ := attr("type")
					_, checked := attr("checked")
					if name != "" && (typ != "checkbox" || checked) {
						f.fields.Add(name, value)
					}
				}
			case "textarea":
				if f != nil {
					name, _ := attr("name")
					text := ""
					if n.FirstChild != nil && n.FirstChild.Type == html.TextNode {
						text = n.FirstChild.Data
					}
					f.fields.Add(name, text)
				}
			case "select":
				if f != nil {
					name, _ := attr("name")
					chosen, first := "", true
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						if c.Type != html.ElementNode || c.Data != "option" {
							continue
						}
						value, selected := "", false
						for _, a := range c.Attr {
							switch a.Key {
							case "value":
								value = a.Val
							case "selected":
								selected = true
							}
						}
						if selected || first {
							chosen, first = value, false
						}
						if selected {
							break
						}
					}
					f.fields.Set(name, chosen)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, f)
		}
	}
	walk(doc, nil)
	if found == nil {
		t.Fatalf("no form posting to %q in:\n%s", actionPart, page)
	}
	return *found
}

// signIn answers the login page of authURL with the password and returns the page that follows.
func (b *browser) signIn(authURL, password string) (*http.Response, []byte) {
	b.t.Helper()
	resp, page := b.get(authURL)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", authURL, resp.StatusCode, page)
	}
	login := findForm(b.t, page, "/auth/login")
	login.fields.Set("password", password)
	resp, page = b.submit(login.action, login.fields)
	if resp.StatusCode != http.StatusSeeOther {
		return resp, page
	}
	next, _ := resp.Location()
	return b.get(next.String())
}

// consent signs the owner in at authURL and decides on the consent page; change edits the
// form first (unticking scopes, choosing an expiry). It returns where the browser is sent.
func (b *browser) consent(authURL, decision string, change func(url.Values)) *url.URL {
	b.t.Helper()
	resp, page := b.signIn(authURL, ownerPassword)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("after signing in: %d\n%s", resp.StatusCode, page)
	}
	f := findForm(b.t, page, "/auth/approve")
	f.fields.Set("decision", decision)
	if change != nil {
		change(f.fields)
	}
	resp, page = b.submit(f.action, f.fields)
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("consent: %d\n%s", resp.StatusCode, page)
	}
	loc, err := resp.Location()
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat(seed+"-", 64)))[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authURL builds an authorization request.
func authURL(endpoint string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return endpoint + "?" + q.Encode()
}

// exchange redeems a code at the token endpoint and decodes the answer.
func exchange(t *testing.T, endpoint string, fields url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(endpoint, fields)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token endpoint Cache-Control = %q, want no-store", cc)
	}
	return resp.StatusCode, decodeJSON(t, body)
}

// discoverLinks reads the endpoints from the homepage's HTTP Link headers (HEAD, as Quill does).
func discoverLinks(t *testing.T, home string) map[string]string {
	t.Helper()
	resp, err := http.Head(home)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out := map[string]string{}
	for _, v := range resp.Header.Values("Link") {
		target, params, _ := strings.Cut(v, ";")
		for _, p := range strings.Split(params, ";") {
			if rel, ok := strings.CutPrefix(strings.TrimSpace(p), "rel="); ok && rel != `"alternate"` {
				out[strings.Trim(rel, `"`)] = strings.Trim(strings.TrimSpace(target), "<>")
			}
		}
	}
	return out
}

var errNoCode = errors.New("no code in the redirect")

// codeFrom checks the redirect back to the client and returns its code.
func codeFrom(t *testing.T, loc *url.URL, redirectURI, state, issuer string) string {
	t.Helper()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; !strings.HasPrefix(redirectURI, got) {
		t.Fatalf("redirected to %s, want %s", loc, redirectURI)
	}
	q := loc.Query()
	if q.Get("state") != state || q.Get("iss") != issuer {
		t.Errorf("state = %q, iss = %q; want %q, %q", q.Get("state"), q.Get("iss"), state, issuer)
	}
	if q.Get("code") == "" {
		t.Fatalf("%v: %s", errNoCode, loc)
	}
	return q.Get("code")
}
