package storage

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Group commit. Every write transaction is a job for one goroutine, the committer, which owns
// the write connection. It opens a transaction and runs each job waiting under a savepoint of
// its own; a job that fails is rolled back to its savepoint alone. It commits as soon as the
// previous batch is on disk, running the jobs that arrive meanwhile into the open transaction
// (up to maxBatch). A second goroutine, the syncer, fsyncs the write-ahead log after each
// commit (written with synchronous=NORMAL) and only then answers the batch's callers: an
// acknowledged write is on disk, as with synchronous=FULL, while the next batch's statements
// run during this one's fsync. Under load batches grow by themselves to what one fsync takes;
// idle, a lone write commits at once. No job ever waits for a timer.

// maxBatch bounds the jobs one transaction holds, so that a flood of writes still commits,
// and answers, in steps.
const maxBatch = 128

// The savepoint statements of a job inside a batch, and of a write joining the transaction
// it is called in (CreatePost inside the Micropub service's InTx), prepared at Open.
const (
	savepointJob    = `SAVEPOINT job`
	releaseJob      = `RELEASE job`
	rollbackJob     = `ROLLBACK TO job`
	savepointJoined = `SAVEPOINT joined`
	releaseJoined   = `RELEASE joined`
	rollbackJoined  = `ROLLBACK TO joined`
)

// errClosed answers a write sent after Close.
var errClosed = errors.New("the database is closed")

// txKey carries a write transaction's state in a context.
type txKey struct{}

// txState is a write transaction as the storage methods called inside it see it.
type txState struct {
	tx *txConn
	// after runs once the transaction has committed (not if it rolls back).
	after []func()
	// atJobSavepoint says nothing was written since the committer set the job's savepoint: a
	// storage call joining the job then needs no savepoint of its own, as rolling back to the
	// job's undoes just what it wrote. (A create through the Micropub service is such a call:
	// two statements fewer.) Set for InTx's jobs only, whose writes are all storage calls.
	atJobSavepoint bool
	// err is set when a failed call could not be rolled back: the transaction is lost, and
	// every later call fails with it.
	err error
}

// txConn is the write transaction as jobs use it. A statement is never interrupted by its
// request's context: SQLite would roll the whole transaction back, the other jobs of the
// batch with it. A job whose request has gone before it starts is skipped instead.
type txConn struct {
	tx *sql.Tx
	// stmts are the transaction's copies of the statements prepared at Open, made once per
	// transaction rather than once per use.
	stmts map[*sql.Stmt]*sql.Stmt
}

func (t *txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(uncancelled(ctx), query, args...)
}

func (t *txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(uncancelled(ctx), query, args...)
}

func (t *txConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(uncancelled(ctx), query, args...)
}

// StmtContext returns the transaction's copy of a statement prepared on the write connection.
func (t *txConn) StmtContext(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if ts, ok := t.stmts[s]; ok {
		return ts
	}
	ts := t.tx.StmtContext(uncancelled(ctx), s)
	if t.stmts == nil {
		t.stmts = map[*sql.Stmt]*sql.Stmt{}
	}
	t.stmts[s] = ts
	return ts
}

// uncancelled is ctx without its cancellation: ctx itself when it has none, as inside InTx,
// where a statement then costs no new context.
func uncancelled(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

func txOf(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{}).(*txState)
	return st
}

// job is one write transaction waiting for the committer.
type job struct {
	ctx context.Context
	fn  func(st *txState) error
	// joinable says fn is InTx's: it writes only through storage calls, which join under the
	// job's savepoint while nothing was written since (see joinTx).
	joinable bool
	after    []func()
	done     chan jobResult
}

type jobResult struct {
	err    error
	panicV any
}

type committer struct {
	// commits and jobs count the transactions committed and the jobs they held.
	commits, jobs atomic.Int64

	db      *DB
	queue   chan *job
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// synced receives the committed batches the syncer flushes and answers; idle holds a
	// token while no committed batch waits for its flush: the committer takes it to commit.
	synced chan *committed
	idle   chan struct{}
	// checkpoint asks the checkpointer to copy the log into the database file; catchUp asks
	// the committer to copy what it left.
	checkpoint   chan struct{}
	catchUp      atomic.Bool
	checkpointAt int64 // checkpointAt, or smaller in tests
	ckptEnd      chan struct{}
	syncer       *walSyncer
	flush        func() error // syncer.sync; tests hold it
	syncEnd      chan struct{}
	// mu guards closed: a job is queued under the read lock, so none is queued after stop.
	mu     sync.RWMutex
	closed bool
}

func startCommitter(db *DB) *committer {
	c := &committer{db: db, queue: make(chan *job, 4*maxBatch), quit: make(chan struct{}), stopped: make(chan struct{}),
		synced: make(chan *committed, 1), idle: make(chan struct{}, 1),
		syncer:  &walSyncer{path: filepath.Join(db.dir, DBFile) + "-wal"},
		syncEnd: make(chan struct{}), checkpoint: make(chan struct{}, 1), ckptEnd: make(chan struct{})}
	c.idle <- struct{}{}
	c.flush = c.syncer.sync
	c.checkpointAt = checkpointAt
	go c.run()
	go c.sync()
	go c.checkpoints()
	return c
}

// checkpointAt is the size of the log past which it is copied into the database file. A
// checkpoint copies each page the log holds once, however many commits changed it: the
// larger the log, the fewer times the pages every create changes (the newest leaves of the
// indexes, the counts) are copied.
const checkpointAt = 16 << 20

// catchUpFrames bounds what the committer copies itself (see checkpoints): a remainder of a
// few batches, never a log that readers held the checkpointer back from.
const catchUpFrames = 1024

// checkpoints copies the log into the database file when the syncer finds it past
// checkpointAt: a PASSIVE checkpoint on a connection of its own, which the writer does not
// wait for. (SQLite fsyncs the log before and the database file after it.)
//
// The log starts over only when a write transaction begins with every frame copied. Under a
// steady flow of writes that never happens: the committer's transaction is open, or frames
// were committed while the checkpoint ran. So the checkpointer then asks the committer to
// copy what is left itself, between two transactions (catchUp): a few batches' pages.
func (c *committer) checkpoints() {
	defer close(c.ckptEnd)
	for range c.checkpoint {
		// Each run copies what was committed during the one before; a few runs bring what is
		// left down to a remainder, unless a reader holds the log (busy), which a later
		// checkpoint waits out.
		for range 4 {
			var busy, frames, copied int
			err := c.db.checkpoints.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
			if err != nil || busy != 0 {
				break
			}
			if frames-copied <= catchUpFrames {
				c.catchUp.Store(true)
				break
			}
		}
	}
}

// catchUpCheckpoint copies what the checkpointer left of the log, on the write connection
// while no transaction is open, so that the next transaction starts the log over. Held up by
// a reader, it tries again before the next transaction.
func (c *committer) catchUpCheckpoint() {
	if !c.catchUp.Load() {
		return
	}
	var busy, frames, copied int
	err := c.db.write.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	if err != nil || busy == 0 {
		c.catchUp.Store(false)
	}
}

// committed is a batch whose transaction committed, waiting for the log's fsync to answer.
type committed struct {
	jobs    []*job
	results []jobResult
}

// sync flushes the log for each committed batch and answers its jobs; batches that wait
// together share one fsync.
func (c *committer) sync() {
	defer close(c.syncEnd)
	for first := range c.synced {
		batches := []*committed{first}
	more:
		for {
			select {
			case b, ok := <-c.synced:
				if !ok {
					break more
				}
				batches = append(batches, b)
			default:
				break more
			}
		}
		err := c.flush()
		if c.syncer.pending > c.checkpointAt && !c.catchUp.Load() {
			select {
			case c.checkpoint <- struct{}{}:
			default: // one is running or asked for already
			}
		}
		if err != nil {
			// The batch is committed (readers see it) but may not be on disk: its writes are
			// answered as failed, and not as a full disk's, which would say nothing was saved.
			err = fmt.Errorf("flush the write-ahead log: %w", err)
		}
		for _, b := range batches {
			for i, j := range b.jobs {
				res := b.results[i]
				if err != nil && res.err == nil && res.panicV == nil {
					res.err = err
				}
				j.done <- res
			}
			c.idle <- struct{}{}
		}
	}
}

// walSyncer fsyncs the database's write-ahead log through a descriptor of its own, reopened
// if SQLite ever makes a new file.
type walSyncer struct {
	path string
	f    *os.File
	ino  uint64
	// pending is how many bytes of the log no checkpoint had copied at the last sync, read
	// from its index (the -shm file). The log file's size says little of it: a checkpointed log
	// starts over at its beginning, and the file keeps its size (up to journal_size_limit) so
	// that appending to it changes no file metadata that an fsync would have to write too.
	// The size is the fallback when the index cannot be read.
	pending int64
	shm     *os.File
}

// Where the wal-index header (https://sqlite.org/walformat.html) keeps, in the machine's byte
// order, the page size (16 bits; 1 means 65536), mxFrame (32 bits: the frames the log holds)
// and, in the checkpoint information after the header's two copies, nBackfill (32 bits: the
// frames already copied into the database file).
const (
	walIndexPageSize = 14
	walIndexFrames   = 16
	walIndexBackfill = 96
)

// readPending reads from the log's index how many bytes of it no checkpoint has copied; ok is
// false when the index cannot be read. It is read without SQLite's locks: a hint for when to
// checkpoint, which a value from the middle of a commit moves by one batch at most.
func (w *walSyncer) readPending() (pending int64, ok bool) {
	if w.shm == nil {
		f, err := os.Open(strings.TrimSuffix(w.path, "-wal") + "-shm")
		if err != nil {
			return 0, false
		}
		w.shm = f
	}
	var b [walIndexBackfill + 4]byte
	if _, err := w.shm.ReadAt(b[:], 0); err != nil {
		return 0, false
	}
	page := int64(binary.NativeEndian.Uint16(b[walIndexPageSize:]))
	if page == 1 {
		page = 65536
	}
	frames := int64(binary.NativeEndian.Uint32(b[walIndexFrames:]))
	copied := int64(binary.NativeEndian.Uint32(b[walIndexBackfill:]))
	if copied > frames {
		return 0, true // the log was just started over
	}
	return (frames - copied) * (page + 24), true // a frame: a 24-byte header and a page
}

func (w *walSyncer) sync() error {
	st, err := os.Stat(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no log: what was committed is in the database file, synced by the checkpoint
	}
	if err != nil {
		return err
	}
	ino := st.Sys().(*syscall.Stat_t).Ino
	if w.f == nil || ino != w.ino {
		w.close()
		w.f, w.shm = nil, nil // a new log has a new index too
		if w.f, err = os.Open(w.path); err != nil {
			return err
		}
		w.ino = ino
	}
	if err := syscall.Fdatasync(int(w.f.Fd())); err != nil {
		return err
	}
	var ok bool
	if w.pending, ok = w.readPending(); !ok {
		w.pending = st.Size()
	}
	return nil
}

func (w *walSyncer) close() {
	for _, f := range []*os.File{w.f, w.shm} {
		if f != nil {
			f.Close()
		}
	}
}

// stop commits what is queued and ends the committer; later writes fail with errClosed.
func (c *committer) stop() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.quit)
		<-c.stopped
		close(c.synced)
		<-c.syncEnd
		c.syncer.close()
		close(c.checkpoint)
		<-c.ckptEnd
	})
	<-c.syncEnd
}

// enqueue queues j, unless the committer is stopped or ctx ends first.
func (c *committer) enqueue(ctx context.Context, j *job) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errClosed
	}
	select {
	case c.queue <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *committer) run() {
	defer close(c.stopped)
	for {
		select {
		case first := <-c.queue:
			c.catchUpCheckpoint()
			c.batch([]*job{first})
		case <-c.quit:
			// Whatever was queued before Close still commits.
			for {
				select {
				case j := <-c.queue:
					c.batch([]*job{j})
				default:
					return
				}
			}
		}
	}
}

// batch commits jobs in one transaction. A job whose failure took the whole transaction with
// it (SQLite rolls back on a full disk or an I/O error) fails the jobs run before it in the
// same transaction too; the jobs after it run in a new one.
func (c *committer) batch(jobs []*job) {
	for len(jobs) > 0 {
		jobs = c.transaction(jobs)
	}
}

// transaction runs jobs, and the jobs that arrive while the previous batch is flushed, in one
// transaction until it commits or is lost; it answers (or hands the syncer) the jobs it
// settled and returns those still to run.
func (c *committer) transaction(jobs []*job) []*job {
	db := c.db
	ctx := context.Background()
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		err = noSpace(fmt.Errorf("begin: %w", err))
		for _, j := range jobs {
			j.done <- jobResult{err: err}
		}
		return nil
	}
	tx := &txConn{tx: sqlTx}
	results := make([]jobResult, 0, len(jobs))
	var states []*txState
	for i := 0; ; i++ {
		if i == len(jobs) {
			// Every job so far has run: commit once the previous batch is flushed, taking in
			// the jobs that come meanwhile.
			if len(jobs) >= maxBatch {
				<-c.idle
				break
			}
			var j *job
			select {
			case j = <-c.queue: // jobs already waiting join first
			default:
				select {
				case <-c.idle:
				case j = <-c.queue:
				}
			}
			if j == nil {
				break
			}
			jobs = append(jobs, j)
		}
		j := jobs[i]
		if err := j.ctx.Err(); err != nil {
			results = append(results, jobResult{err: err})
			states = append(states, nil)
			continue
		}
		if _, err := db.txExec(ctx, tx, savepointJob); err != nil {
			return c.lost(sqlTx, jobs, results, fmt.Errorf("savepoint: %w", err))
		}
		st := &txState{tx: tx, atJobSavepoint: j.joinable}
		res := runJob(j, st)
		if res.err == nil && res.panicV == nil && st.err != nil {
			res.err = st.err // a call failed past undoing and the job went on regardless
		}
		ok := res.err == nil && res.panicV == nil
		if ok {
			if _, err := db.txExec(ctx, tx, releaseJob); err != nil {
				res.err = fmt.Errorf("release savepoint: %w", err)
				return c.lost(sqlTx, jobs, append(results, res), res.err)
			}
		} else {
			_, err := db.txExec(ctx, tx, rollbackJob)
			if err == nil {
				_, err = db.txExec(ctx, tx, releaseJob)
			}
			if err != nil {
				// The job's failure ended the transaction: SQLite rolled it back (a full disk,
				// an I/O error).
				return c.lost(sqlTx, jobs, append(results, res), res.err)
			}
			st = nil
		}
		results = append(results, res)
		states = append(states, st)
	}
	// The idle token is held: no batch waits for its flush.
	if err := sqlTx.Commit(); err != nil {
		c.idle <- struct{}{}
		err = noSpace(fmt.Errorf("commit: %w", err))
		for i, j := range jobs {
			if results[i].err == nil && results[i].panicV == nil {
				results[i].err = err
			}
			j.done <- results[i]
		}
		return nil
	}
	c.commits.Add(1)
	c.jobs.Add(int64(len(jobs)))
	c.db.generation.Add(1) // readers see the batch from now on
	// What the batch wrote is visible now: the hooks (the token cache's invalidation) run at
	// once; the callers are answered once it is on disk. Failed jobs too: what they read (an
	// update that found nothing to change) may come from a batch not yet flushed.
	for _, st := range states {
		if st != nil {
			for _, f := range st.after {
				f()
			}
		}
	}
	c.synced <- &committed{jobs: jobs, results: results}
	return nil
}

// lost answers the jobs settled before the transaction was lost, results[i] being that of
// jobs[i]; those that had succeeded fail with cause, as their writes are gone. It returns the
// jobs still to run, in a new transaction.
func (c *committer) lost(tx *sql.Tx, jobs []*job, results []jobResult, cause error) []*job {
	tx.Rollback()
	cause = noSpace(cause)
	for i, res := range results {
		if res.err == nil && res.panicV == nil {
			res.err = fmt.Errorf("the transaction it shared was rolled back: %w", cause)
		}
		jobs[i].done <- res
	}
	next := len(results)
	if next == 0 {
		// Not even the first job could start: fail it rather than try for ever.
		jobs[0].done <- jobResult{err: cause}
		next = 1
	}
	return jobs[next:]
}

// runJob runs a job's function, turning a panic into a result for its caller to re-raise.
func runJob(j *job, st *txState) (res jobResult) {
	defer func() {
		if v := recover(); v != nil {
			res = jobResult{panicV: v}
		}
	}()
	return jobResult{err: j.fn(st)}
}

// CommitStats returns how many write transactions were committed and how many jobs (write
// transactions of callers) they held: jobs/commits is the mean size of a group commit.
func (db *DB) CommitStats() (commits, jobs int64) {
	return db.commits.commits.Load(), db.commits.jobs.Load()
}

// submit queues fn as a write transaction and waits for the commit that holds it.
func (db *DB) submit(ctx context.Context, fn func(st *txState) error, joinable bool) error {
	j := &job{ctx: ctx, fn: fn, joinable: joinable, done: make(chan jobResult, 1)}
	if err := db.commits.enqueue(ctx, j); err != nil {
		return err
	}
	// Once queued, the job is waited for even if ctx ends: it may be running, and what it
	// does with the caller's variables must be over before the caller goes on.
	res := <-j.done
	if res.panicV != nil {
		panic(res.panicV)
	}
	return res.err
}

// InTx runs fn in one write transaction, committed if fn returns nil and rolled back
// otherwise. The storage methods of posts and notes called with the context fn is given take
// part in that transaction, so that, say, publishing a note and saving it happen together or
// not at all. Only those methods may be called inside fn: the one write connection is held.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.runTx(ctx, func(st *txState) error {
		// The transaction outlives no request, but a cancelled request must not interrupt it
		// half way (see transaction).
		return fn(context.WithValue(context.WithoutCancel(ctx), txKey{}, st))
	}, true)
}

// inTx runs fn in a write transaction, committing if it returns nil. Inside InTx it joins
// the transaction there, under a savepoint, so that a failed call takes back its own writes
// even when the caller goes on.
func (db *DB) inTx(ctx context.Context, fn func(tx *txConn) error) error {
	return db.inTxState(ctx, func(st *txState) error { return fn(st.tx) })
}

func (db *DB) inTxState(ctx context.Context, fn func(st *txState) error) error {
	return db.runTx(ctx, fn, false)
}

// runTx is inTxState; joinable says fn is InTx's (see job).
func (db *DB) runTx(ctx context.Context, fn func(st *txState) error, joinable bool) error {
	if st := txOf(ctx); st != nil {
		return db.joinTx(ctx, st, fn)
	}
	if db.commits == nil {
		// Before the committer starts (migrations): a plain transaction.
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		st := &txState{tx: &txConn{tx: tx}}
		if err := fn(st); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		for _, f := range st.after {
			f()
		}
		return nil
	}
	return noSpace(db.submit(ctx, fn, joinable))
}

// joinTx runs fn inside the transaction st, so that a failed call takes back its own writes,
// and the commit hooks it added, even when the caller goes on: under a savepoint of its own,
// or, when nothing was written since the job's savepoint, under that one.
func (db *DB) joinTx(ctx context.Context, st *txState, fn func(st *txState) error) error {
	if st.err != nil {
		return st.err
	}
	hooks := len(st.after)
	if st.atJobSavepoint {
		st.atJobSavepoint = false
		if err := fn(st); err != nil {
			st.after = st.after[:hooks]
			if _, rerr := db.txExec(ctx, st.tx, rollbackJob); rerr != nil {
				return st.lose(err, rerr)
			}
			st.atJobSavepoint = true // the job's savepoint stays set
			return noSpace(err)
		}
		return nil
	}
	if _, err := db.txExec(ctx, st.tx, savepointJoined); err != nil {
		return st.lose(fmt.Errorf("savepoint: %w", err), nil)
	}
	if err := fn(st); err != nil {
		st.after = st.after[:hooks]
		_, rerr := db.txExec(ctx, st.tx, rollbackJoined)
		if rerr == nil {
			_, rerr = db.txExec(ctx, st.tx, releaseJoined)
		}
		if rerr != nil {
			return st.lose(err, rerr)
		}
		return noSpace(err)
	}
	if _, err := db.txExec(ctx, st.tx, releaseJoined); err != nil {
		return st.lose(fmt.Errorf("release savepoint: %w", err), nil)
	}
	return nil
}

// lose records that the transaction can no longer be trusted (SQLite rolls it all back on a
// full disk or an I/O error): err, and the rollback's failure if there was one. The caller,
// and every later call in the transaction, fails with it, so that nothing goes on writing
// outside it.
func (st *txState) lose(err, rollback error) error {
	if rollback != nil {
		err = fmt.Errorf("%w (and rolling it back failed: %w)", err, rollback)
	}
	st.err = noSpace(err)
	return st.err
}

// afterCommit runs f once the transaction ctx is in commits, or now outside one.
func afterCommit(ctx context.Context, st *txState, f func()) {
	if st == nil {
		st = txOf(ctx)
	}
	if st == nil {
		f()
		return
	}
	st.after = append(st.after, f)
}

// exec runs one write statement: inside InTx in its transaction, else as a transaction of
// its own through the committer.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.inTxState(ctx, func(st *txState) error {
		var err error
		res, err = db.txExec(ctx, st.tx, query, args...)
		return err
	})
	return res, err
}

// syncDir makes a rename or a new file in dir durable: the directory entry itself is fsynced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return noSpace(fmt.Errorf("sync %s: %w", dir, err))
	}
	return nil
}
