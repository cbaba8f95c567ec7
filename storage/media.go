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
			res, err := tx.ExecContext(ctx, `INSERT INTO media (name, mime_type, size, width, height, alt, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, m.Name, m.MIMEType, m.Size, m.Width, m.Height, m.Alt, created.UnixNano())
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

const mediaColumns = `id, name, mime_type, size, width, height, alt, created_at`

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
	err := row.Scan(&m.ID, &m.Name, &m.MIMEType, &m.Size, &m.Width, &m.Height, &m.Alt, &created)
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

// ListMedia returns uploads newest first.
func (db *DB) ListMedia(ctx context.Context, limit, offset int) ([]*micropubd.Media, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+mediaColumns+` FROM media
		ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("list media: %w", err)
	}
	defer rows.Close()
	var out []*micropubd.Media
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMediaAlt records the alt text of an upload.
func (db *DB) SetMediaAlt(ctx context.Context, name, alt string) error {
	if _, err := db.exec(ctx, `UPDATE media SET alt = ? WHERE name = ?`, alt, name); err != nil {
		return fmt.Errorf("set media alt: %w", err)
	}
	return nil
}

// DeleteUnusedMedia removes the record and the file of an upload together, unless a post
// (deleted ones included: they may come back) mentions url, checked in the same transaction so
// no create can slip in between. The file is first moved aside, so that if the record cannot be
// deleted it is put back; once the deletion is committed it is removed.
func (db *DB) DeleteUnusedMedia(ctx context.Context, name, url string) ([]string, error) {
	if !validMediaName(name) {
		return nil, micropubd.ErrNotFound
	}
	aside := filepath.Join(db.dir, "tmp", deletedPrefix+name)
	var usedBy []string
	err := db.inTx(ctx, func(tx *txConn) error {
		rows, err := tx.QueryContext(ctx, `SELECT path FROM posts WHERE instr(properties, ?) > 0 ORDER BY id`, url)
		if err != nil {
			return fmt.Errorf("find posts using %s: %w", url, err)
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			usedBy = append(usedBy, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(usedBy) > 0 {
			return nil
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM media WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete media: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return micropubd.ErrNotFound
		}
		if err := os.Rename(db.mediaPath(name), aside); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("move media file aside: %w", err)
		}
		return nil
	})
	if err != nil {
		if _, statErr := os.Stat(aside); statErr == nil {
			os.Rename(aside, db.mediaPath(name))
		}
		return nil, err
	}
	os.Remove(aside)
	return usedBy, nil
}

// deletedPrefix marks a media file moved aside while its record is deleted.
const deletedPrefix = "deleted-"

// MediaByNames returns the records of the file names, by name, in one query; names without a
// record are left out.
func (db *DB) MediaByNames(ctx context.Context, names []string) (map[string]*micropubd.Media, error) {
	list, err := json.Marshal(uniqueStrings(names))
	if err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, `SELECT `+mediaColumns+` FROM media WHERE name IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		return nil, fmt.Errorf("find media: %w", err)
	}
	defer rows.Close()
	out := map[string]*micropubd.Media{}
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, err
		}
		out[m.Name] = m
	}
	return out, rows.Err()
}
