package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd"
)

// runCommand runs a sub-command in-process and returns its standard output.
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	if err != nil {
		return out.String(), fmt.Errorf("%w\n%s", err, errOut.String())
	}
	return out.String(), nil
}

// fillSite gives a site one of everything a site holds: posts of each kind and state, an
// upload with alt text, a moved slug, a notebook with an encrypted note and a shared one.
func fillSite(t *testing.T, srv *notesServer) (posts []string) {
	t.Helper()
	resp, _ := srv.upload(srv.token, "a.png", "image/png", readFixture(t, fixtureDir+"/media/pixel.png"), map[string]string{"alt": "a pixel"})
	photo := resp.Header.Get("Location")
	venue := srv.create("h=card&name=Caf%C3%A9+Venue&url=https%3A%2F%2Fcafe.example%2F")
	for _, body := range []string{
		"content=A+note&category=one&category=two",
		"name=An+article&content%5Bhtml%5D=%3Cp%3EHello+%3Cb%3Eworld%3C%2Fb%3E%3C%2Fp%3E&category=two",
		"content=A+photo&photo=" + url.QueryEscape(photo),
		"content=At+the+cafe&location=" + url.QueryEscape(venue),
		"content=A+draft&post-status=draft",
		"content=Private&visibility=private",
		"content=Unlisted&visibility=unlisted&published=2020-02-29T12:00:00%2B05:30",
	} {
		posts = append(posts, srv.create(body))
	}
	deleted := srv.create("content=Deleted+later")
	if resp, body := srv.postForm("action=delete&url=" + url.QueryEscape(deleted)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	moved := srv.create("content=Moved&mp-slug=old-slug")
	resp, body := srv.postJSON(`{"action":"update","url":"` + moved + `","replace":{"mp-slug":["new-slug"],"content":["Moved and edited"]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("move: %d %s", resp.StatusCode, body)
	}
	posts = append(posts, venue, deleted, moved, resp.Header.Get("Location"))
	nb := srv.newNotebook(t, "Ideas")
	srv.newNote(t, nb.ID, "a private thought")
	shared := srv.newNote(t, nb.ID, "# Shared\n\nfor everyone")
	srv.saveNote(t, url.Values{"id": {id(shared.ID)}, "is_sharing": {"true"}, "text": {"# Shared\n\nfor everyone"}})
	return posts
}

// dump reads every table of a data folder's database, row by row, and the media files.
func dump(t *testing.T, dir string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "micropubd.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	for _, table := range names {
		rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY 1, 2`)
		if err != nil {
			rows, err = db.Query(`SELECT * FROM "` + table + `" ORDER BY 1`)
		}
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			out[table] = append(out[table], fmt.Sprintf("%v", vals))
		}
		rows.Close()
	}
	files, _ := os.ReadDir(filepath.Join(dir, "media"))
	for _, f := range files {
		b, _ := os.ReadFile(filepath.Join(dir, "media", f.Name()))
		out["files"] = append(out["files"], fmt.Sprintf("%s %x", f.Name(), b))
	}
	return out
}

func TestBackup_RestoreGivesBackTheSameSiteNotesIncluded(t *testing.T) {
	srv := newNotesServer(t)
	posts := fillSite(t, srv)
	dir := srv.db.Dir()
	archive := filepath.Join(t.TempDir(), "site.tar.gz")
	out, err := runCommand(t, "backup", "--data", dir, "--out", archive)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "the database and 1 upload,") {
		t.Errorf("backup said: %s", out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := runCommand(t, "restore", "--data", restored, "--in", archive); err != nil {
		t.Fatal(err)
	}
	want, got := dump(t, dir), dump(t, restored)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the restored site differs (-backed up +restored):\n%s", diff)
	}
	if len(got["notes"]) != 2 || len(got["notebooks"]) != 1 || len(got["posts"]) != len(posts) { // the moved post twice, and the shared note's
		t.Errorf("restored %d notes, %d notebooks, %d posts", len(got["notes"]), len(got["notebooks"]), len(got["posts"]))
	}
	// The restored folder serves.
	again := newTestServerOn(t, restored)
	if resp, _ := again.get(again.base, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the restored site's homepage: %d", resp.StatusCode)
	}

	t.Run("restore refuses a folder that has a database", func(t *testing.T) {
		if _, err := runCommand(t, "restore", "--data", restored, "--in", archive); err == nil || !strings.Contains(err.Error(), "already holds a database") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("restore refuses an archive whose file was changed, and leaves no database", func(t *testing.T) {
		tampered := tamper(t, archive)
		into := filepath.Join(t.TempDir(), "tampered")
		if _, err := runCommand(t, "restore", "--data", into, "--in", tampered); err == nil || !strings.Contains(err.Error(), "does not hold the bytes") {
			t.Errorf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(into, "micropubd.db")); !os.IsNotExist(err) {
			t.Errorf("a database was left: %v", err)
		}
	})
}

// tamper copies a backup with one byte of its first upload changed.
func tamper(t *testing.T, archive string) string {
	t.Helper()
	f, _ := os.Open(archive)
	defer f.Close()
	gz, _ := gzip.NewReader(f)
	tr := tar.NewReader(gz)
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	done := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		b, _ := io.ReadAll(tr)
		if strings.HasPrefix(h.Name, "media/") && !done {
			b[len(b)/2] ^= 0xFF
			done = true
		}
		tw.WriteHeader(h)
		tw.Write(b)
	}
	tw.Close()
	gw.Close()
	path := archive + ".tampered"
	os.WriteFile(path, buf.Bytes(), 0o600)
	return path
}

func TestBackup_WhileTheServerWritesIsConsistent(t *testing.T) {
	srv := newNotesServer(t)
	fillSite(t, srv)
	before := srv.create("content=before+the+backup")
	stop, going := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // creates, uploads and deletes uploads all through the backup
		defer wg.Done()
		for i := 0; ; i++ {
			if i == 5 {
				close(going)
			}
			select {
			case <-stop:
				return
			default:
			}
			srv.postForm(fmt.Sprintf("content=during+%d&category=busy", i))
			resp, _ := srv.upload(srv.token, "p.png", "image/png", uniquePNG(t, uint64(i)+100), nil)
			if i%2 == 0 {
				srv.post("application/x-www-form-urlencoded", "action=delete&url="+url.QueryEscape(resp.Header.Get("Location")), srv.token, "micropub/media")
			}
		}
	}()
	<-going
	archive := filepath.Join(t.TempDir(), "online.tar.gz")
	_, err := runCommand(t, "backup", "--data", srv.db.Dir(), "--out", archive)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := runCommand(t, "restore", "--data", restored, "--in", archive); err != nil {
		t.Fatal(err) // restore checks the database's integrity and every recorded upload
	}
	again := newTestServerOn(t, restored)
	path := strings.TrimPrefix(before, srv.base)
	if p, err := again.db.PostByPath(context.Background(), path); err != nil || p.Properties.First("content") != "before the backup" {
		t.Errorf("a post made before the backup: %v %v", p, err)
	}
	counts := dump(t, restored)
	busy, err := again.db.ListPosts(context.Background(), micropubd.PostFilter{Category: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	if cats, _ := again.db.Categories(context.Background(), "busy", 0); (len(busy) > 0) != (len(cats) == 1) {
		t.Errorf("%d posts in busy, categories %v: the counts disagree with the posts", len(busy), cats)
	}
	t.Logf("the snapshot holds %d posts (%d made during the backup) and %d uploads", len(counts["posts"]), len(busy), len(counts["media"]))
}
