package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/storage"
)

func TestBench_DrivesEveryOperationOfARunningServer(t *testing.T) {
	srv := newTestServer(t)
	for range 30 {
		srv.create("content=seed&category=a")
	}
	out, err := runCommand(t, "bench", "--target", srv.base, "--token", srv.token, "--duration", "300ms", "--clients", "4")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range benchOps {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == op {
				line = l
			}
		}
		switch {
		case line == "":
			t.Errorf("no row for %s:\n%s", op, out)
		default: // operation, requests/s, p50, p90, p99, max, errors, server RSS
			if f := strings.Fields(line); len(f) != 8 || f[1] == "0" || f[6] != "-" {
				t.Errorf("%s: errors or no requests: %s", op, line)
			}
		}
	}
	if !strings.Contains(out, "with 30 posts,") {
		t.Errorf("the header does not count the archive:\n%s", out)
	}
}

func TestBench_PrefillFillsTheArchiveThroughStorage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := runCommand(t, "bench", "--data", dir, "--prefill", "1200", "--prefill-only"); err != nil {
		t.Fatal(err)
	}
	if _, err := runCommand(t, "bench", "--data", dir, "--prefill", "1500", "--prefill-only"); err != nil {
		t.Fatal(err) // fills up to the number, from what is there
	}
	db, err := storage.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if n, err := db.CountPosts(ctx); err != nil || n != 1500 {
		t.Fatalf("%d posts (%v), want 1500", n, err)
	}
	cats, _ := db.Categories(ctx, "", 1)
	posts, _ := db.ListPosts(ctx, micropubd.PostFilter{Category: cats[0]})
	if len(posts) < 100 {
		t.Errorf("the commonest category lists %d posts", len(posts))
	}
	home, _ := db.ListPosts(ctx, micropubd.PostFilter{Status: "published", Visibility: []string{"public"}, Limit: 2})
	if len(home) != 2 || home[0].Published.Before(home[1].Published) {
		t.Errorf("the newest posts: %v", home)
	}
}
