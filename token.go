package micropubd

import (
	"strings"
	"time"
)

// Token is an access token as the resource servers see it: who it speaks for and what it may do.
type Token struct {
	ID       int64
	Me       string
	ClientID string
	// ClientName is the name the client gave itself when the token was issued, for the owner's list.
	ClientName string
	Scope      string
	IssuedAt   time.Time
	ExpiresAt  time.Time // zero means it does not expire
	RevokedAt  time.Time // zero unless revoked
	LastUsed   time.Time
	// Hash is the SHA-256 of the token string; the string itself is never stored.
	Hash []byte
	// RefreshHash is the SHA-256 of the refresh token issued with it, if any.
	RefreshHash      []byte
	RefreshExpiresAt time.Time
	// CodeID is the authorization code the token was issued for, if any.
	CodeID int64
}

// AuthCode is an IndieAuth authorization code, bound to the request it was issued for.
type AuthCode struct {
	ID            int64
	Hash          []byte // SHA-256 of the code; the code itself is never stored
	ClientID      string
	RedirectURI   string
	Scope         string
	CodeChallenge string // S256 challenge, or "" when the client sent none
	TokenTTL      time.Duration
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        time.Time
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
	// ScopeNotes grants the notes API: reading, writing and sharing notes. No other scope implies it.
	ScopeNotes = "notes"
)

// Scopes returns the token's scopes as a list.
func (t *Token) Scopes() []string { return strings.Fields(t.Scope) }

// Has reports whether the token names scope itself, implications aside.
func (t *Token) Has(scope string) bool {
	for _, s := range t.Scopes() {
		if s == scope {
			return true
		}
	}
	return false
}

// ReadsPosts reports whether the token acts on posts at all (create, draft, update, delete,
// undelete, post), which is what reading drafts and private posts takes. A media-only token,
// say one given to a photo uploader, does not.
func (t *Token) ReadsPosts() bool {
	return t.Allows(ScopeCreate) || t.Allows(ScopeUpdate) || t.Allows(ScopeDelete) || t.Has(ScopeUndelete) || t.Has(ScopeDraft)
}

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
