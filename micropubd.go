// Package micropubd holds the domain types shared by the Micropub endpoint, the IndieAuth server,
// the notes API, the site and the SQLite storage. It has no dependencies on any of them.
package micropubd

import "errors"

// Errors the storage and service layers return; handlers map them to HTTP answers.
var (
	// ErrNotFound means no such post, token or file exists.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value (a post's path, say) is already taken.
	ErrConflict = errors.New("conflict")
	// ErrCodeUsed means an authorization code was redeemed before.
	ErrCodeUsed = errors.New("code already used")
	// ErrInvalidToken means an access token is unknown, expired or revoked.
	ErrInvalidToken = errors.New("invalid token")
	// ErrBusy means the database could not do it now (readers in the way); try again later.
	ErrBusy = errors.New("database busy")
	// ErrNoSpace means a write failed because the disk (or the user's quota) is full: nothing
	// was saved, reads still work, and writes work again once space is freed.
	ErrNoSpace = errors.New("no space left on the disk")
)
