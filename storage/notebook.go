package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/micropubd/micropubd"
)

const notebookColumns = `id, name, type, color_light, color_dark, position, created_at, modified_at`

// CreateNotebook stores nb and sets nb.ID.
func (db *DB) CreateNotebook(ctx context.Context, nb *micropubd.Notebook) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notebooks
			(name, type, color_light, color_dark, position, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			nb.Name, nb.Type, nb.ColorLight, nb.ColorDark, nb.Position, nb.Created.UnixNano(), nb.Modified.UnixNano())
		if err != nil {
			return fmt.Errorf("insert notebook: %w", err)
		}
		nb.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateNotebook saves nb's name, colours, position and modification time.
func (db *DB) UpdateNotebook(ctx context.Context, nb *micropubd.Notebook) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `UPDATE notebooks SET name = ?, color_light = ?, color_dark = ?,
			position = ?, modified_at = ? WHERE id = ?`,
			nb.Name, nb.ColorLight, nb.ColorDark, nb.Position, nb.Modified.UnixNano(), nb.ID)
		if err != nil {
			return fmt.Errorf("update notebook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return micropubd.ErrNotFound
		}
		return nil
	})
}

// Notebook returns the notebook id.
func (db *DB) Notebook(ctx context.Context, id int64) (*micropubd.Notebook, error) {
	return scanNotebook(db.reader(ctx).QueryRowContext(ctx, `SELECT `+notebookColumns+` FROM notebooks WHERE id = ?`, id))
}

// NotebookOfType returns the first notebook of a type, by position.
func (db *DB) NotebookOfType(ctx context.Context, typ string) (*micropubd.Notebook, error) {
	return scanNotebook(db.reader(ctx).QueryRowContext(ctx, `SELECT `+notebookColumns+` FROM notebooks
		WHERE type = ? ORDER BY position, id LIMIT 1`, typ))
}

// Notebooks returns every notebook in the owner's order.
func (db *DB) Notebooks(ctx context.Context) ([]*micropubd.Notebook, error) {
	out, err := queryAll(ctx, db.reader(ctx), scanNotebook, `SELECT `+notebookColumns+` FROM notebooks ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("list notebooks: %w", err)
	}
	return out, nil
}

// DeleteNotebook deletes the notebook with its notes and their versions. Shared notes must be
// unshared first: their posts are not touched here.
func (db *DB) DeleteNotebook(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(tx *txConn) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM notebooks WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete notebook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return micropubd.ErrNotFound
		}
		return nil
	})
}

// SetNotebookPositions gives notebooks new positions, all or none.
func (db *DB) SetNotebookPositions(ctx context.Context, positions map[int64]string) error {
	return db.inTx(ctx, func(tx *txConn) error {
		for id, pos := range positions {
			res, err := tx.ExecContext(ctx, `UPDATE notebooks SET position = ? WHERE id = ?`, pos, id)
			if err != nil {
				return fmt.Errorf("move notebook: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("notebook %d: %w", id, micropubd.ErrNotFound)
			}
		}
		return nil
	})
}

func scanNotebook(row scanner) (*micropubd.Notebook, error) {
	var (
		nb                micropubd.Notebook
		created, modified int64
	)
	err := row.Scan(&nb.ID, &nb.Name, &nb.Type, &nb.ColorLight, &nb.ColorDark, &nb.Position, &created, &modified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, micropubd.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read notebook: %w", err)
	}
	nb.Created = time.Unix(0, created).UTC()
	nb.Modified = time.Unix(0, modified).UTC()
	return &nb, nil
}
