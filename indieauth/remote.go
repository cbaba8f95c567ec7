package indieauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/micropubd/micropubd"
)

// RemoteVerifier checks tokens at an external IndieAuth server instead of this one: its token
// endpoint (the legacy GET with the token as Bearer) or its introspection endpoint (POST).
// Answers are cached, positive ones for CacheFor, negative ones briefly, so a burst of posts
// costs one round trip and a revoked token stops working soon.
type RemoteVerifier struct {
	TokenEndpoint         string
	IntrospectionEndpoint string
	// IntrospectionToken authenticates the introspection request; empty means the token
	// being checked is sent as its own Bearer credential.
	IntrospectionToken string
	// Me is the site's canonical URL; a token for anyone else is refused.
	Me          *url.URL
	HTTP        *http.Client
	CacheFor    time.Duration
	NegativeFor time.Duration
	Now         func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]remoteAnswer
}

type remoteAnswer struct {
	token *micropubd.Token // nil: invalid
	until time.Time
}

const maxRemoteCache = 10000

func (v *RemoteVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify implements micropub.TokenVerifier.
func (v *RemoteVerifier) Verify(ctx context.Context, secret string) (*micropubd.Token, error) {
	if secret == "" {
		return nil, micropubd.ErrInvalidToken
	}
	key := sha256.Sum256([]byte(secret))
	now := v.now()
	v.mu.Lock()
	if a, ok := v.cache[key]; ok && now.Before(a.until) {
		v.mu.Unlock()
		if a.token == nil {
			return nil, micropubd.ErrInvalidToken
		}
		return a.token, nil
	}
	v.mu.Unlock()

	t, err := v.ask(ctx, secret)
	if err != nil && err != micropubd.ErrInvalidToken {
		return nil, err // the endpoint failed: nothing is learnt, nothing cached
	}
	ttl := v.CacheFor
	if t == nil {
		ttl = v.NegativeFor
	}
	v.mu.Lock()
	if v.cache == nil || len(v.cache) >= maxRemoteCache {
		v.cache = map[[32]byte]remoteAnswer{}
	}
	if ttl > 0 {
		v.cache[key] = remoteAnswer{token: t, until: now.Add(ttl)}
	}
	v.mu.Unlock()
	return t, err
}

func (v *RemoteVerifier) ask(ctx context.Context, secret string) (*micropubd.Token, error) {
	var req *http.Request
	var err error
	if v.IntrospectionEndpoint != "" {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, v.IntrospectionEndpoint,
			strings.NewReader(url.Values{"token": {secret}}.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		auth := v.IntrospectionToken
		if auth == "" {
			auth = secret
		}
		req.Header.Set("Authorization", "Bearer "+auth)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, v.TokenEndpoint, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	req.Header.Set("Accept", "application/json")
	client := v.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusNotFound:
		return nil, micropubd.ErrInvalidToken
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("token endpoint answered HTTP %d", resp.StatusCode)
	}
	var answer struct {
		Active   *bool  `json:"active"`
		Me       string `json:"me"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Exp      int64  `json:"exp"`
		Iat      int64  `json:"iat"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		// Some old token endpoints answer form-encoded.
		form, ferr := url.ParseQuery(string(body))
		if ferr != nil || form.Get("me") == "" {
			return nil, fmt.Errorf("token endpoint answered something that is not JSON: %w", err)
		}
		answer.Me, answer.ClientID, answer.Scope = form.Get("me"), form.Get("client_id"), form.Get("scope")
	}
	if answer.Active != nil && !*answer.Active {
		return nil, micropubd.ErrInvalidToken
	}
	if !sameMe(answer.Me, v.Me) {
		return nil, micropubd.ErrInvalidToken // a token for another site
	}
	t := &micropubd.Token{Me: v.Me.String(), ClientID: answer.ClientID, Scope: answer.Scope}
	if answer.Iat > 0 {
		t.IssuedAt = time.Unix(answer.Iat, 0)
	}
	if answer.Exp > 0 {
		t.ExpiresAt = time.Unix(answer.Exp, 0)
		if !t.Active(v.now()) {
			return nil, micropubd.ErrInvalidToken
		}
	}
	return t, nil
}

// sameMe compares a me URL with the site's, ignoring the case of the host and a missing
// trailing slash.
func sameMe(raw string, me *url.URL) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return strings.EqualFold(u.Scheme, me.Scheme) && strings.EqualFold(u.Host, me.Host) && path == me.Path
}
