package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/micropubd/micropubd"
)

// Export calls post for every post, deleted ones included, oldest first, with the paths it had
// before its current one, and then media for every upload: all read in one transaction, so
// they are a consistent picture of the site while the server goes on writing.
func (db *DB) Export(ctx context.Context, post func(p *micropubd.Post, formerPaths []string) error,
	media func(m *micropubd.Media) error) error {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)

	former := map[int64][]string{}
	rows, err := conn.QueryContext(ctx, `SELECT pp.post_id, pp.path FROM post_paths pp JOIN posts p ON p.id = pp.post_id
		WHERE pp.path != p.path ORDER BY pp.post_id, pp.path`)
	if err != nil {
		return fmt.Errorf("export paths: %w", err)
	}
	for rows.Next() {
		var id int64
		var path string
		if err := rows.Scan(&id, &path); err != nil {
			rows.Close()
			return err
		}
		former[id] = append(former[id], path)
	}
	rows.Close()
	if err := eachRow(ctx, conn, `SELECT `+postColumns+` FROM posts p ORDER BY p.id`, func(rows *sql.Rows) error {
		p, err := scanPost(rows)
		if err != nil {
			return err
		}
		return post(p, former[p.ID])
	}); err != nil {
		return err
	}
	return eachRow(ctx, conn, `SELECT `+mediaColumns+` FROM media ORDER BY id`, func(rows *sql.Rows) error {
		m, err := scanMedia(rows)
		if err != nil {
			return err
		}
		return media(m)
	})
}

func eachRow(ctx context.Context, conn *sql.Conn, query string, fn func(*sql.Rows) error) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ImportPost stores p at p.Path, with the former paths that redirect to it, as it was on
// another server: its times and deletion as they are.
func (db *DB) ImportPost(ctx context.Context, p *micropubd.Post, formerPaths []string) error {
	return db.inTxState(ctx, func(st *txState) error {
		if err := db.CreatePost(context.WithValue(ctx, txKey{}, st), p); err != nil {
			return err
		}
		for _, path := range formerPaths {
			if err := db.addPath(ctx, st.tx, p.ID, path); err != nil {
				return err
			}
		}
		return nil
	})
}

// HasContent reports whether the site has any post or upload: import fills empty sites only.
func (db *DB) HasContent(ctx context.Context) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM posts LIMIT 1)) +
		(SELECT count(*) FROM (SELECT 1 FROM media LIMIT 1))`).Scan(&n)
	return n > 0, err
}
