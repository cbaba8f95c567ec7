package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// Group commit. Every write transaction is a job for one goroutine, the committer, which owns
// the write connection. It takes the first job waiting, then every other job already queued
// behind it (up to maxBatch), runs each under its own savepoint in one transaction, and
// commits once: with synchronous=FULL that is one fsync of the log for the whole batch. Each
// caller is answered only after the commit that holds its job, so an acknowledged write is
// on disk; a job that fails is rolled back to its savepoint alone. While one batch commits,
// the next one gathers, so under load batches grow by themselves and no job ever waits for
// a timer.

// maxBatch bounds the jobs one transaction holds, so that a flood of writes still commits,
// and answers, in steps.
const maxBatch = 128

// The savepoint statements of a job inside a batch, prepared at Open.
const (
	savepointJob = `SAVEPOINT job`
	releaseJob   = `RELEASE job`
	rollbackJob  = `ROLLBACK TO job`
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
}

// txConn is the write transaction as jobs use it. A statement is never interrupted by its
// request's context: SQLite would roll the whole transaction back, the other jobs of the
// batch with it. A job whose request has gone before it starts is skipped instead.
type txConn struct{ tx *sql.Tx }

func (t *txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (t *txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (t *txConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// StmtContext returns the transaction's copy of a statement prepared on the write connection.
func (t *txConn) StmtContext(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	return t.tx.StmtContext(context.WithoutCancel(ctx), s)
}

func txOf(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{}).(*txState)
	return st
}

// job is one write transaction waiting for the committer.
type job struct {
	ctx   context.Context
	fn    func(st *txState) error
	after []func()
	done  chan jobResult
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
	// mu guards closed: a job is queued under the read lock, so none is queued after stop.
	mu     sync.RWMutex
	closed bool
}

func startCommitter(db *DB) *committer {
	c := &committer{db: db, queue: make(chan *job, 4*maxBatch), quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

// stop commits what is queued and ends the committer; later writes fail with errClosed.
func (c *committer) stop() {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.quit)
	})
	<-c.stopped
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
		var first *job
		select {
		case first = <-c.queue:
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
		batch := []*job{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case j := <-c.queue:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		c.batch(batch)
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

// transaction runs jobs in one transaction until it commits or is lost, answers the jobs it
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
	single := len(jobs) == 1
	results := make([]jobResult, 0, len(jobs))
	var states []*txState
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			results = append(results, jobResult{err: err})
			states = append(states, nil)
			continue
		}
		st := &txState{tx: tx}
		if !single {
			if _, err := db.txExec(ctx, tx, savepointJob); err != nil {
				return c.lost(sqlTx, jobs, results, fmt.Errorf("savepoint: %w", err))
			}
		}
		res := runJob(j, st)
		ok := res.err == nil && res.panicV == nil
		switch {
		case single && !ok:
			sqlTx.Rollback()
			j.done <- res
			return nil
		case single:
		case ok:
			if _, err := db.txExec(ctx, tx, releaseJob); err != nil {
				res.err = fmt.Errorf("release savepoint: %w", err)
				return c.lost(sqlTx, jobs, append(results, res), res.err)
			}
		default:
			_, err := db.txExec(ctx, tx, rollbackJob)
			if err == nil {
				_, err = db.txExec(ctx, tx, releaseJob)
			}
			if err != nil {
				// The job's failure ended the transaction: SQLite rolled it back (a full disk,
				// an I/O error).
				return c.lost(sqlTx, jobs, append(results, res), res.err)
			}
		}
		results = append(results, res)
		if ok {
			states = append(states, st)
		} else {
			states = append(states, nil)
		}
	}
	if err := sqlTx.Commit(); err != nil {
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
	for i, j := range jobs {
		if st := states[i]; st != nil {
			for _, f := range st.after {
				f()
			}
		}
		j.done <- results[i]
	}
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

// submit queues fn as a write transaction and waits for the commit that holds it.
func (db *DB) submit(ctx context.Context, fn func(st *txState) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan jobResult, 1)}
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
	return db.inTxState(ctx, func(st *txState) error {
		// The transaction outlives no request, but a cancelled request must not interrupt it
		// half way (see transaction).
		return fn(context.WithValue(context.WithoutCancel(ctx), txKey{}, st))
	})
}

// inTx runs fn in a write transaction, committing if it returns nil. Inside InTx it joins
// the transaction there, under a savepoint, so that a failed call takes back its own writes
// even when the caller goes on.
func (db *DB) inTx(ctx context.Context, fn func(tx *txConn) error) error {
	return db.inTxState(ctx, func(st *txState) error { return fn(st.tx) })
}

func (db *DB) inTxState(ctx context.Context, fn func(st *txState) error) error {
	if st := txOf(ctx); st != nil {
		if _, err := st.tx.ExecContext(ctx, `SAVEPOINT joined`); err != nil {
			return noSpace(fmt.Errorf("savepoint: %w", err))
		}
		if err := fn(st); err != nil {
			st.tx.ExecContext(ctx, `ROLLBACK TO joined`)
			st.tx.ExecContext(ctx, `RELEASE joined`)
			return noSpace(err)
		}
		if _, err := st.tx.ExecContext(ctx, `RELEASE joined`); err != nil {
			return noSpace(fmt.Errorf("release savepoint: %w", err))
		}
		return nil
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
	return noSpace(db.submit(ctx, fn))
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
