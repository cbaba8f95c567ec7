package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// CreateTemp opens a new file in the data folder's tmp directory, on the same file system as
// the media folder, so that saving it is an atomic rename.
func (db *DB) CreateTemp() (*os.File, error) {
	f, err := os.CreateTemp(filepath.Join(db.dir, "tmp"), "upload-*")
	if err != nil {
		return nil, fmt.Errorf("create temp file: %w", noSpace(err))
	}
	return f, nil
}

// SaveMedia moves the file at tmpPath (written and fsynced by the caller) into the media
// folder as m.Name and records it. If a file with that name exists already (the same bytes
// were uploaded before), the temp file is removed and the existing record returned. The file
// is moved into place and the folder fsynced before the row is written, outside the write
// transaction (so the fsync holds up no other write); a crash, or a failure, between the two
// leaves a file without a row, which is removed here or by SweepFiles at the next start.
func (db *DB) SaveMedia(ctx context.Context, m *micropubd.Media, tmpPath string) (*micropubd.Media, error) {
	defer os.Remove(tmpPath) // a no-op once renamed
	if !validMediaName(m.Name) {
		return nil, fmt.Errorf("media name %q is not a plain file name", m.Name)
	}
	if existing, err := db.MediaByName(ctx, m.Name); err == nil {
		// The same bytes were stored before, perhaps by a commit not yet flushed: answer once
		// an (empty) write of our own is on disk, as every write is answered.
		if err := db.inTx(ctx, func(*txConn) error { return nil }); err != nil {
			return nil, err
		}
		return existing, nil
	}
	final := db.mediaPath(m.Name)
	if err := os.Rename(tmpPath, final); err != nil {
		return nil, fmt.Errorf("move upload into place: %w", noSpace(err))
	}
	var saved *micropubd.Media
	err := syncDir(filepath.Dir(final))
	if err == nil {
		err = db.inTx(ctx, func(tx *txConn) error {
			existing, err := scanMedia(tx.QueryRowContext(ctx, `SELECT `+mediaColumns+` FROM media WHERE name = ?`, m.Name))
			if err == nil {
				saved = existing // the same bytes, uploaded at the same moment
				return nil
			}
			if !errors.Is(err, micropubd.ErrNotFound) {
				return err
			}
			if _, err := os.Stat(final); err != nil {
				return fmt.Errorf("the upload was removed before it was recorded: %w", err)
			}
			created := m.Created
			if created.IsZero() {
				created = time.Now()
			}
			var variantOf any
			if m.VariantOf != 0 {
				variantOf = m.VariantOf
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO media (name, mime_type, size, width, height, alt, created_at, variant_of)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.Name, m.MIMEType, m.Size, m.Width, m.Height, m.Alt, created.UnixNano(), variantOf)
			if err != nil {
				return fmt.Errorf("insert media: %w", err)
			}
			cp := *m
			cp.ID, _ = res.LastInsertId()
			cp.Created = created.UTC()
			saved = &cp
			return nil
		})
	}
	if err != nil {
		if _, statErr := db.MediaByName(ctx, m.Name); errors.Is(statErr, micropubd.ErrNotFound) {
			os.Remove(final)
		}
		return nil, err
	}
	return saved, nil
}

const mediaColumns = `id, name, mime_type, size, width, height, alt, created_at, coalesce(variant_of, 0)`

// MediaByName returns the record of the file name.
func (db *DB) MediaByName(ctx context.Context, name string) (*micropubd.Media, error) {
	row, err := db.queryRow(ctx, `SELECT `+mediaColumns+` FROM media WHERE name = ?`, name)
	if err != nil {
		return nil, err
	}
	return scanMedia(row)
}

// OpenMedia opens the stored file name for reading.
func (db *DB) OpenMedia(name string) (*os.File, error) {
	if !validMediaName(name) {
		return nil, micropubd.ErrNotFound
	}
	f, err := os.Open(db.mediaPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, micropubd.ErrNotFound
	}
	return f, err
}

func (db *DB) mediaPath(name string) string { return filepath.Join(db.dir, "media", name) }

// validMediaName accepts only the names the server makes (hex hash and extension), so no
// name can reach outside the media folder.
func validMediaName(name string) bool {
	if name == "" || len(name) > 100 || strings.Count(name, ".") > 1 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	return !strings.HasPrefix(name, ".")
}

func scanMedia(row scanner) (*micropubd.Media, error) {
	var m micropubd.Media
	var created int64
	err := row.Scan(&m.ID, &m.Name, &m.MIMEType, &m.Size, &m.Width, &m.Height, &m.Alt, &created, &m.VariantOf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, micropubd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read media: %w", err)
	}
	m.Created = time.Unix(0, created).UTC()
	return &m, nil
}

// SweepFiles removes what a crash can leave behind: partial uploads in tmp, and files in the
// media folder without a row. Only the server calls it, at start, before it takes uploads.
func (db *DB) SweepFiles(ctx context.Context) error {
	tmp := filepath.Join(db.dir, "tmp")
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("read tmp folder: %w", err)
	}
	for _, e := range entries {
		// A file moved aside by a deletion that did not commit goes back, if its row is there.
		if name, ok := strings.CutPrefix(e.Name(), deletedPrefix); ok && validMediaName(name) {
			if _, err := db.MediaByName(ctx, name); err == nil {
				os.Rename(filepath.Join(tmp, e.Name()), db.mediaPath(name))
				continue
			}
		}
		os.RemoveAll(filepath.Join(tmp, e.Name()))
	}
	entries, err = os.ReadDir(filepath.Join(db.dir, "media"))
	if err != nil {
		return fmt.Errorf("read media folder: %w", err)
	}
	for _, e := range entries {
		if _, err := db.MediaByName(ctx, e.Name()); errors.Is(err, micropubd.ErrNotFound) {
			os.Remove(db.mediaPath(e.Name()))
		}
	}
	return nil
}

// MediaVariants returns the resized copies of an upload, narrowest first.
func (db *DB) MediaVariants(ctx context.Context, id int64) ([]*micropubd.Media, error) {
	out, err := queryAll(ctx, db.read, scanMedia, `SELECT `+mediaColumns+` FROM media WHERE variant_of = ? ORDER BY width`, id)
	if err != nil {
		return nil, fmt.Errorf("list resized copies: %w", err)
	}
	return out, nil
}

// ListMedia returns uploads newest first (not their resized copies).
func (db *DB) ListMedia(ctx context.Context, limit, offset int) ([]*micropubd.Media, error) {
	if limit <= 0 {
		limit = -1
	}
	out, err := queryAll(ctx, db.read, scanMedia, `SELECT `+mediaColumns+` FROM media WHERE variant_of IS NULL
		ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("list media: %w", err)
	}
	return out, nil
}

// SetMediaAlt records the alt text of an upload.
func (db *DB) SetMediaAlt(ctx context.Context, name, alt string) error {
	if _, err := db.exec(ctx, `UPDATE media SET alt = ? WHERE name = ?`, alt, name); err != nil {
		return fmt.Errorf("set media alt: %w", err)
	}
	return nil
}

// DeleteUnusedMedia removes the record and the file of an upload together, with its resized
// copies, unless a post (deleted ones included: they may come back) mentions url, checked in
// the same transaction so no create can slip in between. The files are first moved aside, so
// that if the records cannot be deleted they are put back; once the deletion is committed they
// are removed.
func (db *DB) DeleteUnusedMedia(ctx context.Context, name, url string) ([]string, error) {
	if !validMediaName(name) {
		return nil, micropubd.ErrNotFound
	}
	var usedBy, files []string
	aside := func(n string) string { return filepath.Join(db.dir, "tmp", deletedPrefix+n) }
	err := db.inTx(ctx, func(tx *txConn) error {
		var err error
		if usedBy, err = queryStrings(ctx, tx, `SELECT path FROM posts WHERE instr(properties, ?) > 0 ORDER BY id`, url); err != nil {
			return fmt.Errorf("find posts using %s: %w", url, err)
		}
		if len(usedBy) > 0 {
			return nil
		}
		variants, err := queryStrings(ctx, tx, `SELECT name FROM media WHERE variant_of = (SELECT id FROM media WHERE name = ?)`, name)
		if err != nil {
			return fmt.Errorf("find resized copies: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM media WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete media: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return micropubd.ErrNotFound
		}
		for _, n := range append([]string{name}, variants...) {
			if err := os.Rename(db.mediaPath(n), aside(n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("move media file aside: %w", err)
			}
			files = append(files, n)
		}
		return nil
	})
	for _, n := range files {
		if err != nil {
			os.Rename(aside(n), db.mediaPath(n))
		} else {
			os.Remove(aside(n))
		}
	}
	if err != nil {
		return nil, err
	}
	return usedBy, nil
}

// MediaUsage returns, for each of the named uploads, the paths of the posts that use it, in one
// pass over the posts (the owner's media library shows it for a page of uploads).
func (db *DB) MediaUsage(ctx context.Context, names []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(names) == 0 {
		return out, nil
	}
	var conds []string
	args := []any{}
	for _, n := range names {
		conds = append(conds, "instr(p.properties, ?) > 0")
		args = append(args, n)
	}
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT p.path, p.properties FROM posts p
		WHERE p.properties <> '{}' AND (`+strings.Join(conds, " OR ")+`) ORDER BY p.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("find posts using uploads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var path, props string
		if err := rows.Scan(&path, &props); err != nil {
			return nil, err
		}
		for _, n := range names {
			if strings.Contains(props, n) {
				out[n] = append(out[n], path)
			}
		}
	}
	return out, rows.Err()
}

// queryStrings returns the one text column of a query's rows.
func queryStrings(ctx context.Context, tx querier, query string, args ...any) ([]string, error) {
	return queryAll(ctx, tx, func(row scanner) (string, error) {
		var s string
		return s, row.Scan(&s)
	}, query, args...)
}

// deletedPrefix marks a media file moved aside while its record is deleted.
const deletedPrefix = "deleted-"

// MediaVariantsOf returns the resized copies of several uploads, by upload id, narrowest first:
// one query for a page's photos.
func (db *DB) MediaVariantsOf(ctx context.Context, ids []int64) (map[int64][]*micropubd.Media, error) {
	out := map[int64][]*micropubd.Media{}
	if len(ids) == 0 {
		return out, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	all, err := queryAll(ctx, db.reader(ctx), scanMedia, `SELECT `+mediaColumns+` FROM media
		WHERE variant_of IN (SELECT value FROM json_each(?)) ORDER BY variant_of, width`, string(list))
	if err != nil {
		return nil, fmt.Errorf("list resized copies: %w", err)
	}
	for _, m := range all {
		out[m.VariantOf] = append(out[m.VariantOf], m)
	}
	return out, nil
}

// MediaByNames returns the records of the file names, by name, in one query; names without a
// record are left out.
func (db *DB) MediaByNames(ctx context.Context, names []string) (map[string]*micropubd.Media, error) {
	list, err := json.Marshal(uniqueStrings(names))
	if err != nil {
		return nil, err
	}
	all, err := queryAll(ctx, cachedReads{db}, scanMedia, `SELECT `+mediaColumns+` FROM media WHERE name IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("find media: %w", err)
	}
	out := make(map[string]*micropubd.Media, len(all))
	for _, m := range all {
		out[m.Name] = m
	}
	return out, nil
}
