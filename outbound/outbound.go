// Package outbound makes the HTTP clients of every fetch the server starts on its own: IndieAuth
// client pages, webmention sources and the endpoints webmentions are sent to. A URL someone
// hands the server must not make it probe its own network, so by default these clients never
// connect to loopback, private, link-local or carrier-grade NAT addresses, checked on the
// address actually dialled (after DNS, and again after every redirect), and every fetch has
// time and size limits.
package outbound

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Policy says where outgoing fetches may connect.
type Policy struct {
	// AllowPrivate lets fetches reach loopback and private addresses: for tests and private
	// networks only (--allow-private-addresses).
	AllowPrivate bool
}

// Options shape one client.
type Options struct {
	// Timeout bounds a whole fetch, redirects and body included; 0 means 10 s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed; 0 means none.
	MaxRedirects int
	// SameHost refuses redirects to another host.
	SameHost bool
}

// ErrPrivateAddress is returned (wrapped) for a connection the policy refuses.
var ErrPrivateAddress = errors.New("not a public address")

// Client returns an HTTP client that follows the policy.
func (p Policy) Client(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	dialer := &net.Dialer{Timeout: min(o.Timeout, 5*time.Second)}
	if !p.AllowPrivate {
		dialer.Control = refusePrivate
	}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   min(o.Timeout, 5*time.Second),
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          8,
		IdleConnTimeout:       30 * time.Second,
		Proxy:                 nil, // a proxy would dial for us, past the address check
	}
	return &http.Client{
		Transport: transport,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > o.MaxRedirects {
				return fmt.Errorf("more than %d redirects", o.MaxRedirects)
			}
			if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
				return errors.New("redirect to a non-http URL")
			}
			if o.SameHost && !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
				return fmt.Errorf("redirect to another host, %s", req.URL.Hostname())
			}
			return nil
		},
	}
}

// refusePrivate is a dialer Control that refuses addresses inside private networks. It checks
// the address actually dialled, after DNS, so a public name that resolves to 127.0.0.1 or a
// redirect to an internal host are refused too.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !PublicIP(ip) {
		return fmt.Errorf("refusing to connect to %s: %w", host, ErrPrivateAddress)
	}
	return nil
}

// PublicIP reports whether ip is an address of the public internet.
func PublicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		(ip.To4() != nil && ip.To4()[0] == 100 && ip.To4()[1]&0xC0 == 64)) // 100.64/10, carrier-grade NAT
}

// ReadBody reads at most max bytes of a response body; a longer body is an error, so that a
// cut-off page is never taken for the whole.
func ReadBody(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("the body is larger than %d KB", max>>10)
	}
	return body, nil
}
