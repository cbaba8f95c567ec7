package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/micropubd/micropubd"
)

// TestQueryPlans_FeedsAndTagsReadAnIndex checks that the homepage and feeds, tag pages and the
// sitemap read their rows from an index in order, never by scanning the posts: their cost must
// not grow with the archive.
func TestQueryPlans_FeedsAndTagsReadAnIndex(t *testing.T) {
	db := openTest(t, t.TempDir())
	tests := []struct {
		name, query string
		args        []any
		want        string
	}{
		{"feed", listFeed, []any{20, 0}, "posts_feed"},
		{"feed after a cursor", listFeedAfter, []any{1, 2, 20, 0}, "USING INDEX posts_feed (published_at<?)"},
		{"tag page", listTagged, []any{"go", 20, 0}, "USING PRIMARY KEY (category=? AND listed=?)"},
		{"tag page after a cursor", listTaggedAfter, []any{"go", 1, 2, 20, 0}, "USING PRIMARY KEY (category=? AND listed=? AND (published_at,post_id)<(?,?))"},
		{"sitemap", listedPosts, []any{50000}, "posts_feed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+tt.query, tt.args...)
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
			all := strings.Join(plan, "\n")
			if !strings.Contains(all, tt.want) || strings.Contains(all, "TEMP B-TREE") || strings.Contains(all, "SCAN p\n") || strings.HasSuffix(all, "SCAN p") {
				t.Errorf("plan does not read %s in order:\n%s", tt.want, all)
			}
		})
	}
}

// TestListFeedAndTagged_AfterACursorIsTheNextOffset walks the feed and a tag page by cursor,
// from the last post of each page, and checks each page is the one OFFSET gives, in an
// archive where several posts share a publication time (the post id breaks the tie), some
// are not listed and one is deleted.
func TestListFeedAndTagged_AfterACursorIsTheNextOffset(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 23 {
		p := &micropubd.Post{Path: fmt.Sprintf("2026/01/p%d", i), Type: "entry", PostType: "note", Status: "published",
			Visibility: "public", Properties: micropubd.Properties{"category": []any{"go"}},
			Published: base.Add(time.Duration(i/3) * time.Hour)} // three posts an hour
		switch i % 7 {
		case 3:
			p.Visibility = "unlisted"
		case 5:
			p.Status = "draft"
		}
		if i == 13 {
			p.Deleted = base
		}
		if err := db.CreatePost(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	listings := []struct {
		name string
		list func(after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error)
	}{
		{"feed", func(after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error) {
			return db.ListFeed(ctx, after, limit, offset)
		}},
		{"tag", func(after *micropubd.Cursor, limit, offset int) ([]*micropubd.Post, error) {
			return db.ListTagged(ctx, "go", after, limit, offset)
		}},
	}
	paths := func(posts []*micropubd.Post) string {
		var out []string
		for _, p := range posts {
			out = append(out, p.Path)
		}
		return strings.Join(out, " ")
	}
	for _, l := range listings {
		t.Run(l.name, func(t *testing.T) {
			all, err := l.list(nil, -1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 16 {
				t.Fatalf("%d posts listed, want 16: %s", len(all), paths(all))
			}
			for size := 1; size <= 4; size++ {
				var after *micropubd.Cursor
				for page := 0; page*size < len(all); page++ {
					byOffset, err := l.list(nil, size, page*size)
					if err != nil {
						t.Fatal(err)
					}
					byCursor, err := l.list(after, size, 0)
					if err != nil {
						t.Fatal(err)
					}
					if got, want := paths(byCursor), paths(byOffset); got != want {
						t.Fatalf("page %d of %d: after the cursor %s, want %s", page+1, size, got, want)
					}
					last := byCursor[len(byCursor)-1]
					after = &micropubd.Cursor{Published: last.Published, ID: last.ID}
				}
				if rest, err := l.list(after, size, 0); err != nil || len(rest) != 0 {
					t.Errorf("after the last post: %s %v, want nothing", paths(rest), err)
				}
			}
		})
	}
}

func TestListTagged_FollowsPostChanges(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int, cats ...any) *micropubd.Post {
		p := &micropubd.Post{Path: fmt.Sprintf("2026/01/p%d", i), Type: "entry", PostType: "note", Status: "published",
			Visibility: "public", Properties: micropubd.Properties{"category": cats}, Published: base.Add(time.Duration(i) * time.Hour)}
		if err := db.CreatePost(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i := 1; i <= 3; i++ {
		mk(i, "go")
	}
	mk(4, "other")
	paths := func() []string {
		posts, err := db.ListTagged(ctx, "go", nil, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range posts {
			out = append(out, p.Path)
		}
		return out
	}
	steps := []struct {
		name   string
		change func(*micropubd.Post)
		path   string
		want   string
	}{
		{"newest first", nil, "", "2026/01/p3 2026/01/p2 2026/01/p1"},
		{"a draft leaves the tag", func(p *micropubd.Post) { p.Status = "draft" }, "2026/01/p2", "2026/01/p3 2026/01/p1"},
		{"published again it comes back", func(p *micropubd.Post) { p.Status = "published" }, "2026/01/p2", "2026/01/p3 2026/01/p2 2026/01/p1"},
		{"a deleted post leaves", func(p *micropubd.Post) { p.Deleted = base }, "2026/01/p3", "2026/01/p2 2026/01/p1"},
		{"an unlisted post is not listed", func(p *micropubd.Post) { p.Visibility = "unlisted" }, "2026/01/p1", "2026/01/p2"},
		{"a new date reorders", func(p *micropubd.Post) { p.Visibility = "public"; p.Published = base.Add(100 * time.Hour) }, "2026/01/p1", "2026/01/p1 2026/01/p2"},
		{"a removed category leaves", func(p *micropubd.Post) { p.Properties["category"] = []any{"other"} }, "2026/01/p2", "2026/01/p1"},
	}
	for _, s := range steps {
		if s.change != nil {
			if _, err := db.UpdatePost(ctx, s.path, func(p *micropubd.Post) error { s.change(p); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if got := strings.Join(paths(), " "); got != s.want {
			t.Errorf("%s: tag go = %s, want %s", s.name, got, s.want)
		}
	}
}

func TestSiteChanged_MovesWithEveryWrite(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	last, err := db.SiteChanged(ctx)
	if err != nil {
		t.Fatal(err)
	}
	writes := []struct {
		name string
		do   func() error
	}{
		{"create", func() error {
			return db.CreatePost(ctx, &micropubd.Post{Path: "2026/01/a", Type: "entry", PostType: "note", Status: "published",
				Visibility: "public", Properties: micropubd.Properties{}, Published: time.Now()})
		}},
		{"update", func() error {
			_, err := db.UpdatePost(ctx, "2026/01/a", func(p *micropubd.Post) error { p.Deleted = time.Now(); return nil })
			return err
		}},
		{"setting", func() error { return db.SetSetting(ctx, "site_name", "New name") }},
	}
	for _, w := range writes {
		time.Sleep(2 * time.Millisecond)
		if err := w.do(); err != nil {
			t.Fatal(err)
		}
		now, err := db.SiteChanged(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !now.After(last) {
			t.Errorf("%s: changed_at %v did not move past %v", w.name, now, last)
		}
		last = now
	}
}

func TestQueueSends_AnUnchangedPostIsNeverQueuedTwice(t *testing.T) {
	db := openTest(t, t.TempDir())
	ctx := context.Background()
	p := &micropubd.Post{Path: "2026/01/a", Type: "entry", PostType: "note", Status: "published", Visibility: "public",
		Properties: micropubd.Properties{}, Published: time.Now()}
	if err := db.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	state := func() string {
		list, err := db.SentWebmentions(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			out = append(out, s.Target+" "+s.Version+" "+s.Status)
		}
		return strings.Join(out, ", ")
	}
	send := func(version string, targets ...string) {
		if err := db.QueueSends(ctx, p.ID, "https://me.example/2026/01/a", version, targets, now); err != nil {
			t.Fatal(err)
		}
	}
	markSent := func() {
		list, _ := db.SentWebmentions(ctx, p.ID)
		for _, s := range list {
			s.Status = micropubd.SendSent
			if err := db.SaveSend(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"queued", func() { send("v1", "https://a.example/", "https://b.example/") }, "https://a.example/ v1 pending, https://b.example/ v1 pending"},
		{"sent", markSent, "https://a.example/ v1 sent, https://b.example/ v1 sent"},
		{"the same version again changes nothing", func() { send("v1", "https://a.example/", "https://b.example/") }, "https://a.example/ v1 sent, https://b.example/ v1 sent"},
		{"a new version sends again, also to a removed link", func() { send("v2", "https://a.example/", "https://c.example/") },
			"https://a.example/ v2 pending, https://b.example/ v2 pending, https://c.example/ v2 pending"},
		{"an outcome saved for an older version is not kept", func() {
			list, _ := db.SentWebmentions(ctx, p.ID)
			list[0].Version, list[0].Status = "v1", micropubd.SendSent
			db.SaveSend(ctx, list[0])
		}, "https://a.example/ v2 pending, https://b.example/ v2 pending, https://c.example/ v2 pending"},
	}
	for _, s := range steps {
		s.do()
		if got := state(); got != s.want {
			t.Errorf("%s: %s, want %s", s.name, got, s.want)
		}
	}
}
