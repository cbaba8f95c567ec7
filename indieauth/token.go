// Package indieauth verifies access tokens and, for the site's owner, issues them.
package indieauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// ErrInvalidToken means a token is unknown, expired or revoked.
var ErrInvalidToken = micropubd.ErrInvalidToken

// TokenStore keeps tokens by the hash of their string.
type TokenStore interface {
	CreateToken(ctx context.Context, t *micropubd.Token) error
	TokenByHash(ctx context.Context, hash []byte) (*micropubd.Token, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
}

// Tokens mints and verifies the owner's access tokens.
type Tokens struct {
	Store TokenStore
	// Me is the canonical URL of the owner every token speaks for.
	Me  string
	Now func() time.Time
}

// tokenPrefix makes leaked tokens easy to recognise in logs and by secret scanners.
const tokenPrefix = "mpd_"

// touchEvery limits the writes that recording "last used" costs to one a minute per token.
const touchEvery = time.Minute

func (s *Tokens) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Mint creates a token for clientID with the given space-separated scope; ttl 0 means it
// does not expire. It returns the token string, which is shown once and never stored.
func (s *Tokens) Mint(ctx context.Context, clientID, scope string, ttl time.Duration) (string, *micropubd.Token, error) {
	g := Grant{ClientID: clientID, Scope: scope}
	if ttl > 0 {
		g.Expires = s.now().Add(ttl)
	}
	access, _, t := s.newToken(g)
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return access, t, nil
}

// Grant is what a token is issued for.
type Grant struct {
	ClientID   string
	ClientName string
	Scope      string
	// Expires ends the grant: the access token and its refresh token alike. Zero: never.
	Expires time.Time
	// Refresh issues a refresh token too.
	Refresh bool
}

// newToken makes the strings and the record of a token for g, storing nothing.
func (s *Tokens) newToken(g Grant) (access, refresh string, t *micropubd.Token) {
	access = newSecret(tokenPrefix)
	t = &micropubd.Token{
		Me:         s.Me,
		ClientID:   g.ClientID,
		ClientName: g.ClientName,
		Scope:      strings.Join(strings.Fields(g.Scope), " "),
		IssuedAt:   s.now().UTC(),
		Hash:       hashToken(access),
		ExpiresAt:  g.Expires,
	}
	if g.Refresh {
		refresh = newSecret(refreshPrefix)
		t.RefreshHash = hashToken(refresh)
		t.RefreshExpiresAt = g.Expires
	}
	return access, refresh, t
}

// refreshPrefix marks refresh tokens, which never work as access tokens.
const refreshPrefix = "mpr_"

func newSecret(prefix string) string {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported systems
	}
	return prefix + base64.RawURLEncoding.EncodeToString(buf)
}

// Verify returns the token behind secret, or ErrInvalidToken.
func (s *Tokens) Verify(ctx context.Context, secret string) (*micropubd.Token, error) {
	if secret == "" {
		return nil, ErrInvalidToken
	}
	hash := hashToken(secret)
	t, err := s.Store.TokenByHash(ctx, hash)
	if errors.Is(err, micropubd.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	// The lookup is by hash already; comparing again in constant time keeps any
	// index or collation behaviour from ever deciding a match.
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return nil, ErrInvalidToken
	}
	now := s.now()
	if !t.Active(now) {
		return nil, ErrInvalidToken
	}
	if now.Sub(t.LastUsed) > touchEvery {
		if err := s.Store.TouchToken(ctx, t.ID, now); err != nil {
			return nil, err
		}
		t.LastUsed = now
	}
	return t, nil
}

func hashToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
