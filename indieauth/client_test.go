package indieauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/micropubd/micropubd/outbound"
)

func TestValidClientID(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"https://app.example", "https://app.example/"},
		{"https://app.example/", "https://app.example/"},
		{"https://app.example/client.json", "https://app.example/client.json"},
		{"http://app.example:8080/a/b?x=1", "http://app.example:8080/a/b?x=1"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000/"},
		{"http://[::1]/", "http://[::1]/"},
		{"https://10.0.0.1/", ""},
		{"https://[2001:db8::1]/", ""},
		{"https://app.example/#frag", ""},
		{"https://user:pw@app.example/", ""},
		{"https://app.example/./a", ""},
		{"https://app.example/a/..", ""},
		{"ftp://app.example/", ""},
		{"app.example", ""},
		{"", ""},
	}
	for _, tt := range tests {
		u, err := ValidClientID(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("%q accepted as %s", tt.in, u)
		case tt.want != "" && err != nil:
			t.Errorf("%q refused: %v", tt.in, err)
		case tt.want != "" && u.String() != tt.want:
			t.Errorf("%q = %s, want %s", tt.in, u, tt.want)
		}
	}
}

func TestClientFetcher_RefusesPrivateAddresses(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	f := NewClientFetcher(outbound.Policy{})
	for _, id := range []string{
		srv.URL + "/",                              // 127.0.0.1
		"http://localhost:" + u.Port() + "/",       // a name for loopback
		"http://169.254.169.254/latest/meta-data/", // cloud metadata
		"http://10.1.2.3/", "http://192.168.1.1/",  // private networks
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := f.Fetch(ctx, id)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("%s: err = %v, want a refusal", id, err)
		}
	}
	if hit {
		t.Error("the fetcher reached a loopback server")
	}
}

func TestClientFetcher_RedirectToAnotherHostIsRefused(t *testing.T) {
	// A public page redirecting to an internal one (or to any other host) is not followed: what
	// a client_id's page says must come from its own host, and an internal address is never
	// dialled anyway. The public page is simulated by a transport that lets only
	// "public.example" through to a local server.
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "public.example" {
			http.Redirect(w, r, "http://127.0.0.1:1/secret", http.StatusFound)
			return
		}
		t.Error("the internal address was reached")
	}))
	defer internal.Close()
	f := NewClientFetcher(outbound.Policy{})
	safe := f.HTTP.Transport.(*http.Transport)
	f.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "public.example" {
			r2 := r.Clone(r.Context())
			r2.URL.Host = strings.TrimPrefix(internal.URL, "http://")
			r2.Host = "public.example"
			return http.DefaultTransport.RoundTrip(r2)
		}
		return safe.RoundTrip(r)
	})
	_, err := f.Fetch(context.Background(), "http://public.example/")
	if err == nil || !strings.Contains(err.Error(), "redirect to another host") {
		t.Errorf("err = %v, want the redirect refused", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestLoginLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLoginLimiter(5, time.Minute, func() time.Time { return now })
	for i := 0; i < 5; i++ {
		if !l.Attempt("a") {
			t.Fatalf("blocked after %d attempts", i)
		}
	}
	if l.Attempt("a") || !l.Attempt("b") {
		t.Error("the limit is per address")
	}
	now = now.Add(61 * time.Second)
	if !l.Attempt("a") {
		t.Error("still blocked after the window")
	}
	l.Succeeded("a")
	for i := 0; i < 5; i++ {
		if !l.Attempt("a") {
			t.Error("a success did not clear the attempts")
		}
	}
}

func TestCanonicalMe(t *testing.T) {
	me, _ := url.Parse("https://example.com/")
	s := &Server{cfg: Config{Me: me}}
	for _, in := range []string{"https://example.com/", "https://example.com", "http://example.com/", "EXAMPLE.COM", "https://Example.Com/"} {
		if !s.CanonicalMe(in) {
			t.Errorf("%q is not taken for %s", in, me)
		}
	}
	for _, in := range []string{"", "https://example.org/", "https://example.com/other/", "https://evil.example/?https://example.com/"} {
		if s.CanonicalMe(in) {
			t.Errorf("%q is taken for %s", in, me)
		}
	}
}
