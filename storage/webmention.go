package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/micropubd/micropubd"
)

const mentionColumns = `id, source, target, post_id, source_host, status, kind, cite, error, attempts, due_at,
	received_at, verified_at`

// QueueWebmention records a received webmention as pending, due at once: a new one, or one
// sent again (which is verified again). One the owner deleted stays deleted: queued is false.
func (db *DB) QueueWebmention(ctx context.Context, m *micropubd.Webmention) (queued bool, err error) {
	now := m.Received
	res, err := db.exec(ctx, `INSERT INTO webmentions (source, target, post_id, source_host, status, due_at, received_at)
		VALUES (?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (source, post_id) DO UPDATE SET target = excluded.target, status = 'pending', attempts = 0,
			error = '', due_at = excluded.due_at, received_at = excluded.received_at
		WHERE status != 'deleted'`,
		m.Source, m.Target, m.PostID, m.SourceHost, now.UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("queue webmention: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// PendingWebmentions counts the webmentions waiting to be verified.
func (db *DB) PendingWebmentions(ctx context.Context) (int, error) {
	var n int
	row, err := db.queryRow(ctx, `SELECT count(*) FROM webmentions WHERE status = 'pending'`)
	if err == nil {
		err = row.Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count pending webmentions: %w", err)
	}
	return n, nil
}

// DueWebmentions returns pending webmentions due by now, the longest waiting first.
func (db *DB) DueWebmentions(ctx context.Context, now time.Time, limit int) ([]*micropubd.Webmention, error) {
	out, err := queryAll(ctx, db.read, scanMention, `SELECT `+mentionColumns+` FROM webmentions
		WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`, now.UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("list due webmentions: %w", err)
	}
	return out, nil
}

// NextWebmentionDue returns when the next pending webmention is due; ok is false when none is.
func (db *DB) NextWebmentionDue(ctx context.Context) (time.Time, bool, error) {
	return db.nextDue(ctx, `SELECT min(due_at) FROM webmentions WHERE status = 'pending'`)
}

func (db *DB) nextDue(ctx context.Context, query string) (time.Time, bool, error) {
	var n sql.NullInt64
	row, err := db.queryRow(ctx, query)
	if err == nil {
		err = row.Scan(&n)
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due: %w", err)
	}
	return fromNanos(n), n.Valid, nil
}

// WebmentionBySource returns the webmention a source sent to a post.
func (db *DB) WebmentionBySource(ctx context.Context, source string, postID int64) (*micropubd.Webmention, error) {
	row, err := db.queryRow(ctx, `SELECT `+mentionColumns+` FROM webmentions WHERE source = ? AND post_id = ?`, source, postID)
	if err != nil {
		return nil, err
	}
	return scanMention(row)
}

// SaveWebmention records what verifying a webmention found. It writes only if the row was
// not queued again meanwhile (its received time is the one m was read with): then it is
// verified again. saved says whether it wrote.
func (db *DB) SaveWebmention(ctx context.Context, m *micropubd.Webmention) (saved bool, err error) {
	cite, err := json.Marshal(m.Cite)
	if err != nil {
		return false, fmt.Errorf("encode webmention: %w", err)
	}
	if m.Cite == nil {
		cite = []byte("{}")
	}
	res, err := db.exec(ctx, `UPDATE webmentions SET status = ?, kind = ?, cite = ?, error = ?, attempts = ?, due_at = ?,
		verified_at = ? WHERE id = ? AND received_at = ?`,
		m.Status, m.Kind, string(cite), m.Error, m.Attempts, m.Due.UnixNano(), nanos(m.Verified), m.ID, m.Received.UnixNano())
	if err != nil {
		return false, fmt.Errorf("save webmention: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// PostByID returns a post by its id, deleted or not.
func (db *DB) PostByID(ctx context.Context, id int64) (*micropubd.Post, error) {
	row, err := db.queryRow(ctx, `SELECT `+postColumns+` FROM posts p WHERE p.id = ?`, id)
	if err != nil {
		return nil, err
	}
	return scanPost(row)
}

func scanMention(row scanner) (*micropubd.Webmention, error) {
	var (
		m             micropubd.Webmention
		cite          []byte
		due, received int64
		verified      sql.NullInt64
	)
	err := row.Scan(&m.ID, &m.Source, &m.Target, &m.PostID, &m.SourceHost, &m.Status, &m.Kind, &cite, &m.Error,
		&m.Attempts, &due, &received, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, micropubd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read webmention: %w", err)
	}
	if err := json.Unmarshal(cite, &m.Cite); err != nil {
		return nil, fmt.Errorf("webmention %d: %w", m.ID, err)
	}
	m.Due, m.Received, m.Verified = time.Unix(0, due).UTC(), time.Unix(0, received).UTC(), fromNanos(verified)
	return &m, nil
}

const sendColumns = `id, post_id, source, target, version, status, endpoint, result, title, attempts, due_at, done_at`

// QueueSends queues webmentions for a post at version: to each of targets, and again to every
// target queued for the post before (a link since removed must hear of it too). A target
// already queued or sent for this version is left alone: an unchanged post is never sent twice.
func (db *DB) QueueSends(ctx context.Context, postID int64, source, version string, targets []string, due time.Time) error {
	return db.inTx(ctx, func(tx *txConn) error {
		if _, err := db.txExec(ctx, tx, queueSendsAgain, source, version, due.UnixNano(), postID, version); err != nil {
			return fmt.Errorf("queue webmentions: %w", err)
		}
		for _, target := range targets {
			if _, err := db.txExec(ctx, tx, queueSendsTarget, postID, source, target, version, due.UnixNano()); err != nil {
				return fmt.Errorf("queue webmention: %w", err)
			}
		}
		return nil
	})
}

// The statements every write of a post runs (see hotWrites).
const (
	hasSends         = `SELECT EXISTS (SELECT 1 FROM webmention_sends WHERE post_id = ?)`
	queueSendsAgain  = `UPDATE webmention_sends SET source = ?, version = ?, status = 'pending', attempts = 0, result = '', due_at = ? WHERE post_id = ? AND version != ?`
	queueSendsTarget = `INSERT INTO webmention_sends (post_id, source, target, version, status, due_at) VALUES (?, ?, ?, ?, 'pending', ?) ON CONFLICT (post_id, target) DO NOTHING`
)

// HasSends reports whether webmentions were ever queued for a post.
func (db *DB) HasSends(ctx context.Context, postID int64) (bool, error) {
	var found bool
	row, err := db.queryRow(ctx, hasSends, postID)
	if err == nil {
		err = row.Scan(&found)
	}
	if err != nil {
		return false, fmt.Errorf("look up webmentions sent: %w", err)
	}
	return found, nil
}

// DueSends returns webmentions to send due by now, the longest waiting first.
func (db *DB) DueSends(ctx context.Context, now time.Time, limit int) ([]*micropubd.WebmentionSend, error) {
	return db.listSends(ctx, `SELECT `+sendColumns+` FROM webmention_sends
		WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?`, now.UnixNano(), limit)
}

// NextSendDue returns when the next webmention to send is due; ok is false when none is.
func (db *DB) NextSendDue(ctx context.Context) (time.Time, bool, error) {
	return db.nextDue(ctx, `SELECT min(due_at) FROM webmention_sends WHERE status = 'pending'`)
}

// SentWebmentions lists the webmentions queued or sent for a post, in the order queued.
func (db *DB) SentWebmentions(ctx context.Context, postID int64) ([]*micropubd.WebmentionSend, error) {
	return db.listSends(ctx, `SELECT `+sendColumns+` FROM webmention_sends WHERE post_id = ? ORDER BY id`, postID)
}

// SentWebmentionsOf lists the webmentions queued or sent for several posts, by post: one query
// for a page of posts.
func (db *DB) SentWebmentionsOf(ctx context.Context, postIDs []int64) (map[int64][]*micropubd.WebmentionSend, error) {
	out := map[int64][]*micropubd.WebmentionSend{}
	if len(postIDs) == 0 {
		return out, nil
	}
	list, err := json.Marshal(postIDs)
	if err != nil {
		return nil, err
	}
	all, err := db.listSends(ctx, `SELECT `+sendColumns+` FROM webmention_sends
		WHERE post_id IN (SELECT value FROM json_each(?)) ORDER BY id`, string(list))
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		out[s.PostID] = append(out[s.PostID], s)
	}
	return out, nil
}

// SaveSend records the outcome of sending a webmention, unless the post changed meanwhile
// (the row's version moved on): then it is sent again for the new version.
func (db *DB) SaveSend(ctx context.Context, s *micropubd.WebmentionSend) error {
	_, err := db.exec(ctx, `UPDATE webmention_sends SET status = ?, endpoint = ?, result = ?, title = ?, attempts = ?,
		due_at = ?, done_at = ? WHERE id = ? AND version = ?`,
		s.Status, s.Endpoint, s.Result, s.Title, s.Attempts, s.Due.UnixNano(), nanos(s.Done), s.ID, s.Version)
	if err != nil {
		return fmt.Errorf("save webmention sent: %w", err)
	}
	return nil
}

func (db *DB) listSends(ctx context.Context, query string, args ...any) ([]*micropubd.WebmentionSend, error) {
	out, err := queryAll(ctx, db.reader(ctx), scanSend, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list webmentions sent: %w", err)
	}
	return out, nil
}

func scanSend(row scanner) (*micropubd.WebmentionSend, error) {
	var (
		s    micropubd.WebmentionSend
		due  int64
		done sql.NullInt64
	)
	if err := row.Scan(&s.ID, &s.PostID, &s.Source, &s.Target, &s.Version, &s.Status, &s.Endpoint, &s.Result,
		&s.Title, &s.Attempts, &due, &done); err != nil {
		return nil, fmt.Errorf("read webmention sent: %w", err)
	}
	s.Due, s.Done = time.Unix(0, due).UTC(), fromNanos(done)
	return &s, nil
}
