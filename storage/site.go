package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/micropubd/micropubd"
)

// ListFeed returns the public, published posts newest first, from the feed's own index
// (posts_feed): the homepage and the feeds cost the same in any archive. With after, only
// those older than it, found by a seek in the index rather than by skipping (OFFSET).
func (db *DB) ListFeed(ctx context.Context, after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error) {
	if after != nil {
		return db.listPosts(ctx, listFeedAfter, limit, offset, after.Published.UnixNano(), after.ID)
	}
	return db.listPosts(ctx, listFeed, limit, offset)
}

const (
	listFeedFrom = `SELECT ` + postColumns + ` FROM posts p INDEXED BY posts_feed
	WHERE p.deleted_at IS NULL AND p.status = 'published' AND p.visibility = 'public'`
	listFeedOrder = ` ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?`
	listFeed      = listFeedFrom + listFeedOrder
	// A row-value comparison, which the planner turns into a seek in the index on the time
	// (the id then filters: posts sharing the cursor's exact time are stepped over).
	listFeedAfter = listFeedFrom + ` AND (p.published_at, p.id) < (?, ?)` + listFeedOrder
)

// ListTagged returns the public, published posts of a category, newest first, from the
// category's listed rows in post_categories, so a tag page costs the same in any archive;
// with after, only those older than it, as ListFeed.
func (db *DB) ListTagged(ctx context.Context, category string, after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error) {
	if after != nil {
		return db.listPosts(ctx, listTaggedAfter, limit, offset, category, after.Published.UnixNano(), after.ID)
	}
	return db.listPosts(ctx, listTagged, limit, offset, category)
}

// listPosts runs a listing query whose last two parameters are LIMIT and OFFSET.
func (db *DB) listPosts(ctx context.Context, query string, limit, offset int, args ...any) ([]*micropubd.Post, error) {
	if limit <= 0 {
		limit = -1
	}
	posts, err := queryAll(ctx, db.read, scanPost, query, append(args, limit, max(offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	return posts, nil
}

const (
	listTaggedFrom = `SELECT ` + postColumns + ` FROM post_categories c JOIN posts p ON p.id = c.post_id
	WHERE c.category = ? AND c.listed = 1`
	listTaggedOrder = ` ORDER BY c.published_at DESC, c.post_id DESC LIMIT ? OFFSET ?`
	listTagged      = listTaggedFrom + listTaggedOrder
	listTaggedAfter = listTaggedFrom + ` AND (c.published_at, c.post_id) < (?, ?)` + listTaggedOrder
)

// SiteChanged returns when a post, an upload or a setting was last written: what the site's
// pages and feeds show cannot have changed since.
func (db *DB) SiteChanged(ctx context.Context) (time.Time, error) {
	var n int64
	row, err := db.queryRow(ctx, `SELECT changed_at FROM site_changes WHERE id = 1`)
	if err != nil {
		return time.Time{}, err
	}
	if err := row.Scan(&n); err != nil {
		return time.Time{}, fmt.Errorf("read site change time: %w", err)
	}
	return time.Unix(0, n).UTC(), nil
}

// ListedPosts calls fn with the path and times of the newest public, published posts, at most limit, newest first,
// reading only their paths and times from the feed's index.
func (db *DB) ListedPosts(ctx context.Context, limit int, fn func(path string, published, updated time.Time) error) error {
	rows, err := db.read.QueryContext(ctx, listedPosts, limit)
	if err != nil {
		return fmt.Errorf("list posts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			path      string
			published int64
			updated   sql.NullInt64
		)
		if err := rows.Scan(&path, &published, &updated); err != nil {
			return fmt.Errorf("list posts: %w", err)
		}
		if err := fn(path, time.Unix(0, published).UTC(), fromNanos(updated)); err != nil {
			return err
		}
	}
	return rows.Err()
}

const listedPosts = `SELECT p.path, p.published_at, p.updated_at FROM posts p INDEXED BY posts_feed
	WHERE p.deleted_at IS NULL AND p.status = 'published' AND p.visibility = 'public'
	ORDER BY p.published_at DESC, p.id DESC LIMIT ?`
