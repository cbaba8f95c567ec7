package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/micropubd/micropubd"
)

func openTest(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpen_MigratesOnceAndReopens(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()
	p := &micropubd.Post{Path: "2026/01/a", Type: "entry", PostType: "note", Status: "published", Visibility: "public",
		Properties: micropubd.Properties{"content": {"a"}}, Published: time.Now()}
	if err := db.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openTest(t, dir) // migrations must not run again over existing tables
	var versions int
	if err := db.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob("migrations/*.sql")
	if versions != len(names) {
		t.Errorf("%d migrations recorded, %d embedded", versions, len(names))
	}
	if _, err := db.PostByPath(ctx, "2026/01/a"); err != nil {
		t.Errorf("the post did not survive reopening: %v", err)
	}
	var mode string
	db.read.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	var fk int
	db.write.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if mode != "wal" || fk != 1 {
		t.Errorf("journal_mode = %s, foreign_keys = %d; want wal and 1", mode, fk)
	}
}

func TestCreatePost_PathConflictWritesNothing(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	mk := func(content string) *micropubd.Post {
		return &micropubd.Post{Path: "2026/01/same", Type: "entry", PostType: "note", Status: "published", Visibility: "public",
			Properties: micropubd.Properties{"content": {content}, "category": {"c-" + content}}, Published: time.Now()}
	}
	if err := db.CreatePost(ctx, mk("first")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePost(ctx, mk("second")); !errors.Is(err, micropubd.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	cats, _ := db.Categories(ctx, "", 0)
	if len(cats) != 1 || cats[0] != "c-first" {
		t.Errorf("categories = %v: the failed create left some behind", cats)
	}
}

// A storage call inside InTx that fails takes back what it wrote, and only that, whether it is
// the job's first write (which needs no savepoint of its own) or a later one; the job goes on
// and commits, and so do the jobs of the same batch.
func TestInTx_FailedCallTakesBackItsOwnWritesAndTheJobGoesOn(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	if err := db.CreatePost(ctx, testPost("2026/01/taken", "kept")); err != nil {
		t.Fatal(err)
	}
	release := holdCommitter(t, db)
	other := make(chan error, 1)
	go func() { other <- db.CreatePost(ctx, testPost("2026/01/other", "other")) }()
	waitQueued(t, db, 1)
	job := make(chan error, 1)
	var conflicts []error
	go func() {
		job <- db.InTx(ctx, func(ctx context.Context) error {
			conflicts = append(conflicts, db.CreatePost(ctx, testPost("2026/01/taken", "first-failed")))
			if err := db.CreatePost(ctx, testPost("2026/01/new", "new")); err != nil {
				return err
			}
			conflicts = append(conflicts, db.CreatePost(ctx, testPost("2026/01/taken", "later-failed")))
			return nil
		})
	}()
	waitQueued(t, db, 2)
	release()
	if err := <-job; err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	for i, err := range conflicts {
		if !errors.Is(err, micropubd.ErrConflict) {
			t.Errorf("conflicting create %d: %v, want ErrConflict", i, err)
		}
	}
	cats, _ := db.Categories(ctx, "", 0)
	if want := []string{"kept", "new", "other"}; !slices.Equal(cats, want) {
		t.Errorf("categories = %v, want %v: a failed create left rows behind, or took others' with it", cats, want)
	}
	if n, _ := db.CountPosts(ctx); n != 3 {
		t.Errorf("%d posts, want 3", n)
	}
}

func TestUpdatePost_ErrorRollsBackAndConcurrentUpdatesAreNotLost(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	p := &micropubd.Post{Path: "2026/01/counter", Type: "entry", PostType: "note", Status: "published", Visibility: "public",
		Properties: micropubd.Properties{"category": {}}, Published: time.Now()}
	if err := db.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err := db.UpdatePost(ctx, p.Path, func(p *micropubd.Post) error {
		p.Properties["category"] = append(p.Properties["category"], "lost")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	const n = 40
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := db.UpdatePost(ctx, p.Path, func(p *micropubd.Post) error {
				p.Properties["category"] = append(p.Properties["category"], "c")
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	got, _ := db.PostByPath(ctx, p.Path)
	if len(got.Properties["category"]) != n {
		t.Errorf("%d categories after %d concurrent appends", len(got.Properties["category"]), n)
	}
}

func TestSaveMedia_CrashLeftoversAreSwept(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()
	tmp, _ := db.CreateTemp()
	tmp.WriteString("kept")
	tmp.Close()
	if _, err := db.SaveMedia(ctx, &micropubd.Media{Name: "abc123.png", MIMEType: "image/png", Size: 4}, tmp.Name()); err != nil {
		t.Fatal(err)
	}
	// What a crash leaves: a partial upload in tmp, a file renamed in without its row, and a
	// file moved aside by a deletion that never committed.
	os.WriteFile(filepath.Join(dir, "tmp", "upload-123"), []byte("partial"), 0o600)
	os.Rename(filepath.Join(dir, "media", "abc123.png"), filepath.Join(dir, "tmp", "deleted-abc123.png"))
	os.WriteFile(filepath.Join(dir, "media", "def456.png"), []byte("orphan"), 0o600)
	if err := db.SweepFiles(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"tmp/upload-123", "media/def456.png"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s survived the sweep", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "media", "abc123.png")); err != nil {
		t.Errorf("a file with a row was swept: %v", err)
	}
}

func TestMediaNames_CannotLeaveTheFolder(t *testing.T) {
	db := openTest(t, t.TempDir())
	for _, name := range []string{"../micropubd.db", "..", ".", "", "a/b.png", "A.PNG", ".hidden", "a..png", "x.png/"} {
		if _, err := db.OpenMedia(name); !errors.Is(err, micropubd.ErrNotFound) {
			t.Errorf("OpenMedia(%q) = %v, want ErrNotFound", name, err)
		}
		if _, err := db.DeleteUnusedMedia(context.Background(), name, "x"); !errors.Is(err, micropubd.ErrNotFound) {
			t.Errorf("DeleteUnusedMedia(%q) = %v", name, err)
		}
	}
}

// Migration 007 turns the table and partial index of 005 into one b-tree: every row keeps
// its post, time and listing, the tag page lists the listed ones, the owner's listing all.
func TestMigration_CategoriesBecomeOneTreeKeepingTheirRows(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()
	public, private := testPost("2026/01/public", "c"), testPost("2026/01/private", "c")
	private.Visibility = micropubd.VisibilityPrivate
	for _, p := range []*micropubd.Post{public, private} {
		if err := db.CreatePost(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// Back to the shape before 007, holding the same rows.
	for _, q := range []string{
		`ALTER TABLE post_categories RENAME TO post_categories_7`,
		`CREATE TABLE post_categories (category TEXT NOT NULL, published_at INTEGER NOT NULL, post_id INTEGER NOT NULL,
			listed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (category, published_at, post_id)) WITHOUT ROWID`,
		`INSERT INTO post_categories SELECT category, published_at, post_id, listed FROM post_categories_7`,
		`DROP TABLE post_categories_7`,
		`CREATE INDEX post_categories_listed ON post_categories (category, published_at DESC, post_id DESC) WHERE listed = 1`,
		`DELETE FROM schema_migrations WHERE version = 7`,
	} {
		if _, err := db.write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = openTest(t, dir)
	var rows, listed, indexes int
	db.read.QueryRow(`SELECT count(*), sum(listed) FROM post_categories`).Scan(&rows, &listed)
	db.read.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'post_categories_listed'`).Scan(&indexes)
	if rows != 2 || listed != 1 || indexes != 0 {
		t.Errorf("after 007: %d rows, %d listed, %d old index; want 2, 1, 0", rows, listed, indexes)
	}
	tagged, err := db.ListTagged(ctx, "c", nil, 10, 0)
	if err != nil || len(tagged) != 1 || tagged[0].ID != public.ID {
		t.Errorf("tag page after 007: %v %v, want the public post only", tagged, err)
	}
	all, err := db.ListPosts(ctx, micropubd.PostFilter{Category: "c"})
	if err != nil || len(all) != 2 {
		t.Errorf("the owner's listing after 007: %d posts %v, want 2", len(all), err)
	}
	if _, err := db.write.Exec(`INSERT INTO post_categories (category, listed, published_at, post_id) VALUES ('c', 2, 1, 1)`); err == nil {
		t.Error("a listed value other than 0 or 1 was stored")
	}
}

// Migrations 006 and 008 rebuild the posts table, which webmentions and notes refer to.
func TestMigration_RebuildingPostsKeepsWhatRefersToThem(t *testing.T) {
	for _, version := range []int{6, 8} {
		t.Run(fmt.Sprint(version), func(t *testing.T) { rebuildPostsAgain(t, version) })
	}
}

func rebuildPostsAgain(t *testing.T, version int) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()
	p := testPost("2026/01/a")
	if err := db.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A webmention (ON DELETE CASCADE) and a shared note refer to the post.
	if _, err := db.write.Exec(`INSERT INTO webmentions (source, target, post_id, source_host, status, received_at)
		VALUES ('https://b.example/1', 'https://a.example/2026/01/a', ?, 'b.example', 'accepted', 1)`, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`INSERT INTO notebooks (name, color_light, color_dark, position, created_at, modified_at)
		VALUES ('n', '', '', 'a', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.Exec(`INSERT INTO notes (notebook_id, text, is_encrypted, post_id, position, created_at, modified_at)
		VALUES (1, 'shared', 0, ?, 'a', 1, 1)`, p.ID); err != nil {
		t.Fatal(err)
	}
	// Run the rebuild again over the filled database.
	if _, err := db.write.Exec(`DELETE FROM schema_migrations WHERE version = ?`, version); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = openTest(t, dir)
	var mentions, notes, posts, fk int
	db.read.QueryRow(`SELECT count(*) FROM webmentions`).Scan(&mentions)
	db.read.QueryRow(`SELECT count(*) FROM notes WHERE post_id = ?`, p.ID).Scan(&notes)
	db.read.QueryRow(`SELECT count(*) FROM posts`).Scan(&posts)
	db.write.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	if mentions != 1 || notes != 1 || posts != 1 || fk != 1 {
		t.Errorf("after the rebuild: %d webmentions, %d notes, %d posts, foreign_keys = %d; want 1, 1, 1, 1", mentions, notes, posts, fk)
	}
	if got, err := db.PostByPath(ctx, "2026/01/a"); err != nil || got.ID != p.ID {
		t.Errorf("the post after the rebuild: %v, %v", got, err)
	}
}

// Migration 008 writes the visibility check as comparisons: it holds as before, and an insert
// of a post builds no temporary index for it (an IN list of three values would).
func TestPosts_VisibilityCheckHoldsWithoutATemporaryIndex(t *testing.T) {
	db := openTest(t, t.TempDir())
	for _, v := range []string{"public", "unlisted", "private"} {
		if _, err := db.write.Exec(`INSERT INTO posts (path, type, post_type, status, visibility, properties,
			published_at, created_at) VALUES (?, 'entry', 'note', 'published', ?, '{}', 1, 1)`, "2026/01/"+v, v); err != nil {
			t.Errorf("visibility %s: %v", v, err)
		}
	}
	for _, v := range []string{"hidden", "Public", ""} {
		if _, err := db.write.Exec(`INSERT INTO posts (path, type, post_type, status, visibility, properties,
			published_at, created_at) VALUES ('2026/01/x', 'entry', 'note', 'published', ?, '{}', 1, 1)`, v); err == nil {
			t.Errorf("visibility %q was stored", v)
		}
	}
	rows, err := db.write.Query(`EXPLAIN `+insertPost, make([]any, strings.Count(insertPost, "?"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var addr int
		var op string
		var rest [6]any // p1 to p5, comment
		if err := rows.Scan(&addr, &op, &rest[0], &rest[1], &rest[2], &rest[3], &rest[4], &rest[5]); err != nil {
			t.Fatal(err)
		}
		if op == "OpenEphemeral" {
			t.Errorf("inserting a post opens a temporary index (at %d)", addr)
		}
	}
}

// SQLite's memory statistics, a lock taken on every allocation, are off (see sqlite_config.go).
func TestOpen_SQLiteKeepsNoMemoryStatistics(t *testing.T) {
	db := openTest(t, t.TempDir())
	if err := db.CreatePost(context.Background(), testPost("2026/01/a", "c")); err != nil {
		t.Fatal(err)
	}
	if n := sqliteMemoryCounted(); n != 0 {
		t.Errorf("SQLite counts %d bytes in use: its memory statistics are on", n)
	}
}
