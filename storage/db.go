// Package storage keeps posts, tokens and media in SQLite (github.com/mattn/go-sqlite3) and
// uploaded files on disk. It knows SQL and files, not HTTP.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/micropubd/micropubd"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite database under a data folder, with the media files beside it.
//
// Writes go through one connection, so writers queue in Go instead of failing with
// "database is locked"; reads use a pool that WAL lets run beside the writer.
type DB struct {
	write *sql.DB
	read  *sql.DB
	dir   string
	// reads and writes cache prepared statements of the hot paths: SQLite spends more time
	// preparing these statements than running them.
	reads  sync.Map // query -> *sql.Stmt on the read pool
	writes map[string]*sql.Stmt
}

// hotWrites are prepared at Open, while the one write connection is free: preparing later, in
// a transaction that holds it, would wait for it for ever.
var hotWrites = []string{insertPost, insertPath, insertCategory}

// querier runs reads: the pool's connections, or inside InTx its transaction, which sees
// what the transaction wrote.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) reader(ctx context.Context) querier {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.read
}

// queryRow runs a read through a cached prepared statement (inside InTx, through its transaction).
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx.QueryRowContext(ctx, query, args...), nil
	}
	if s, ok := db.reads.Load(query); ok {
		return s.(*sql.Stmt).QueryRowContext(ctx, args...), nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := db.reads.LoadOrStore(query, s); loaded {
		s.Close()
		s = prev.(*sql.Stmt)
	}
	return s.QueryRowContext(ctx, args...), nil
}

// txExec runs a write inside tx, through its statement prepared at Open if it is a hot one.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s, ok := db.writes[query]; ok {
		return tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// Open opens (creating if needed) the database in dir and applies pending migrations.
func Open(ctx context.Context, dir string) (*DB, error) {
	for _, d := range []string{dir, filepath.Join(dir, "media"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
	}
	path := filepath.Join(dir, DBFile)
	params := url.Values{
		"_journal_mode": {"WAL"},
		"_busy_timeout": {"10000"},
		"_foreign_keys": {"on"},
		"_synchronous":  {"NORMAL"},
	}
	// secure_delete: what is deleted or overwritten (an unshared note's plain text, a deleted
	// draft) is zeroed in the file, not left in free pages.
	writeParams := url.Values{"_txlock": {"immediate"}, "_secure_delete": {"on"}}
	for k, v := range params {
		writeParams[k] = v
	}
	write, err := sql.Open("sqlite3", "file:"+path+"?"+writeParams.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)

	params.Set("_query_only", "true")
	read, err := sql.Open("sqlite3", "file:"+path+"?"+params.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()*2))

	db := &DB{write: write, read: read, dir: dir}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.writes = map[string]*sql.Stmt{}
	for _, q := range hotWrites {
		s, err := write.PrepareContext(ctx, q)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		db.writes[q] = s
	}

	return db, nil
}

// DBFile is the name of the database file in the data folder.
const DBFile = "micropubd.db"

// OpenExisting opens the database in dir as Open does, but refuses a folder that has none: the
// commands other than serve must not create an empty database, whose tokens no server reads,
// because of a mistyped --data.
func OpenExisting(ctx context.Context, dir string) (*DB, error) {
	path := filepath.Join(dir, DBFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("there is no database at %s: check --data (or MICROPUBD_DATA), or start the server once with \"micropubd serve --data %s --url YOUR-URL\", which creates it", path, dir)
	} else if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return Open(ctx, dir)
}

// Dir returns the data folder.
func (db *DB) Dir() string { return db.dir }

// Close closes the database; WAL content is checkpointed by SQLite as the last connection closes.
func (db *DB) Close() error {
	db.reads.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	for _, s := range db.writes {
		s.Close()
	}
	return errors.Join(db.read.Close(), db.write.Close())
}

// migrate applies the embedded migrations that the database has not seen, each in its own
// transaction, in the order of their numeric prefix.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	type migration struct {
		version int
		name    string
	}
	var list []migration
	for _, name := range names {
		base := filepath.Base(name)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s has no numeric prefix", base)
		}
		list = append(list, migration{n, name})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })

	for _, m := range list {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			body, err := migrations.ReadFile(m.name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
	}
	return nil
}

// txKey carries the write transaction of InTx in a context.
type txKey struct{}

// InTx runs fn in one write transaction, committed if fn returns nil and rolled back
// otherwise. The storage methods of posts and notes called with the context fn is given take
// part in that transaction, so that, say, publishing a note and saving it happen together or
// not at all. Only those methods may be called inside fn: the one write connection is held.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return fn(context.WithValue(ctx, txKey{}, tx)) })
}

// inTx runs fn in a write transaction, committing if it returns nil. Inside InTx it joins
// the transaction there, under a savepoint, so that a failed call takes back its own writes
// even when the caller goes on.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT joined`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if err := fn(tx); err != nil {
			tx.ExecContext(ctx, `ROLLBACK TO joined`)
			tx.ExecContext(ctx, `RELEASE joined`)
			return err
		}
		if _, err := tx.ExecContext(ctx, `RELEASE joined`); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// exec runs one write statement: inside InTx in its transaction (the write connection is
// held there), else on the write connection.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx.ExecContext(ctx, query, args...)
	}
	return db.write.ExecContext(ctx, query, args...)
}

// checkpointWait is how long a checkpoint waits for readers: it holds the write connection,
// so every writer waits that long too.
const checkpointWait = 250 * time.Millisecond

// Checkpoint copies the write-ahead log into the database file and empties it, so that what
// was overwritten or deleted (zeroed in the file by secure_delete) is not left in the log. It
// waits for readers only briefly; if they still hold old pages the error is ErrBusy, and the
// caller tries again later (micropubd.ErrBusy).
func (db *DB) Checkpoint(ctx context.Context) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, checkpointWait.Milliseconds())); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = 10000`)
	var busy, logPages, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint: readers kept %d of %d log pages: %w", logPages-done, logPages, micropubd.ErrBusy)
	}
	return nil
}

// queryAll runs a read and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique ||
		errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

// nanos and fromNanos store times as Unix nanoseconds; a zero time is NULL.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}
