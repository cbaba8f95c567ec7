package micropubd

import (
	"strings"
	"time"
)

// Token is an access token as the resource servers see it: who it speaks for and what it may do.
type Token struct {
	ID        int64
	Me        string
	ClientID  string
	Scope     string
	IssuedAt  time.Time
	ExpiresAt time.Time // zero means it does not expire
	RevokedAt time.Time // zero unless revoked
	LastUsed  time.Time
	// Hash is the SHA-256 of the token string; the string itself is never stored.
	Hash []byte
}

// Active reports whether the token may be used at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Scope names the Micropub and media endpoints understand.
const (
	ScopeCreate   = "create"
	ScopeUpdate   = "update"
	ScopeDelete   = "delete"
	ScopeUndelete = "undelete"
	ScopeMedia    = "media"
	ScopeDraft    = "draft"
	// ScopePost is the legacy scope clients still ask for: create, update and delete.
	ScopePost = "post"
)

// Scopes returns the token's scopes as a list.
func (t *Token) Scopes() []string { return strings.Fields(t.Scope) }

// Allows reports whether the token grants scope, matching whole words and honouring the
// implications clients rely on: post means create+update+delete, create covers media.
func (t *Token) Allows(scope string) bool {
	for _, s := range t.Scopes() {
		switch {
		case s == scope:
			return true
		case s == ScopePost && (scope == ScopeCreate || scope == ScopeUpdate || scope == ScopeDelete):
			return true
		case (s == ScopeCreate || s == ScopePost) && scope == ScopeMedia:
			return true
		}
	}
	return false
}
