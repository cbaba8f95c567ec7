package indieauth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"willnorris.com/go/microformats"

	"github.com/micropubd/micropubd/outbound"
)

// Client is what the authorization server knows of an app asking for access.
type Client struct {
	ID           string
	Name         string
	URL          string
	Logo         string
	RedirectURIs []string
	// Fetched is false when the client_id was not fetched (a loopback client) or the fetch failed.
	Fetched bool
}

// DisplayName is the client's name, or its client_id when it gave none.
func (c *Client) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// ClientFetcher reads client information from a client_id URL: a JSON client metadata
// document, or an HTML page with an h-app (or h-x-app) and rel="redirect_uri" links.
type ClientFetcher struct {
	// HTTP is the client fetches go through; NewClientFetcher makes one from the outbound
	// policy, which refuses private addresses unless told otherwise, and stops after 5 seconds.
	HTTP *http.Client
	// MaxBytes bounds how much of a client's page is read.
	MaxBytes int64
	// CacheFor keeps what was fetched, so the consent page and its approval fetch once.
	CacheFor time.Duration

	mu       sync.Mutex
	cache    map[string]cachedClient
	inFlight map[string]chan struct{} // fetches under way, so one client_id is fetched once at a time
	slots    chan struct{}            // bounds fetches running at once
}

const (
	maxCachedClients = 256
	maxFetches       = 4
	maxRedirectURIs  = 20
	maxNameLength    = 100
)

type cachedClient struct {
	client *Client
	err    error
	at     time.Time
}

// NewClientFetcher returns a fetcher that, under the default policy, never connects to private,
// loopback or link-local addresses (a client_id must not make the server probe its own
// network), with a 5 s timeout, at most 3 redirects on the client_id's own host, and a 512 KB
// limit.
func NewClientFetcher(policy outbound.Policy) *ClientFetcher {
	return &ClientFetcher{
		// What a client_id's page says speaks for that client only if it is served from the
		// client_id's own host: a redirect elsewhere (an open redirect on a well-known
		// client's site, say) must not let another site list redirect URIs for it.
		HTTP:     policy.Client(outbound.Options{Timeout: 5 * time.Second, MaxRedirects: 3, SameHost: true}),
		MaxBytes: 512 << 10,
		CacheFor: 5 * time.Minute,
	}
}

// Fetch returns what the client_id page says of the client. Errors are returned with a
// Client holding only the ID, so callers may go on where the spec allows.
func (f *ClientFetcher) Fetch(ctx context.Context, clientID string) (*Client, error) {
	for {
		f.mu.Lock()
		if c, ok := f.cache[clientID]; ok && time.Since(c.at) < f.CacheFor {
			f.mu.Unlock()
			return c.client, c.err
		}
		wait, busy := f.inFlight[clientID]
		if !busy {
			if f.inFlight == nil {
				f.inFlight = map[string]chan struct{}{}
				f.slots = make(chan struct{}, maxFetches)
			}
			wait = make(chan struct{})
			f.inFlight[clientID] = wait
			f.mu.Unlock()
			break
		}
		f.mu.Unlock()
		select { // another request is fetching this client: take its answer
		case <-wait:
		case <-ctx.Done():
			return &Client{ID: clientID}, ctx.Err()
		}
	}

	var c *Client
	var err error
	select {
	case f.slots <- struct{}{}:
		c, err = f.fetch(ctx, clientID)
		<-f.slots
	case <-ctx.Done():
		c, err = &Client{ID: clientID}, ctx.Err()
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.inFlight[clientID])
	delete(f.inFlight, clientID)
	if ctx.Err() != nil {
		return c, err
	}
	if f.cache == nil {
		f.cache = map[string]cachedClient{}
	}
	if len(f.cache) >= maxCachedClients {
		for k, v := range f.cache { // drop what has expired, and if that is not enough, anything
			if time.Since(v.at) >= f.CacheFor || len(f.cache) >= maxCachedClients {
				delete(f.cache, k)
			}
		}
	}
	f.cache[clientID] = cachedClient{client: c, err: err, at: time.Now()}
	return c, err
}

// Cached returns what a fetch found of the client recently, without fetching.
func (f *ClientFetcher) Cached(clientID string) *Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.cache[clientID]; ok && time.Since(c.at) < f.CacheFor && c.err == nil {
		return c.client
	}
	return nil
}

func (f *ClientFetcher) fetch(ctx context.Context, clientID string) (*Client, error) {
	c := &Client{ID: clientID}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return c, err
	}
	req.Header.Set("Accept", "application/json, text/html;q=0.9")
	req.Header.Set("User-Agent", "micropubd (IndieAuth client discovery)")
	resp, err := f.HTTP.Do(req)
	if err != nil {
		return c, fmt.Errorf("fetch %s: %w", clientID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("fetch %s: HTTP %d", clientID, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes))
	if err != nil {
		return c, fmt.Errorf("read %s: %w", clientID, err)
	}
	c.Fetched = true
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType == "application/json" || (mediaType != "text/html" && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))) {
		err = c.readMetadata(body)
	} else {
		c.readHTML(resp, body)
	}
	c.trim()
	return c, err
}

// trim keeps what a client says to sizes a consent page and a cache can hold, and drops a
// client_uri that is not its own (IndieAuth: it must be a prefix of the client_id).
func (c *Client) trim() {
	if len(c.RedirectURIs) > maxRedirectURIs {
		c.RedirectURIs = c.RedirectURIs[:maxRedirectURIs]
	}
	if r := []rune(c.Name); len(r) > maxNameLength {
		c.Name = string(r[:maxNameLength]) + "…"
	}
	if c.URL != "" && !strings.HasPrefix(c.ID, c.URL) {
		c.URL = ""
	}
	if len(c.Logo) > 2048 {
		c.Logo = ""
	}
}

// readMetadata reads a client metadata document (IndieAuth 4.2.1).
func (c *Client) readMetadata(body []byte) error {
	var doc struct {
		ClientID     string   `json:"client_id"`
		ClientName   string   `json:"client_name"`
		ClientURI    string   `json:"client_uri"`
		LogoURI      string   `json:"logo_uri"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("client metadata of %s: %w", c.ID, err)
	}
	if doc.ClientID != "" && doc.ClientID != c.ID {
		return fmt.Errorf("client metadata of %s names another client_id, %s", c.ID, doc.ClientID)
	}
	c.Name, c.URL, c.Logo, c.RedirectURIs = doc.ClientName, doc.ClientURI, doc.LogoURI, doc.RedirectURIs
	return nil
}

// readHTML reads an h-app or h-x-app and the redirect_uri rels of the page and its headers.
func (c *Client) readHTML(resp *http.Response, body []byte) {
	data := microformats.Parse(bytes.NewReader(body), resp.Request.URL)
	c.RedirectURIs = append(c.RedirectURIs, data.Rels["redirect_uri"]...)
	for _, v := range resp.Header.Values("Link") {
		for _, link := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(link, ";")
			target = strings.Trim(strings.TrimSpace(target), "<>")
			if !ok || !slices.Contains(strings.Fields(strings.ReplaceAll(relOf(params), `"`, "")), "redirect_uri") {
				continue
			}
			if u, err := resp.Request.URL.Parse(target); err == nil {
				c.RedirectURIs = append(c.RedirectURIs, u.String())
			}
		}
	}
	for _, item := range data.Items {
		if !slices.Contains(item.Type, "h-app") && !slices.Contains(item.Type, "h-x-app") {
			continue
		}
		c.Name = firstText(item.Properties["name"])
		c.URL = firstText(item.Properties["url"])
		c.Logo = firstText(item.Properties["logo"])
		break
	}
}

func relOf(params string) string {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "rel") {
			return v
		}
	}
	return ""
}

func firstText(vals []any) string {
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			return v
		case map[string]string:
			return v["value"]
		}
	}
	return ""
}

// ValidClientID checks a client_id as IndieAuth 3.2 requires, and returns it normalised: a
// URL without a path gets "/".
func ValidClientID(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("client_id %q must be an http or https URL", raw)
	}
	if u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("client_id %q must not have a fragment or user information", raw)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("client_id %q must not have . or .. path segments", raw)
		}
	}
	if ip := net.ParseIP(strings.Trim(u.Hostname(), "[]")); ip != nil && !ip.IsLoopback() {
		return nil, fmt.Errorf("client_id %q must use a host name, not an IP address", raw)
	}
	return u, nil
}

// IsLoopback reports whether a client_id is on the user's own machine (127.0.0.1, [::1],
// localhost): such clients are shown as they are and never fetched.
func IsLoopback(u *url.URL) bool {
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether two URLs share scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
