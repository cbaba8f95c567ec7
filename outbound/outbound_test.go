package outbound

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPolicy_PrivateAddressesAreRefusedUnlessAllowed(t *testing.T) {
	var hits atomic.Int32
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "inside")
	}))
	defer local.Close()
	u, _ := url.Parse(local.URL)
	tests := []struct {
		name   string
		policy Policy
		url    string
		wantOK bool
	}{
		{"loopback refused by default", Policy{}, local.URL + "/", false},
		{"localhost refused by default", Policy{}, "http://localhost:" + u.Port() + "/", false},
		{"cloud metadata refused", Policy{}, "http://169.254.169.254/latest/meta-data/", false},
		{"private network refused", Policy{}, "http://10.1.2.3/", false},
		{"loopback reached when allowed", Policy{AllowPrivate: true}, local.URL + "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			resp, err := tt.policy.Client(Options{Timeout: 2 * time.Second}).Do(req)
			if err == nil {
				resp.Body.Close()
			}
			if tt.wantOK {
				if err != nil || hits.Load() != before+1 {
					t.Fatalf("err = %v, hits %d; want the local server reached", err, hits.Load()-before)
				}
				return
			}
			if !errors.Is(err, ErrPrivateAddress) {
				t.Errorf("err = %v, want ErrPrivateAddress", err)
			}
			if hits.Load() != before {
				t.Error("the local server was reached")
			}
		})
	}
}

func TestPolicy_RedirectsAreCheckedAgain(t *testing.T) {
	// A "public" host (a transport lets only it through to a local server) redirects inward: the
	// address check runs on the dial of the redirect, which is refused.
	var internalHits atomic.Int32
	var internal *httptest.Server
	internal = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "public.example" {
			http.Redirect(w, r, internal.URL+"/secret", http.StatusFound)
			return
		}
		internalHits.Add(1)
	}))
	defer internal.Close()
	client := Policy{}.Client(Options{MaxRedirects: 3})
	safe := client.Transport
	client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == "public.example" {
			r2 := r.Clone(r.Context())
			r2.URL.Host = strings.TrimPrefix(internal.URL, "http://")
			r2.Host = "public.example"
			return http.DefaultTransport.RoundTrip(r2)
		}
		return safe.RoundTrip(r)
	})
	_, err := client.Get("http://public.example/")
	if !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("err = %v, want the redirect's address refused", err)
	}
	if internalHits.Load() != 0 {
		t.Error("the internal address was reached through a redirect")
	}
}

func TestPolicy_RedirectLimitsAndHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/elsewhere":
			http.Redirect(w, r, strings.Replace("http://"+r.Host, "127.0.0.1", "localhost", 1)+"/ok", http.StatusFound)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		opts    Options
		path    string
		wantErr string
	}{
		{"endless redirects stop", Options{MaxRedirects: 3}, "/loop", "more than 3 redirects"},
		{"no redirects followed by default", Options{}, "/loop", "more than 0 redirects"},
		{"another host refused when asked", Options{MaxRedirects: 3, SameHost: true}, "/elsewhere", "redirect to another host"},
		{"another host followed otherwise", Options{MaxRedirects: 3}, "/elsewhere", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := Policy{AllowPrivate: true}.Client(tt.opts).Get(srv.URL + tt.path)
			if err == nil {
				resp.Body.Close()
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadBody_RefusesWhatIsTooLarge(t *testing.T) {
	if _, err := ReadBody(strings.NewReader(strings.Repeat("x", 2048)), 1024); err == nil {
		t.Error("a 2 KB body read under a 1 KB limit")
	}
	if b, err := ReadBody(strings.NewReader("small"), 1024); err != nil || string(b) != "small" {
		t.Errorf("ReadBody = %q, %v", b, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
