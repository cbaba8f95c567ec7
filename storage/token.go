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
	return db.inTx(ctx, func(tx *txConn) error { return insertToken(ctx, tx, t) })
}

func insertToken(ctx context.Context, tx *txConn, t *micropubd.Token) error {
	var codeID any
	if t.CodeID != 0 {
		codeID = t.CodeID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO tokens
		(hash, me, client_id, client_name, scope, issued_at, expires_at, refresh_hash, refresh_expires_at, code_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Me, t.ClientID, t.ClientName, t.Scope, t.IssuedAt.UnixNano(), nanos(t.ExpiresAt),
		t.RefreshHash, nanos(t.RefreshExpiresAt), codeID)
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	t.ID, err = res.LastInsertId()
	return err
}

// RotateToken revokes the token oldID and stores next in its place, in one transaction. If
// oldID was revoked already (a concurrent refresh won), nothing is stored and the error is
// micropubd.ErrConflict.
func (db *DB) RotateToken(ctx context.Context, oldID int64, at time.Time, next *micropubd.Token) error {
	return db.inTxState(ctx, func(st *txState) error {
		tx := st.tx
		afterCommit(ctx, st, db.tokens.invalidate)
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), oldID)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return micropubd.ErrConflict
		}
		return insertToken(ctx, tx, next)
	})
}

// RevokeTokensOfCode revokes every token issued from one authorization code, refreshes
// included: what a replayed code or refresh token calls for.
func (db *DB) RevokeTokensOfCode(ctx context.Context, codeID int64, at time.Time) error {
	if err := db.tokenWrite(ctx, `UPDATE tokens SET revoked_at = ? WHERE code_id = ? AND revoked_at IS NULL`,
		at.UnixNano(), codeID); err != nil {
		return fmt.Errorf("revoke tokens of code %d: %w", codeID, err)
	}
	return nil
}

const tokenColumns = `id, hash, me, client_id, client_name, scope, issued_at, expires_at, revoked_at,
	last_used_at, refresh_hash, refresh_expires_at, coalesce(code_id, 0)`

func scanToken(row scanner) (*micropubd.Token, error) {
	var (
		t                                          micropubd.Token
		issued                                     int64
		expires, revoked, lastUsed, refreshExpires sql.NullInt64
	)
	err := row.Scan(&t.ID, &t.Hash, &t.Me, &t.ClientID, &t.ClientName, &t.Scope, &issued, &expires, &revoked,
		&lastUsed, &t.RefreshHash, &refreshExpires, &t.CodeID)
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
	t.RefreshExpiresAt = fromNanos(refreshExpires)
	return &t, nil
}

// tokenWrite runs a statement that changes tokens, and empties the token cache once it has
// committed: every revocation goes through here (or calls invalidate after its commit).
func (db *DB) tokenWrite(ctx context.Context, query string, args ...any) error {
	return db.inTxState(ctx, func(st *txState) error {
		afterCommit(ctx, st, db.tokens.invalidate)
		_, err := st.tx.ExecContext(ctx, query, args...)
		return err
	})
}

// TokenByHash returns the token whose SHA-256 is hash, revoked or expired ones included,
// from memory when it was read before and no token changed since (see tokenCache).
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*micropubd.Token, error) {
	inTx := txOf(ctx) != nil
	var gen uint64
	if !inTx {
		var t *micropubd.Token
		if t, gen = db.tokens.get(hash); t != nil {
			return t, nil
		}
	}
	row, err := db.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash)
	if err != nil {
		return nil, err
	}
	t, err := scanToken(row)
	if err == nil && !inTx {
		db.tokens.put(gen, t)
	}
	return t, err
}

// TokenByRefreshHash returns the token whose refresh token's SHA-256 is hash.
func (db *DB) TokenByRefreshHash(ctx context.Context, hash []byte) (*micropubd.Token, error) {
	return scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE refresh_hash = ?`, hash))
}

// ListTokens returns the tokens that are neither revoked nor expired at now, newest first.
func (db *DB) ListTokens(ctx context.Context, now time.Time) ([]*micropubd.Token, error) {
	out, err := queryAll(ctx, db.read, scanToken, `SELECT `+tokenColumns+` FROM tokens
		WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY issued_at DESC, id DESC`, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// TouchToken records that the token was used at at.
func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	if _, err := db.exec(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, at.UnixNano(), id); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	db.tokens.touched(id, at)
	return nil
}

// RevokeToken marks the token revoked; it fails verification from then on.
func (db *DB) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	if err := db.tokenWrite(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at.UnixNano(), id); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// CreateAuthCode stores c (whose Hash is set) and sets c.ID.
func (db *DB) CreateAuthCode(ctx context.Context, c *micropubd.AuthCode) error {
	res, err := db.exec(ctx, `INSERT INTO auth_codes
		(hash, client_id, redirect_uri, scope, code_challenge, token_ttl, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.Hash, c.ClientID, c.RedirectURI, c.Scope, c.CodeChallenge,
		int64(c.TokenTTL/time.Second), c.CreatedAt.UnixNano(), c.ExpiresAt.UnixNano())
	if err != nil {
		return fmt.Errorf("insert code: %w", err)
	}
	c.ID, err = res.LastInsertId()
	return err
}

// RedeemAuthCode redeems the code whose SHA-256 is hash, in one transaction: redeem checks the
// code (client, redirect, PKCE, expiry) and returns the token to issue for it, or nil; only if
// it succeeds is the code marked used and the token stored, so a wrong request does not spend
// the code. A code used before is never redeemed again: the tokens issued for it are revoked,
// as a replay means it leaked, and the error is micropubd.ErrCodeUsed.
func (db *DB) RedeemAuthCode(ctx context.Context, hash []byte, at time.Time,
	redeem func(*micropubd.AuthCode) (*micropubd.Token, error)) (*micropubd.AuthCode, error) {
	var code *micropubd.AuthCode
	err := db.inTx(ctx, func(tx *txConn) error {
		var (
			c                     micropubd.AuthCode
			ttl, created, expires int64
			used                  sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT id, hash, client_id, redirect_uri, scope, code_challenge, token_ttl,
			created_at, expires_at, used_at FROM auth_codes WHERE hash = ?`, hash).Scan(
			&c.ID, &c.Hash, &c.ClientID, &c.RedirectURI, &c.Scope, &c.CodeChallenge, &ttl, &created, &expires, &used)
		if errors.Is(err, sql.ErrNoRows) {
			return micropubd.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read code: %w", err)
		}
		if used.Valid {
			return micropubd.ErrCodeUsed
		}
		c.TokenTTL = time.Duration(ttl) * time.Second
		c.CreatedAt = time.Unix(0, created).UTC()
		c.ExpiresAt = time.Unix(0, expires).UTC()
		t, err := redeem(&c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_codes SET used_at = ? WHERE id = ?`, at.UnixNano(), c.ID); err != nil {
			return fmt.Errorf("use code: %w", err)
		}
		if t != nil {
			t.CodeID = c.ID
			if err := insertToken(ctx, tx, t); err != nil {
				return err
			}
		}
		c.UsedAt = at
		code = &c
		return nil
	})
	if errors.Is(err, micropubd.ErrCodeUsed) {
		return nil, db.revokeReplayed(ctx, hash, at)
	}
	return code, err
}

// revokeReplayed revokes the tokens issued for an already used code and reports the replay.
func (db *DB) revokeReplayed(ctx context.Context, hash []byte, at time.Time) error {
	if err := db.tokenWrite(ctx, `UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL
		AND code_id = (SELECT id FROM auth_codes WHERE hash = ?)`, at.UnixNano(), hash); err != nil {
		return fmt.Errorf("revoke tokens of a replayed code: %w", err)
	}
	return micropubd.ErrCodeUsed
}

// Setting returns the value of a setting, or micropubd.ErrNotFound.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", micropubd.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a setting.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	if _, err := db.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}

// CreateSession stores a session by the hash of its cookie value.
func (db *DB) CreateSession(ctx context.Context, hash []byte, created, expires time.Time) error {
	if _, err := db.exec(ctx, `INSERT INTO sessions (hash, created_at, expires_at) VALUES (?, ?, ?)`,
		hash, created.UnixNano(), expires.UnixNano()); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionValid reports whether a session with that hash exists and has not expired at now.
func (db *DB) SessionValid(ctx context.Context, hash []byte, now time.Time) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE hash = ? AND expires_at > ?`,
		hash, now.UnixNano()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read session: %w", err)
	}
	return n > 0, nil
}

// DeleteAllSessions signs the owner out everywhere, as a new password must.
func (db *DB) DeleteAllSessions(ctx context.Context) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions`); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// DeleteSession ends a session, and any that have expired.
func (db *DB) DeleteSession(ctx context.Context, hash []byte, now time.Time) error {
	if _, err := db.exec(ctx, `DELETE FROM sessions WHERE hash = ? OR expires_at <= ?`, hash, now.UnixNano()); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
