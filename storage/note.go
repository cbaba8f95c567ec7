package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
)

// The post of a shared note is read with it: its path makes the shared URL and its content
// the published HTML.
const noteColumns = `n.id, n.notebook_id, n.title, n.text, n.is_encrypted, coalesce(n.post_id, 0), n.position,
	n.book_isbn, n.book_title, coalesce(n.attached_post_id, 0), n.created_at, n.modified_at,
	coalesce(p.path, ''), coalesce(json_extract(p.properties, '$.content[0].html'), '')`

const noteFrom = ` FROM notes n LEFT JOIN posts p ON p.id = n.post_id`

// CreateNote stores n and sets n.ID.
func (db *DB) CreateNote(ctx context.Context, n *micropubd.Note) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notes (notebook_id, title, text, is_encrypted, post_id,
			position, book_isbn, book_title, attached_post_id, created_at, modified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			n.NotebookID, n.Title, n.Text, n.Encrypted, nullID(n.PostID), n.Position, n.BookISBN, n.BookTitle,
			nullID(n.AttachedPostID), n.Created.UnixNano(), n.Modified.UnixNano())
		if err != nil {
			return fmt.Errorf("insert note: %w", err)
		}
		n.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateNote saves every field of n.
func (db *DB) UpdateNote(ctx context.Context, n *micropubd.Note) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `UPDATE notes SET notebook_id = ?, title = ?, text = ?, is_encrypted = ?,
			post_id = ?, position = ?, book_isbn = ?, book_title = ?, attached_post_id = ?, modified_at = ?
			WHERE id = ?`,
			n.NotebookID, n.Title, n.Text, n.Encrypted, nullID(n.PostID), n.Position, n.BookISBN, n.BookTitle,
			nullID(n.AttachedPostID), n.Modified.UnixNano(), n.ID)
		if err != nil {
			return fmt.Errorf("update note: %w", err)
		}
		if changed, _ := res.RowsAffected(); changed == 0 {
			return micropubd.ErrNotFound
		}
		return nil
	})
}

// Note returns the note id.
func (db *DB) Note(ctx context.Context, id int64) (*micropubd.Note, error) {
	return scanNote(db.reader(ctx).QueryRowContext(ctx, `SELECT `+noteColumns+noteFrom+` WHERE n.id = ?`, id))
}

// Notes returns the notes the filter selects, in its order.
func (db *DB) Notes(ctx context.Context, f micropubd.NoteFilter) ([]*micropubd.Note, error) {
	var (
		where []string
		args  []any
	)
	if f.NotebookID != 0 {
		where = append(where, "n.notebook_id = ?")
		args = append(args, f.NotebookID)
	}
	if len(f.IDs) > 0 {
		where = append(where, "n.id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.IDs)), ",")+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if f.SharedOnly {
		where = append(where, "n.post_id IS NOT NULL")
	}
	for _, c := range []struct {
		cond string
		t    time.Time
	}{
		{"n.modified_at > ?", f.ModifiedAfter}, {"n.modified_at < ?", f.ModifiedBefore},
		{"n.created_at > ?", f.CreatedAfter}, {"n.created_at < ?", f.CreatedBefore},
	} {
		if !c.t.IsZero() {
			where = append(where, c.cond)
			args = append(args, c.t.UnixNano())
		}
	}
	order := "n.modified_at DESC, n.id DESC"
	switch f.Sort {
	case micropubd.NoteSortCreated:
		order = "n.created_at DESC, n.id DESC"
	case micropubd.NoteSortPosition:
		order = "n.position, n.id"
	}
	query := `SELECT ` + noteColumns + noteFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	query += ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	out, err := queryAll(ctx, db.reader(ctx), scanNote, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return out, nil
}

// NoteOrder returns the ids of a notebook's notes in their hand-set order.
func (db *DB) NoteOrder(ctx context.Context, notebookID int64) ([]int64, error) {
	ids, err := queryAll(ctx, db.reader(ctx), func(row scanner) (id int64, err error) { return id, row.Scan(&id) },
		`SELECT id FROM notes WHERE notebook_id = ? ORDER BY position, id`, notebookID)
	if err != nil {
		return nil, fmt.Errorf("list note order: %w", err)
	}
	return ids, nil
}

// DeleteNote deletes the note and its versions.
func (db *DB) DeleteNote(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM notes WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete note: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return micropubd.ErrNotFound
		}
		return nil
	})
}

// SetNotePositions gives notes of one notebook new positions, all or none; a note of another
// notebook is micropubd.ErrNotFound.
func (db *DB) SetNotePositions(ctx context.Context, notebookID int64, positions map[int64]string) error {
	return db.inTx(ctx, func(tx *txConn) error {
		for id, pos := range positions {
			res, err := tx.ExecContext(ctx, `UPDATE notes SET position = ? WHERE id = ? AND notebook_id = ?`, pos, id, notebookID)
			if err != nil {
				return fmt.Errorf("move note: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("note %d in notebook %d: %w", id, notebookID, micropubd.ErrNotFound)
			}
		}
		return nil
	})
}

// AddNoteVersion keeps an earlier text of a note and sets v.ID.
func (db *DB) AddNoteVersion(ctx context.Context, v *micropubd.NoteVersion) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO note_versions (note_id, text, is_encrypted, created_at, replaced_at)
			VALUES (?, ?, ?, ?, ?)`, v.NoteID, v.Text, v.Encrypted, v.Created.UnixNano(), v.Replaced.UnixNano())
		if err != nil {
			return fmt.Errorf("insert note version: %w", err)
		}
		v.ID, err = res.LastInsertId()
		return err
	})
}

// NoteVersions returns the earlier texts of a note replaced since a time, newest first.
func (db *DB) NoteVersions(ctx context.Context, noteID int64, since time.Time) ([]*micropubd.NoteVersion, error) {
	out, err := queryAll(ctx, db.reader(ctx), scanNoteVersion, `SELECT id, note_id, text, is_encrypted, created_at, replaced_at
		FROM note_versions WHERE note_id = ? AND replaced_at >= ? ORDER BY created_at DESC, id DESC`, noteID, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list note versions: %w", err)
	}
	return out, nil
}

func scanNoteVersion(row scanner) (*micropubd.NoteVersion, error) {
	var (
		v                 micropubd.NoteVersion
		created, replaced int64
	)
	if err := row.Scan(&v.ID, &v.NoteID, &v.Text, &v.Encrypted, &created, &replaced); err != nil {
		return nil, fmt.Errorf("read note version: %w", err)
	}
	v.Created = time.Unix(0, created).UTC()
	v.Replaced = time.Unix(0, replaced).UTC()
	return &v, nil
}

// DeletePlainNoteVersions deletes the versions of a note that were saved in plain text (while
// it was shared).
func (db *DB) DeletePlainNoteVersions(ctx context.Context, noteID int64) error {
	return db.inTx(ctx, func(tx *txConn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM note_versions WHERE note_id = ? AND is_encrypted = 0`, noteID); err != nil {
			return fmt.Errorf("delete note versions: %w", err)
		}
		return nil
	})
}

// PruneNoteVersions deletes every version replaced before t.
func (db *DB) PruneNoteVersions(ctx context.Context, before time.Time) error {
	return db.inTx(ctx, func(tx *txConn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM note_versions WHERE replaced_at < ?`, before.UnixNano()); err != nil {
			return fmt.Errorf("prune note versions: %w", err)
		}
		return nil
	})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func scanNote(row scanner) (*micropubd.Note, error) {
	var (
		n                 micropubd.Note
		created, modified int64
	)
	err := row.Scan(&n.ID, &n.NotebookID, &n.Title, &n.Text, &n.Encrypted, &n.PostID, &n.Position,
		&n.BookISBN, &n.BookTitle, &n.AttachedPostID, &created, &modified, &n.SharedPath, &n.SharedHTML)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, micropubd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read note: %w", err)
	}
	n.Created = time.Unix(0, created).UTC()
	n.Modified = time.Unix(0, modified).UTC()
	return &n, nil
}
