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
)

// categoryChunk is how many categories one statement writes: a post's categories go in one
// statement for the rows and one for the counts, prepared at Open for 1 to categoryChunk of
// them; more take several.
const categoryChunk = 8

// categorySQL holds, at [n], the statements for n categories (see insertCategories and
// countCategories), built once: a create names its statements by their text, and building
// that text each time cost as much as binding the arguments.
var categorySQL = func() (stmts [categoryChunk + 1][2]string) {
	for n := 1; n <= categoryChunk; n++ {
		stmts[n][0] = `INSERT OR IGNORE INTO post_categories (category, published_at, post_id, listed) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", ")
		stmts[n][1] = `INSERT INTO categories (category, posts) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, 1), ", n), ", ") +
			` ON CONFLICT (category) DO UPDATE SET posts = posts + 1`
	}
	return stmts
}()

// insertCategories returns the statement that records n (1 to categoryChunk: callers cut
// longer lists with slices.Chunk) categories of a post: its arguments are category,
// published_at, post_id and listed (in the public feed) for each.
func insertCategories(n int) string { return categorySQL[n][0] }

// countCategories returns the statement that adds one post to the counts of n (1 to
// categoryChunk) categories.
func countCategories(n int) string { return categorySQL[n][1] }

func categoryStatements() []string {
	var out []string
	for n := 1; n <= categoryChunk; n++ {
		out = append(out, insertCategories(n), countCategories(n))
	}
	return out
}

const postColumns = `p.id, p.path, p.type, p.post_type, p.status, p.visibility, p.properties,
	p.syndicate_to, p.published_at, p.updated_at, p.deleted_at`

// categoryPostColumns are postColumns as a listing of a category reads them: the id and the
// published time from the category's key, which the listing is ordered by.
const categoryPostColumns = `c.post_id AS id, p.path, p.type, p.post_type, p.status, p.visibility, p.properties,
	p.syndicate_to, c.published_at AS published_at, p.updated_at, p.deleted_at`

// CreatePost inserts p with its categories and path in one transaction and sets p.ID.
// It returns micropubd.ErrConflict when p.Path is taken, now or in the past, by another post.
func (db *DB) CreatePost(ctx context.Context, p *micropubd.Post) error {
	props, synd, err := encodePost(p)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *txConn) error { return db.insertPost(ctx, tx, p, props, synd) })
}

// CreatePosts inserts many posts in one transaction, all or none, as CreatePost does each: the
// fast way to fill an archive (micropubd bench --prefill).
func (db *DB) CreatePosts(ctx context.Context, posts []*micropubd.Post) error {
	return db.inTx(ctx, func(tx *txConn) error {
		for _, p := range posts {
			props, synd, err := encodePost(p)
			if err != nil {
				return err
			}
			if err := db.insertPost(ctx, tx, p, props, synd); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) insertPost(ctx context.Context, tx *txConn, p *micropubd.Post, props, synd []byte) error {
	res, err := db.txExec(ctx, tx, insertPost, p.Path, p.Type, p.PostType, p.Status, p.Visibility, props, synd,
		p.Published.UnixNano(), nanos(p.Updated), nanos(p.Deleted))
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
	cats := categoriesOf(p.Properties)
	if err := db.addCategoryRows(ctx, tx, id, p.Published.UnixNano(), listed(p), cats); err != nil {
		return err
	}
	if !p.IsDeleted() {
		if err := db.countCategories(ctx, tx, cats, +1); err != nil {
			return err
		}
	}
	p.ID = id
	return nil
}

// CountPosts returns how many posts are not deleted.
func (db *DB) CountPosts(ctx context.Context) (int, error) {
	row, err := db.queryRow(ctx, `SELECT count(*) FROM posts INDEXED BY posts_live WHERE deleted_at IS NULL`)
	if err != nil {
		return 0, err
	}
	var n int
	return n, row.Scan(&n)
}

// UpdatePost loads the post at path (a current or former path), lets change modify it and saves
// the result, all in one write transaction, so concurrent updates never lose each other's changes.
// If change returns an error nothing is written.
func (db *DB) UpdatePost(ctx context.Context, path string, change func(*micropubd.Post) error) (*micropubd.Post, error) {
	var updated *micropubd.Post
	err := db.inTx(ctx, func(tx *txConn) error {
		p, err := scanPost(tx.QueryRowContext(ctx, `SELECT `+postColumns+`
			FROM post_paths pp JOIN posts p ON p.id = pp.post_id WHERE pp.path = ?`, path))
		if err != nil {
			return err
		}
		oldPath, oldPublished, oldCats, oldLive, oldListed := p.Path, p.Published.UnixNano(), categoriesOf(p.Properties), !p.IsDeleted(), listed(p)
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
		if err != nil {
			return fmt.Errorf("update post: %w", err)
		}
		if err := db.updateCategories(ctx, tx, p.ID, oldPublished, oldCats, oldLive, oldListed, p); err != nil {
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

// ListPosts returns the posts the filter selects, newest first: posts that are not deleted,
// or with f.Deleted the deleted ones (for the owner's list; erased ones are never listed).
//
// The statement is prepared once per shape of filter (its values are bound, but for status and
// visibility, whose few valid values are written into it so that the planner can use the
// partial index of the feed); pages are found by seeking the index, with a row-value
// comparison for a cursor and, for a category, the category's own newest-first key, so that a
// page deep in the archive costs what the first one does.
func (db *DB) ListPosts(ctx context.Context, f micropubd.PostFilter) ([]*micropubd.Post, error) {
	query, args, ok := listQuery(f)
	if !ok {
		return nil, nil // no post has the status or visibility asked for
	}
	posts, err := queryAll(ctx, cachedReads{db}, scanPost, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	if f.Before != nil {
		slices.Reverse(posts) // read oldest first from the cursor up
	}
	return posts, nil
}

// listQuery is the statement of ListPosts and its arguments; ok is false when the filter
// asks for a status or visibility no post can have.
func listQuery(f micropubd.PostFilter) (query string, args []any, ok bool) {
	var where []string
	columns, from, published, id := postColumns, "posts p", "p.published_at", "p.id"
	if f.Category != "" {
		// CROSS JOIN keeps post_categories outside: its key walks the category newest first.
		columns = categoryPostColumns
		from, published, id = "post_categories c CROSS JOIN posts p ON p.id = c.post_id", "c.published_at", "c.post_id"
		where = append(where, "c.category = ?")
		args = append(args, f.Category)
	}
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
		if !slices.Contains([]string{micropubd.StatusPublished, micropubd.StatusDraft}, f.Status) {
			return "", nil, false
		}
		where = append(where, "p.status = '"+f.Status+"'")
	}
	if len(f.Visibility) > 0 {
		var known []string
		for _, v := range f.Visibility {
			if slices.Contains([]string{micropubd.VisibilityPublic, micropubd.VisibilityUnlisted, micropubd.VisibilityPrivate}, v) {
				known = append(known, "'"+v+"'")
			}
		}
		switch len(known) {
		case 0:
			return "", nil, false
		case 1:
			where = append(where, "p.visibility = "+known[0])
		default:
			where = append(where, "p.visibility IN ("+strings.Join(known, ", ")+")")
		}
	}
	if f.Category == "" && f.PostType == "" && f.Type == "" && f.Status == micropubd.StatusPublished &&
		len(f.Visibility) == 1 && f.Visibility[0] == micropubd.VisibilityPublic {
		// The feed's own index holds exactly these posts: skipping a page's worth reads
		// nothing but the index. (The planner, without statistics, takes posts_live.)
		from = "posts p INDEXED BY posts_feed"
	}
	if f.PostType != "" {
		where = append(where, "p.post_type = ?")
		args = append(args, f.PostType)
	}
	if f.Type != "" {
		where = append(where, "p.type = ?")
		args = append(args, f.Type)
	}
	order := "DESC"
	if c := f.After; c != nil {
		where = append(where, "("+published+", "+id+") < (?, ?)")
		args = append(args, c.Published.UnixNano(), c.ID)
	}
	if c := f.Before; c != nil {
		// Newer than the cursor: walk upwards from it, then turn the page round below.
		where = append(where, "("+published+", "+id+") > (?, ?)")
		args = append(args, c.Published.UnixNano(), c.ID)
		order = "ASC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	query = `SELECT ` + columns + ` FROM ` + from + ` WHERE ` + strings.Join(where, " AND ")
	if f.Category != "" {
		// A category's rows are two runs of its key, listed (published, public, not deleted)
		// and not. A filter that only one run can match reads that one; otherwise both are
		// read in order and merged (the plan's MERGE (UNION ALL)), so nothing is sorted, the
		// order being that of the result's columns, which are the key's.
		switch listedRuns(f) {
		case runListed:
			query += ` AND c.listed = 1`
		case runUnlisted:
			query += ` AND c.listed = 0`
		default:
			query += ` AND c.listed = 0 UNION ALL ` + query + ` AND c.listed = 1`
			args = append(args, args...)
			published, id = "published_at", "id"
		}
	}
	query += ` ORDER BY ` + published + ` ` + order + `, ` + id + ` ` + order + ` LIMIT ? OFFSET ?`
	return query, append(args, limit, max(f.Offset, 0)), true
}

// The runs of a category's rows a listing reads.
const (
	runBoth = iota
	runListed
	runUnlisted
)

// listedRuns says which runs of a category's rows can hold posts the filter lets through: a
// row is listed when its post is published, public and not deleted.
func listedRuns(f micropubd.PostFilter) int {
	public := len(f.Visibility) == 0 || slices.Contains(f.Visibility, micropubd.VisibilityPublic)
	switch {
	case f.Deleted || f.Status == micropubd.StatusDraft || !public:
		return runUnlisted
	case f.Status == micropubd.StatusPublished && len(f.Visibility) == 1:
		return runListed // published and public only
	}
	return runBoth
}

// Categories returns the distinct categories of posts that are not deleted, most used first,
// optionally only those containing filter (case-insensitively). It reads the counts kept per
// category, not the posts.
func (db *DB) Categories(ctx context.Context, filter string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.query(ctx, `SELECT category FROM categories
		WHERE ? = '' OR instr(lower(category), lower(?)) > 0
		ORDER BY posts DESC, category LIMIT ?`, filter, filter, limit)
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
func (db *DB) addPath(ctx context.Context, tx *txConn, id int64, path string) error {
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

// categoriesOf returns the post's text categories, each once, in the order given; person
// tags (nested h-cards) are not categories to list.
func categoriesOf(props micropubd.Properties) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range props["category"] {
		c, ok := v.(string)
		if !ok || strings.TrimSpace(c) == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// listed reports whether a post's category rows are on the tag pages: in the public feed.
func listed(p *micropubd.Post) bool { return p.InFeed() && !p.IsDeleted() }

// addCategoryRows records the post's categories, keyed by its published time.
func (db *DB) addCategoryRows(ctx context.Context, tx *txConn, id, published int64, onTagPages bool, cats []string) error {
	for chunk := range slices.Chunk(cats, categoryChunk) {
		args := make([]any, 0, 4*len(chunk))
		for _, c := range chunk {
			args = append(args, c, published, id, onTagPages)
		}
		if _, err := db.txExec(ctx, tx, insertCategories(len(chunk)), args...); err != nil {
			return fmt.Errorf("insert categories: %w", err)
		}
	}
	return nil
}

// deleteCategoryRows removes categories recorded with addCategoryRows.
func (db *DB) deleteCategoryRows(ctx context.Context, tx *txConn, id, published int64, cats []string) error {
	for _, c := range cats {
		// listed IN (0, 1): the key's second column, so that both places are sought.
		if _, err := tx.ExecContext(ctx, `DELETE FROM post_categories
			WHERE category = ? AND listed IN (0, 1) AND published_at = ? AND post_id = ?`,
			c, published, id); err != nil {
			return fmt.Errorf("delete category: %w", err)
		}
	}
	return nil
}

// countCategories adds delta (+1 or -1) to the number of posts of each category; a category
// no post has any more is removed.
func (db *DB) countCategories(ctx context.Context, tx *txConn, cats []string, delta int) error {
	if delta > 0 {
		for chunk := range slices.Chunk(cats, categoryChunk) {
			args := make([]any, len(chunk))
			for i, c := range chunk {
				args[i] = c
			}
			if _, err := db.txExec(ctx, tx, countCategories(len(chunk)), args...); err != nil {
				return fmt.Errorf("count categories: %w", err)
			}
		}
		return nil
	}
	for _, c := range cats {
		if _, err := tx.ExecContext(ctx, `UPDATE categories SET posts = posts - 1 WHERE category = ?`, c); err != nil {
			return fmt.Errorf("count categories: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM categories WHERE category = ? AND posts <= 0`, c); err != nil {
			return fmt.Errorf("count categories: %w", err)
		}
	}
	return nil
}

// updateCategories brings a post's category rows and the counts from what it was (published
// at oldPublished, with oldCats, live unless deleted) to what p is now.
func (db *DB) updateCategories(ctx context.Context, tx *txConn, id, oldPublished int64, oldCats []string, oldLive, oldListed bool, p *micropubd.Post) error {
	newCats, newPublished, newListed := categoriesOf(p.Properties), p.Published.UnixNano(), listed(p)
	gone, added := minus(oldCats, newCats), minus(newCats, oldCats)
	if newPublished != oldPublished {
		gone, added = oldCats, newCats // every row is keyed by the published time
	} else if newListed != oldListed {
		// The rows kept change whether the tag pages show them.
		for _, c := range minus(newCats, added) {
			if _, err := tx.ExecContext(ctx, `UPDATE post_categories SET listed = ?
				WHERE category = ? AND listed IN (0, 1) AND published_at = ? AND post_id = ?`,
				newListed, c, newPublished, id); err != nil {
				return fmt.Errorf("list category: %w", err)
			}
		}
	}
	if err := db.deleteCategoryRows(ctx, tx, id, oldPublished, gone); err != nil {
		return err
	}
	if err := db.addCategoryRows(ctx, tx, id, newPublished, newListed, added); err != nil {
		return err
	}
	var oldCounted, newCounted []string
	if oldLive {
		oldCounted = oldCats
	}
	if !p.IsDeleted() {
		newCounted = newCats
	}
	if err := db.countCategories(ctx, tx, minus(oldCounted, newCounted), -1); err != nil {
		return err
	}
	return db.countCategories(ctx, tx, minus(newCounted, oldCounted), +1)
}

// minus returns the items of a that are not in b.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
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

// PostsByPaths returns the posts at the given paths (current or former), deleted or not, by
// path, in one query however many there are; paths without a post are left out.
func (db *DB) PostsByPaths(ctx context.Context, paths []string) (map[string]*micropubd.Post, error) {
	list, err := json.Marshal(uniqueStrings(paths))
	if err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT pp.path, `+postColumns+` FROM post_paths pp JOIN posts p ON p.id = pp.post_id
		WHERE pp.path IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("find posts: %w", err)
	}
	defer rows.Close()
	out := map[string]*micropubd.Post{}
	for rows.Next() {
		var path string
		p, err := scanPost(prefixed{rows, &path})
		if err != nil {
			return nil, err
		}
		out[path] = p
	}
	return out, rows.Err()
}

// prefixed scans one column into first before the columns scanPost reads.
type prefixed struct {
	row   scanner
	first any
}

func (p prefixed) Scan(dest ...any) error { return p.row.Scan(append([]any{p.first}, dest...)...) }

func uniqueStrings(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
