package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micropubd/micropubd"
)

// holdCommitter queues a job that blocks the committer until the returned release is called,
// so that the jobs queued meanwhile form the next batch.
func holdCommitter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.inTx(context.Background(), func(*txConn) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// waitQueued waits until n jobs wait in the committer's queue.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(db.commits.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs queued, want %d", len(db.commits.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func testPost(path string, cats ...string) *micropubd.Post {
	var c []any
	for _, x := range cats {
		c = append(c, x)
	}
	return &micropubd.Post{Path: path, Type: "entry", PostType: "note", Status: "published", Visibility: "public",
		Properties: micropubd.Properties{"content": {path}, "category": c}, Published: time.Now()}
}

func TestGroupCommit_WaitingWritesShareOneCommit(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	release := holdCommitter(t, db)
	before := db.commits.commits.Load()
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- db.CreatePost(ctx, testPost(fmt.Sprintf("2026/01/p%d", i), "shared")) }()
	}
	waitQueued(t, db, n)
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// The creates join the held job's open transaction: one commit, two at most.
	if got := db.commits.commits.Load() - before; got > 2 {
		t.Errorf("%d commits for one held job and %d waiting creates, want 1 or 2", got, n)
	}
	posts, err := db.ListPosts(ctx, micropubd.PostFilter{Category: "shared"})
	if err != nil || len(posts) != n {
		t.Fatalf("%d posts listed (%v), want %d", len(posts), err, n)
	}
}

func TestGroupCommit_FailedJobRollsBackAloneAndPanicsReachTheCaller(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	release := holdCommitter(t, db)
	boom := errors.New("boom")
	results := make(chan error, 4)
	run := func(fn func(tx *txConn) error) {
		go func() { results <- db.inTx(ctx, fn) }()
	}
	insert := func(key string) func(tx *txConn) error {
		return func(tx *txConn) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, 'x')`, key)
			return err
		}
	}
	run(insert("a"))
	waitQueued(t, db, 1)
	run(func(tx *txConn) error {
		if err := insert("failed")(tx); err != nil {
			return err
		}
		return boom
	})
	waitQueued(t, db, 2)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		db.inTx(ctx, func(tx *txConn) error {
			insert("panicked")(tx)
			panic("job panicked")
		})
	}()
	waitQueued(t, db, 3)
	run(insert("c"))
	waitQueued(t, db, 4)
	release()
	var failures []error
	for range 3 {
		if err := <-results; err != nil {
			failures = append(failures, err)
		}
	}
	if len(failures) != 1 || !errors.Is(failures[0], boom) {
		t.Errorf("failures = %v, want only boom", failures)
	}
	if v := <-panicked; v != "job panicked" {
		t.Errorf("recovered %v, want the job's panic", v)
	}
	for key, want := range map[string]bool{"a": true, "c": true, "failed": false, "panicked": false} {
		_, err := db.Setting(ctx, key)
		if got := err == nil; got != want {
			t.Errorf("setting %s stored = %v, want %v (%v)", key, got, want, err)
		}
	}
}

func TestGroupCommit_WritesAreAnsweredOnlyOnceTheLogIsFlushed(t *testing.T) {
	db := openTest(t, t.TempDir())
	flushing, release := make(chan struct{}, 8), make(chan struct{})
	real := db.commits.flush
	db.commits.flush = func() error {
		flushing <- struct{}{}
		<-release
		return real()
	}
	done := make(chan error, 1)
	go func() { done <- db.SetSetting(context.Background(), "k", "v") }()
	<-flushing
	select {
	case err := <-done:
		t.Fatalf("answered (%v) before the log was flushed", err)
	case <-time.After(50 * time.Millisecond):
	}
	if v, err := db.Setting(context.Background(), "k"); err != nil || v != "v" {
		t.Errorf("the committed write is not visible while it is flushed: %q %v", v, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var walFlushes int
	db.commits.flush = func() error { walFlushes++; return real() }
	failed := db.inTx(context.Background(), func(tx *txConn) error { return errors.New("nothing to change") })
	if failed == nil || walFlushes != 1 {
		t.Errorf("a failed write was answered %v after %d flushes, want after 1", failed, walFlushes)
	}
}

func TestGroupCommit_CancelledBeforeItStartsWritesNothing(t *testing.T) {
	db := openTest(t, t.TempDir())
	release := holdCommitter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.SetSetting(ctx, "gone", "x") }()
	waitQueued(t, db, 1)
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := db.Setting(context.Background(), "gone"); !errors.Is(err, micropubd.ErrNotFound) {
		t.Errorf("the cancelled write was stored: %v", err)
	}
}

func TestGroupCommit_WritesAfterCloseFail(t *testing.T) {
	db, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.SetSetting(context.Background(), "k", "v"); !errors.Is(err, errClosed) {
		t.Errorf("err = %v, want errClosed", err)
	}
}

// recount is what the categories table must hold: the posts that are not deleted, per category.
func recount(t *testing.T, db *DB) map[string]int {
	t.Helper()
	rows, err := db.read.Query(`SELECT properties FROM posts WHERE deleted_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]int{}
	for rows.Next() {
		var raw []byte
		rows.Scan(&raw)
		props, _ := micropubd.DecodeProperties(raw)
		for _, c := range categoriesOf(props) {
			want[c]++
		}
	}
	return want
}

func TestCategories_CountsAndListingsFollowEveryWrite(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		want := recount(t, db)
		got := map[string]int{}
		rows, _ := db.read.Query(`SELECT category, posts FROM categories`)
		for rows.Next() {
			var c string
			var n int
			rows.Scan(&c, &n)
			got[c] = n
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: counts %v, want %v", step, got, want)
		}
		for c, n := range want {
			posts, err := db.ListPosts(ctx, micropubd.PostFilter{Category: c})
			if err != nil || len(posts) != n {
				t.Errorf("%s: %d posts listed in %s (%v), want %d", step, len(posts), c, err, n)
			}
		}
		var stale int
		db.read.QueryRow(`SELECT count(*) FROM post_categories c JOIN posts p ON p.id = c.post_id
			WHERE c.published_at != p.published_at`).Scan(&stale)
		if stale > 0 {
			t.Errorf("%s: %d category rows keep an old published time", step, stale)
		}
	}
	a, b := testPost("2026/01/a", "x", "y", "x"), testPost("2026/01/b", "y")
	for _, p := range []*micropubd.Post{a, b} {
		if err := db.CreatePost(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	check("created")
	steps := []struct {
		name   string
		change func(p *micropubd.Post)
	}{
		{"category added and removed", func(p *micropubd.Post) { p.Properties["category"] = []any{"x", "z"} }},
		{"published moved", func(p *micropubd.Post) { p.Published = p.Published.Add(-time.Hour) }},
		{"deleted", func(p *micropubd.Post) { p.Deleted = time.Now() }},
		{"changed while deleted", func(p *micropubd.Post) { p.Properties["category"] = []any{"w"} }},
		{"undeleted", func(p *micropubd.Post) { p.Deleted = time.Time{} }},
		{"erased", func(p *micropubd.Post) { p.Properties = micropubd.Properties{}; p.Deleted = time.Now() }},
	}
	for _, s := range steps {
		if _, err := db.UpdatePost(ctx, a.Path, func(p *micropubd.Post) error { s.change(p); return nil }); err != nil {
			t.Fatal(err)
		}
		check(s.name)
	}
	cats, _ := db.Categories(ctx, "Y", 0)
	if fmt.Sprint(cats) != "[y]" {
		t.Errorf("Categories(filter Y) = %v, want [y]", cats)
	}
}

// A category's posts, listed on the tag pages or not (private, unlisted, drafts, deleted),
// come newest first in one order, whether read whole, by offset or page by page either way.
func TestListPosts_CategoryMergesListedAndUnlistedInOrder(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i := range 12 {
		p := testPost(fmt.Sprintf("2026/01/m%02d", i), "mix")
		p.Published = base.Add(time.Duration(i%6) * time.Hour) // pairs at the same time: the id orders them
		switch i % 3 {
		case 1:
			p.Visibility = micropubd.VisibilityPrivate
		case 2:
			p.Status = micropubd.StatusDraft
		}
		if err := db.CreatePost(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.ListPosts(ctx, micropubd.PostFilter{Category: "mix"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Published.Before(b.Published) || (a.Published.Equal(b.Published) && a.ID < b.ID) {
			t.Errorf("%s (%v) listed before %s (%v): not newest first", a.Path, a.Published, b.Path, b.Published)
		}
	}
	for _, p := range all {
		want = append(want, p.Path)
	}
	if len(want) != 12 {
		t.Fatalf("%d posts listed, want 12", len(want))
	}
	paths := func(posts []*micropubd.Post) (out []string) {
		for _, p := range posts {
			out = append(out, p.Path)
		}
		return out
	}
	var forward []string
	f := micropubd.PostFilter{Category: "mix", Limit: 5}
	for {
		page, err := db.ListPosts(ctx, f)
		if err != nil || len(page) == 0 {
			break
		}
		forward = append(forward, paths(page)...)
		last := page[len(page)-1]
		f.After = &micropubd.Cursor{Published: last.Published, ID: last.ID}
	}
	var backward []string
	f = micropubd.PostFilter{Category: "mix", Limit: 5}
	oldest := all[len(all)-1]
	f.Before = &micropubd.Cursor{Published: oldest.Published, ID: oldest.ID}
	backward = []string{oldest.Path}
	for {
		page, err := db.ListPosts(ctx, f)
		if err != nil || len(page) == 0 {
			break
		}
		backward = append(paths(page), backward...)
		f.Before = &micropubd.Cursor{Published: page[0].Published, ID: page[0].ID}
	}
	for name, f := range map[string]micropubd.PostFilter{
		"drafts":           {Category: "mix", Status: micropubd.StatusDraft},
		"private":          {Category: "mix", Visibility: []string{micropubd.VisibilityPrivate}},
		"published public": {Category: "mix", Status: micropubd.StatusPublished, Visibility: []string{micropubd.VisibilityPublic}},
		"published":        {Category: "mix", Status: micropubd.StatusPublished},
	} {
		want := 4
		if name == "published" {
			want = 8
		}
		if got, err := db.ListPosts(ctx, f); err != nil || len(got) != want {
			t.Errorf("%s of the category: %d posts (%v), want %d", name, len(got), err, want)
		}
	}
	offset, _ := db.ListPosts(ctx, micropubd.PostFilter{Category: "mix", Limit: 4, Offset: 5})
	for name, got := range map[string][]string{"after cursors": forward, "before cursors": backward, "offset 5": paths(offset)} {
		w := want
		if name == "offset 5" {
			w = want[5:9]
		}
		if !slices.Equal(got, w) {
			t.Errorf("by %s: %v, want %v", name, got, w)
		}
	}
}

// TestListPosts_EveryFilterSeeksAnIndex checks the plan of each shape of listing: pages are
// read from an index in order, never sorted, so their cost does not grow with the archive.
func TestListPosts_EveryFilterSeeksAnIndex(t *testing.T) {
	db := openTest(t, t.TempDir())
	cursor := &micropubd.Cursor{Published: time.Now(), ID: 5}
	filters := map[string]micropubd.PostFilter{
		"homepage page 4,500":        {Status: "published", Visibility: []string{"public"}, Limit: 21, Offset: 90000},
		"q=source by offset":         {Limit: 21, Offset: 90000},
		"q=source after a cursor":    {Limit: 21, After: cursor},
		"q=source before a cursor":   {Limit: 21, Before: cursor},
		"category after a cursor":    {Category: "a", Limit: 21, After: cursor},
		"published public category":  {Category: "a", Status: "published", Visibility: []string{"public"}, Limit: 21},
		"category's drafts":          {Category: "a", Status: "draft", Limit: 21},
		"category, private":          {Category: "a", Visibility: []string{"private"}, After: cursor, Limit: 21},
		"post-type":                  {PostType: "photo", Limit: 21},
		"drafts":                     {Status: "draft", Limit: 21},
		"public and unlisted offset": {Status: "published", Visibility: []string{"public", "unlisted"}, Offset: 40},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			query, args, ok := listQuery(f)
			if !ok {
				t.Fatal("no query")
			}
			rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				rows.Scan(&id, &parent, &unused, &detail)
				plan = append(plan, detail)
			}
			for _, step := range plan {
				if strings.Contains(step, "TEMP B-TREE") || (strings.Contains(step, "SCAN") && !strings.Contains(step, "INDEX")) {
					t.Errorf("plan %q sorts or scans a table:\n%s", step, query)
				}
			}
			if f.Category != "" && (plan[0] == "MERGE (UNION ALL)") != (listedRuns(f) == runBoth) {
				t.Errorf("a category's listing reads the wrong runs of its rows: %v", plan)
			}
			if name == "homepage page 4,500" && !strings.Contains(plan[0], "posts_feed") {
				t.Errorf("the homepage does not read the feed's index: %v", plan)
			}
		})
	}
}

func TestTokenByHash_CachedCopyIsDroppedByEveryRevocation(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	revokes := map[string]func(tok *micropubd.Token) error{
		"RevokeToken":        func(tok *micropubd.Token) error { return db.RevokeToken(ctx, tok.ID, time.Now()) },
		"RevokeTokensOfCode": func(tok *micropubd.Token) error { return db.RevokeTokensOfCode(ctx, tok.CodeID, time.Now()) },
		"RotateToken": func(tok *micropubd.Token) error {
			return db.RotateToken(ctx, tok.ID, time.Now(), &micropubd.Token{Hash: []byte(fmt.Sprintf("%032d", tok.ID+1000)), Me: "m", IssuedAt: time.Now()})
		},
		"revokeReplayed": func(tok *micropubd.Token) error {
			err := db.revokeReplayed(ctx, []byte("code-hash"), time.Now())
			if !errors.Is(err, micropubd.ErrCodeUsed) {
				return err
			}
			return nil
		},
	}
	code := &micropubd.AuthCode{Hash: []byte("code-hash"), ClientID: "c", RedirectURI: "r", CreatedAt: time.Now(), ExpiresAt: time.Now()}
	if err := db.CreateAuthCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	i := 0
	for name, revoke := range revokes {
		t.Run(name, func(t *testing.T) {
			i++
			tok := &micropubd.Token{Hash: []byte(fmt.Sprintf("%032d", i)), Me: "m", IssuedAt: time.Now(), CodeID: code.ID}
			if err := db.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if got, err := db.TokenByHash(ctx, tok.Hash); err != nil || !got.RevokedAt.IsZero() {
				t.Fatalf("before: %v %v", got, err)
			}
			if cached, _ := db.tokens.get(tok.Hash); cached == nil {
				t.Fatal("the token was not cached")
			}
			if err := revoke(tok); err != nil {
				t.Fatal(err)
			}
			got, err := db.TokenByHash(ctx, tok.Hash)
			if err != nil || got.RevokedAt.IsZero() {
				t.Errorf("after %s: revoked_at %v (%v): the cached copy was served", name, got.RevokedAt, err)
			}
		})
	}
}

func TestTokenCache_ReadFromBeforeAnInvalidationIsNotStored(t *testing.T) {
	c := newTokenCache()
	tok := &micropubd.Token{ID: 1, Hash: make([]byte, 32)}
	_, gen := c.get(tok.Hash)
	c.invalidate() // a revocation commits while the lookup reads
	c.put(gen, tok)
	if got, _ := c.get(tok.Hash); got != nil {
		t.Error("a token read before the revocation was cached after it")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, g := c.get(tok.Hash); c.put(g, tok); c.invalidate() }()
	}
	wg.Wait()
}

// walFrames reads the number of frames in the database's write-ahead log from its index.
func walFrames(t *testing.T, dir string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, DBFile) + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	return int64(binary.NativeEndian.Uint32(b[walIndexFrames:]))
}

func TestGroupCommit_LogStartsOverUnderSteadyWrites(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	db.commits.checkpointAt = 1 << 20
	const writers, posts = 16, 3000
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for i := next.Add(1); i <= posts; i = next.Add(1) {
				if err := db.CreatePost(context.Background(), testPost(fmt.Sprintf("2026/12/%d", i), "a", "b")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var most, restarts, last int64
	for watching := true; watching; {
		select {
		case <-done:
			watching = false
		case <-time.After(time.Millisecond):
		}
		n := walFrames(t, dir)
		if n < last {
			restarts++
		}
		last, most = n, max(most, n)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each create adds a few pages to the log; were it never started over, it would hold
	// them all. A checkpoint may lag its threshold by the batches committed while it runs.
	if limit := 4 * db.commits.checkpointAt / (4096 + 24); most > limit || restarts < 3 {
		t.Errorf("the log grew to %d frames (limit %d) and started over %d times under steady writes", most, limit, restarts)
	}
}
