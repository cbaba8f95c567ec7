package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/micropubd/micropubd"
)

// CreateToken stores t (whose Hash is set) and sets t.ID.
func (db *DB) CreateToken(ctx context.Context, t *micropubd.Token) error {
	res, err := db.write.ExecContext(ctx, `INSERT INTO tokens (hash, me, client_id, scope, issued_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.Hash, t.Me, t.ClientID, t.Scope, t.IssuedAt.UnixNano(), nanos(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	t.ID, err = res.LastInsertId()
	return err
}

// TokenByHash returns the token whose SHA-256 is hash, revoked or expired ones included.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*micropubd.Token, error) {
	var (
		t                          micropubd.Token
		issued                     int64
		expires, revoked, lastUsed sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx, `SELECT id, hash, me, client_id, scope, issued_at, expires_at, revoked_at, last_used_at
		FROM tokens WHERE hash = ?`, hash).Scan(&t.ID, &t.Hash, &t.Me, &t.ClientID, &t.Scope, &issued, &expires, &revoked, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, micropubd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	t.IssuedAt = time.Unix(0, issued).UTC()
	t.ExpiresAt = fromNanos(expires)
	t.RevokedAt = fromNanos(revoked)
	t.LastUsed = fromNanos(lastUsed)
	return &t, nil
}

// TouchToken records that the token was used at at.
func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, at.UnixNano(), id); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// RevokeToken marks the token revoked; it fails verification from then on.
func (db *DB) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), id); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}
