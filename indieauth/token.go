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
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", nil, fmt.Errorf("random token: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(buf)
	now := s.now().UTC()
	t := &micropubd.Token{
		Me:       s.Me,
		ClientID: clientID,
		Scope:    strings.Join(strings.Fields(scope), " "),
		IssuedAt: now,
		Hash:     hashToken(secret),
	}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl)
	}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
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
