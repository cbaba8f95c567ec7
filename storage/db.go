// Package storage keeps posts, tokens and media in SQLite (github.com/mattn/go-sqlite3) and
// uploaded files on disk. It knows SQL and files, not HTTP.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/micropubd/micropubd"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite database under a data folder, with the media files beside it.
//
// Writes go through one connection, driven by one goroutine that commits the writes waiting
// for it together (group commit, see commit.go), so writers queue in Go instead of failing
// with "database is locked" and one fsync acknowledges many of them; reads use a pool that
// WAL lets run beside the writer.
type DB struct {
	write *sql.DB
	read  *sql.DB
	// checkpoints is the connection the committer's checkpoints run on (see commit.go).
	checkpoints *sql.DB
	dir         string
	// reads and writes cache prepared statements of the hot paths: SQLite spends more time
	// preparing these statements than running them.
	reads  sync.Map // query -> *sql.Stmt on the read pool
	writes map[string]*sql.Stmt
	// commits is the group committer's queue; nil until Open starts it.
	commits *committer
	tokens  *tokenCache
	// generation counts the committed write transactions, for caches of what they change.
	generation atomic.Uint64
}

// Generation counts the write transactions committed since Open: what was read when it had
// a value is current until it moves.
func (db *DB) Generation() uint64 { return db.generation.Load() }

// hotWrites are prepared at Open, while the one write connection is free: preparing later, in
// a transaction that holds it, would wait for it for ever.
var hotWrites = append([]string{insertPost, insertPath, savepointJob, releaseJob, rollbackJob,
	savepointJoined, releaseJoined, rollbackJoined, hasSends, queueSendsAgain, queueSendsTarget},
	categoryStatements()...)

// querier runs reads: the pool's connections, or inside InTx its transaction, which sees
// what the transaction wrote.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) reader(ctx context.Context) querier {
	if st := txOf(ctx); st != nil {
		return st.tx
	}
	return db.read
}

// readStmt returns the read pool's prepared statement of query, preparing it once.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.reads.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := db.reads.LoadOrStore(query, s); loaded {
		s.Close()
		s = prev.(*sql.Stmt)
	}
	return s, nil
}

// queryRow runs a read through a cached prepared statement (inside InTx, through its transaction,
// and its statement prepared at Open if it is a hot one).
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	if st := txOf(ctx); st != nil {
		if s, ok := db.writes[query]; ok {
			return st.tx.StmtContext(ctx, s).QueryRowContext(uncancelled(ctx), args...), nil
		}
		return st.tx.QueryRowContext(ctx, query, args...), nil
	}
	s, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryRowContext(ctx, args...), nil
}

// query runs a read of many rows through a cached prepared statement (inside InTx, through
// its transaction).
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := txOf(ctx); st != nil {
		return st.tx.QueryContext(ctx, query, args...)
	}
	s, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// txExec runs a write inside tx, through its statement prepared at Open if it is a hot one.
func (db *DB) txExec(ctx context.Context, tx *txConn, query string, args ...any) (sql.Result, error) {
	if s, ok := db.writes[query]; ok {
		return tx.StmtContext(ctx, s).ExecContext(uncancelled(ctx), args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// Page cache per connection, in KiB: the writer touches the newest pages of every index, the
// readers mostly the newest posts; the OS caches the rest of the file for all of them.
const (
	writeCacheKiB = 16 << 10
	readCacheKiB  = 8 << 10
	// walLimit is the size the write-ahead log is cut back to after a checkpoint and at close:
	// space it keeps between checkpoints, so that commits need not grow it each time.
	walLimit = 16 << 20
	// fcntlPersistWAL is SQLITE_FCNTL_PERSIST_WAL.
	fcntlPersistWAL = 10
)

// fileURI is path as SQLite's URI filename: the characters URIs give a meaning to are
// escaped, so that a folder named "50% off" or "a#b" is opened as named.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// connector opens connections of one DSN through the driver, with hook run on each: a
// connector instead of a registered driver name, so that nothing is global.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

func newConnector(dsn string, cacheKiB int, pragmas ...string) connector {
	return connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// The log and its index (-wal, -shm) stay when the last connection closes, emptied:
		// a server restarted on a full disk can then open the database and serve reads
		// without allocating the 32 KB index again.
		if err := c.SetFileControlInt("main", fcntlPersistWAL, 1); err != nil {
			return fmt.Errorf("persist the write-ahead log: %w", err)
		}
		_, err := c.Exec(fmt.Sprintf(`PRAGMA cache_size = -%d; PRAGMA journal_size_limit = %d; `, cacheKiB, walLimit)+
			strings.Join(pragmas, "; "), nil)
		return err
	}}}
}

// Open opens (creating if needed) the database in dir and applies pending migrations.
func Open(ctx context.Context, dir string) (*DB, error) {
	for _, d := range []string{dir, filepath.Join(dir, "media"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", noSpace(err))
		}
	}
	path := filepath.Join(dir, DBFile)
	params := url.Values{
		"_journal_mode": {"WAL"},
		"_busy_timeout": {"10000"},
		"_foreign_keys": {"on"},
		"_synchronous":  {"NORMAL"},
		// database/sql holds a connection's lock around every call into the driver, so
		// SQLite's own lock around every call on it (taken and released dozens of times a
		// create) guards nothing: multi-thread mode, not serialized. (What still reaches a
		// connection from elsewhere: sqlite3_interrupt on a cancelled query, which takes no
		// lock, and the driver's finalizer of a leaked statement, which nothing here leaks.)
		"_mutex": {"no"},
	}
	// Durability: the write connection runs with synchronous=NORMAL, and the committer fsyncs
	// the write-ahead log itself after each commit, before it answers the writes the commit
	// held (see commit.go): what synchronous=FULL would do, but outside the write lock, so the
	// next batch is written while this one is flushed.
	// secure_delete: what is deleted or overwritten (an unshared note's plain text, a deleted
	// draft) is zeroed in the file, not left in free pages.
	writeParams := url.Values{"_txlock": {"immediate"}, "_secure_delete": {"on"}}
	for k, v := range params {
		writeParams[k] = v
	}
	// The writer does not checkpoint as it commits (a checkpoint in a commit holds up every
	// write waiting): the checkpointer does, on a connection of its own, beside the writer,
	// and the committer copies only the few frames it left (see checkpoints in commit.go).
	// temp_store=MEMORY keeps each job's savepoint journal (the pages it changes, copied before
	// it changes them) in memory rather than in a temporary file: a third of a create's time.
	write := sql.OpenDB(newConnector(fileURI(path)+"?"+writeParams.Encode(), writeCacheKiB,
		"PRAGMA wal_autocheckpoint = 0", "PRAGMA temp_store = MEMORY"))
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	checkpoints := sql.OpenDB(newConnector(fileURI(path)+"?"+params.Encode(), 1024))
	checkpoints.SetMaxOpenConns(1)

	params.Set("_query_only", "true")
	read := sql.OpenDB(newConnector(fileURI(path)+"?"+params.Encode(), readCacheKiB))
	read.SetMaxOpenConns(max(4, runtime.NumCPU()*2))

	db := &DB{write: write, read: read, checkpoints: checkpoints, dir: dir, tokens: newTokenCache()}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, noSpace(err)
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
	db.commits = startCommitter(db)
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

// Close stops the committer (writes already queued are committed first) and closes the
// database; WAL content is checkpointed by SQLite as the last connection closes.
func (db *DB) Close() error {
	if db.commits != nil {
		db.commits.stop()
	}
	db.reads.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	for _, s := range db.writes {
		s.Close()
	}
	return errors.Join(db.read.Close(), db.checkpoints.Close(), db.write.Close())
}

// migrate applies the embedded migrations that the database has not seen, each in its own
// transaction, in the order of their numeric prefix. A database that is up to date is only
// read, so that the server starts on a full disk.
func (db *DB) migrate(ctx context.Context) error {
	var exists int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists); err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	if exists == 0 {
		if _, err := db.write.ExecContext(ctx, `CREATE TABLE schema_migrations (
			version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
	}
	applied := map[int]bool{}
	rows, err := db.write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
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
		if applied[m.version] {
			continue
		}
		body, err := migrations.ReadFile(m.name)
		if err != nil {
			return err
		}
		if err := db.applyMigration(ctx, m.version, string(body)); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
	}
	return nil
}

// foreignKeysOff marks a migration that rebuilds a table others refer to. Dropping the old
// table with foreign keys on would delete its rows first, and with them, through ON DELETE
// CASCADE, the rows that refer to them; the pragma is a no-op inside a transaction, so it is
// set around it, and the references are checked before the migration commits.
const foreignKeysOff = "-- foreign_keys: off"

func (db *DB) applyMigration(ctx context.Context, version int, body string) error {
	// One connection for the pragmas and the transaction, so that they apply to it.
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rebuild := strings.HasPrefix(strings.TrimSpace(body), foreignKeysOff)
	if rebuild {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return err
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	err = migrateIn(ctx, tx, version, body, rebuild)
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	if rebuild {
		// A write connection left without foreign keys would go on without them for good.
		if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); onErr != nil {
			return errors.Join(err, fmt.Errorf("turn foreign keys back on: %w", onErr))
		}
	}
	return err
}

func migrateIn(ctx context.Context, tx *sql.Tx, version int, body string, rebuild bool) error {
	if rebuild {
		var on bool
		if err := tx.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on); err != nil || on {
			return errors.Join(err, errors.New("foreign keys are still on: the rebuild would cascade"))
		}
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if rebuild {
		rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			return err
		}
		broken := rows.Next()
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if broken {
			return errors.New("it would leave references to rows that do not exist")
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().Unix())
	return err
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
		return fmt.Errorf("checkpoint: %w", noSpace(err))
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint: readers kept %d of %d log pages: %w", logPages-done, logPages, micropubd.ErrBusy)
	}
	return nil
}

// rowsQuerier runs reads of many rows: a querier, or cachedReads.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// cachedReads runs reads through db.query: its cached prepared statements, or inside InTx its
// transaction.
type cachedReads struct{ db *DB }

func (c cachedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.db.query(ctx, query, args...)
}

// queryAll runs a read and scans every row with scan.
func queryAll[T any](ctx context.Context, q rowsQuerier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
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

// noSpace marks err with micropubd.ErrNoSpace when it says the disk or the quota is full,
// whether SQLite or the file system says so.
func noSpace(err error) error {
	if err == nil || errors.Is(err, micropubd.ErrNoSpace) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrFull || se.SystemErrno == syscall.ENOSPC || se.SystemErrno == syscall.EDQUOT) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", micropubd.ErrNoSpace, err)
	}
	return err
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
