package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/micropubd/micropubd"
)

const (
	insertPost = `INSERT INTO posts
		(path, type, post_type, status, visibility, properties, syndicate_to, published_at, updated_at, deleted_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unixepoch('subsec') * 1000000000)`
	// A path the post had before is its own again; one of another post is not touched, and
	// no row changed tells the caller so.
	insertPath = `INSERT INTO post_paths (path, post_id) VALUES (?, ?)
		ON CONFLICT (path) DO UPDATE SET post_id = post_id WHERE post_id = excluded.post_id`
	insertCategory = `INSERT OR IGNORE INTO post_categories (post_id, category) VALUES (?, ?)`
)

const postColumns = `p.id, p.path, p.type, p.post_type, p.status, p.visibility, p.properties,
	p.syndicate_to, p.published_at, p.updated_at, p.deleted_at`

// CreatePost inserts p with its categories and path in one transaction and sets p.ID.
// It returns micropubd.ErrConflict when p.Path is taken, now or in the past, by another post.
func (db *DB) CreatePost(ctx context.Context, p *micropubd.Post) error {
	props, synd, err := encodePost(p)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(ctx, tx, insertPost, p.Path, p.Type, p.PostType, p.Status, p.Visibility, props, synd,
			p.Published.UnixNano(), nanos(p.Updated), nanos(p.Deleted))
		if isUniqueViolation(err) {
			return fmt.Errorf("path %q: %w", p.Path, micropubd.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert post: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		if err := db.addPath(ctx, tx, id, p.Path); err != nil {
			return err
		}
		if err := db.addCategories(ctx, tx, id, p.Properties); err != nil {
			return err
		}
		p.ID = id
		return nil
	})
}

// UpdatePost loads the post at path (a current or former path), lets change modify it and saves
// the result, all in one write transaction, so concurrent updates never lose each other's changes.
// If change returns an error nothing is written.
func (db *DB) UpdatePost(ctx context.Context, path string, change func(*micropubd.Post) error) (*micropubd.Post, error) {
	var updated *micropubd.Post
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		p, err := scanPost(tx.QueryRowContext(ctx, `SELECT `+postColumns+`
			FROM post_paths pp JOIN posts p ON p.id = pp.post_id WHERE pp.path = ?`, path))
		if err != nil {
			return err
		}
		oldPath := p.Path
		if err := change(p); err != nil {
			return err
		}
		props, synd, err := encodePost(p)
		if err != nil {
			return err
		}
		if p.Path != oldPath {
			if err := db.addPath(ctx, tx, p.ID, p.Path); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE posts SET path = ?, post_type = ?, status = ?, visibility = ?,
			properties = ?, syndicate_to = ?, published_at = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
			p.Path, p.PostType, p.Status, p.Visibility, props, synd,
			p.Published.UnixNano(), nanos(p.Updated), nanos(p.Deleted), p.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("path %q: %w", p.Path, micropubd.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("update post: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_categories WHERE post_id = ?`, p.ID); err != nil {
			return fmt.Errorf("clear categories: %w", err)
		}
		if err := db.addCategories(ctx, tx, p.ID, p.Properties); err != nil {
			return err
		}
		updated = p
		return nil
	})
	return updated, err
}

// PostByPath returns the post at path, a current or former path of it, deleted or not.
func (db *DB) PostByPath(ctx context.Context, path string) (*micropubd.Post, error) {
	row, err := db.queryRow(ctx, `SELECT `+postColumns+`
		FROM post_paths pp JOIN posts p ON p.id = pp.post_id WHERE pp.path = ?`, path)
	if err != nil {
		return nil, err
	}
	return scanPost(row)
}

// ListPosts returns the posts the filter selects, newest first: posts that are not deleted, or
// with f.Deleted the deleted ones.
func (db *DB) ListPosts(ctx context.Context, f micropubd.PostFilter) ([]*micropubd.Post, error) {
	var where []string
	var args []any
	if f.Deleted {
		where = append(where, "p.deleted_at IS NOT NULL", "p.properties <> '{}'")
	} else {
		where = append(where, "p.deleted_at IS NULL")
	}
	if f.Text != "" {
		// A scan, for the owner's search only: no reader's page runs it. The text is looked
		// for as the stored JSON writes it (& as \u0026, a quote as \").
		needle, _ := json.Marshal(f.Text)
		where = append(where, "instr(lower(p.properties), lower(?)) > 0")
		args = append(args, strings.Trim(string(needle), `"`))
	}
	if f.Status != "" {
		where = append(where, "p.status = ?")
		args = append(args, f.Status)
	}
	if len(f.Visibility) > 0 {
		where = append(where, "p.visibility IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.Visibility)), ",")+")")
		for _, v := range f.Visibility {
			args = append(args, v)
		}
	}
	if f.PostType != "" {
		where = append(where, "p.post_type = ?")
		args = append(args, f.PostType)
	}
	if f.Type != "" {
		where = append(where, "p.type = ?")
		args = append(args, f.Type)
	}
	if f.Category != "" {
		where = append(where, "p.id IN (SELECT post_id FROM post_categories WHERE category = ?)")
		args = append(args, f.Category)
	}
	order := "DESC"
	if c := f.After; c != nil {
		where = append(where, "(p.published_at < ? OR (p.published_at = ? AND p.id < ?))")
		args = append(args, c.Published.UnixNano(), c.Published.UnixNano(), c.ID)
	}
	if c := f.Before; c != nil {
		// Newer than the cursor: walk upwards from it, then turn the page round below.
		where = append(where, "(p.published_at > ? OR (p.published_at = ? AND p.id > ?))")
		args = append(args, c.Published.UnixNano(), c.Published.UnixNano(), c.ID)
		order = "ASC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	query := `SELECT ` + postColumns + ` FROM posts p WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY p.published_at ` + order + `, p.id ` + order + ` LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	posts, err := queryAll(ctx, db.read, scanPost, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	if order == "ASC" {
		slices.Reverse(posts)
	}
	return posts, nil
}

// Categories returns the distinct categories of posts that are not deleted, most used first,
// optionally only those containing filter (case-insensitively).
func (db *DB) Categories(ctx context.Context, filter string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.read.QueryContext(ctx, `SELECT c.category FROM post_categories c
		JOIN posts p ON p.id = c.post_id AND p.deleted_at IS NULL
		WHERE ? = '' OR instr(lower(c.category), lower(?)) > 0
		GROUP BY c.category ORDER BY count(*) DESC, c.category LIMIT ?`, filter, filter, limit)
	if err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	defer rows.Close()
	cats := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cats = append(cats, c)
	}
	return cats, rows.Err()
}

// addPath records a path of the post; a path the post had before is its own again, one of
// another post is a conflict.
func (db *DB) addPath(ctx context.Context, tx *sql.Tx, id int64, path string) error {
	res, err := db.txExec(ctx, tx, insertPath, path, id)
	if err == nil {
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("path %q: %w", path, micropubd.ErrConflict)
		}
	}
	if err != nil {
		return fmt.Errorf("insert path: %w", err)
	}
	return nil
}

// addCategories indexes the post's text categories.
func (db *DB) addCategories(ctx context.Context, tx *sql.Tx, id int64, props micropubd.Properties) error {
	for _, v := range props["category"] {
		c, ok := v.(string)
		if !ok || strings.TrimSpace(c) == "" {
			continue // person tags (nested h-cards) are not categories to list
		}
		if _, err := db.txExec(ctx, tx, insertCategory, id, c); err != nil {
			return fmt.Errorf("insert category: %w", err)
		}
	}
	return nil
}

func encodePost(p *micropubd.Post) (props, synd []byte, err error) {
	if props, err = json.Marshal(p.Properties); err != nil {
		return nil, nil, fmt.Errorf("encode properties: %w", err)
	}
	if p.SyndicateTo == nil {
		synd = []byte("[]")
	} else if synd, err = json.Marshal(p.SyndicateTo); err != nil {
		return nil, nil, fmt.Errorf("encode syndication targets: %w", err)
	}
	return props, synd, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanPost(row scanner) (*micropubd.Post, error) {
	var (
		p                micropubd.Post
		props, synd      []byte
		published        int64
		updated, deleted sql.NullInt64
	)
	err := row.Scan(&p.ID, &p.Path, &p.Type, &p.PostType, &p.Status, &p.Visibility, &props, &synd,
		&published, &updated, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, micropubd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read post: %w", err)
	}
	if p.Properties, err = micropubd.DecodeProperties(props); err != nil {
		return nil, fmt.Errorf("post %d: %w", p.ID, err)
	}
	if err := json.Unmarshal(synd, &p.SyndicateTo); err != nil {
		return nil, fmt.Errorf("post %d syndication targets: %w", p.ID, err)
	}
	p.Published = fromNanos(sql.NullInt64{Int64: published, Valid: true})
	p.Updated = fromNanos(updated)
	p.Deleted = fromNanos(deleted)
	return &p, nil
}
