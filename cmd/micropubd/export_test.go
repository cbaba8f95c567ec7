package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/storage"
)

// siteContent is what an export must carry: each post with its path, former paths, type,
// properties, status, visibility, times and deletion, and each upload with its bytes.
type siteContent struct {
	Posts map[string]string
	Media map[string]string
}

func contentOf(t *testing.T, db *storage.DB, base string) siteContent {
	t.Helper()
	c := siteContent{Posts: map[string]string{}, Media: map[string]string{}}
	err := db.Export(context.Background(), func(p *micropubd.Post, former []string) error {
		props, _ := json.Marshal(p.Properties)
		props = bytes.ReplaceAll(props, []byte(base), []byte("BASE/"))
		c.Posts[p.Path] = strings.Join([]string{p.Type, p.PostType, p.Status, p.Visibility, p.Published.String(),
			p.Updated.String(), p.Deleted.String(), strings.Join(former, ","), strings.Join(p.SyndicateTo, ","), string(props)}, " | ")
		return nil
	}, func(m *micropubd.Media) error {
		b, _ := os.ReadFile(filepath.Join(db.Dir(), "media", m.Name))
		c.Media[m.Name] = strings.Join([]string{m.MIMEType, m.Alt, m.Created.String(), string(b)}, " | ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExport_ImportIntoAnEmptySiteKeepsEveryPostAndURL(t *testing.T) {
	src := newNotesServer(t)
	if err := recordSite(context.Background(), src.db, mustURL(t, src.base), "Test Owner"); err != nil { // as serve does
		t.Fatal(err)
	}
	posts := fillSite(t, src)
	exported := filepath.Join(t.TempDir(), "export")
	out, err := runCommand(t, "export", "--data", src.db.Dir(), "--out", exported)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "11 posts and 1 upload") {
		t.Errorf("export said: %s", out)
	}
	lines, _ := os.ReadFile(filepath.Join(exported, "posts.jsonl"))
	for i, line := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		var mf2 struct {
			Type       []string       `json:"type"`
			Properties map[string]any `json:"properties"`
			URL        string         `json:"url"`
		}
		if err := json.Unmarshal(line, &mf2); err != nil || len(mf2.Type) != 1 || mf2.URL == "" {
			t.Errorf("line %d is not a microformats2 item with its URL: %s", i+1, line)
		}
	}
	want := contentOf(t, src.db, src.base)

	t.Run("at the same address", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "same")
		if _, err := runCommand(t, "import", "--data", dir, "--in", exported); err != nil {
			t.Fatal(err)
		}
		db, err := storage.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if diff := cmp.Diff(want, contentOf(t, db, src.base)); diff != "" {
			t.Errorf("the imported site differs (-exported +imported):\n%s", diff)
		}
		if url, _ := db.Setting(context.Background(), settingURL); url != src.base {
			t.Errorf("recorded URL %q, want the export's %q", url, src.base)
		}
	})

	t.Run("at a new address, served", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "moved")
		dst := newTestServerOn(t, dir)
		if _, err := runCommand(t, "import", "--data", dir, "--in", exported, "--url", dst.base); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, contentOf(t, dst.db, dst.base)); diff != "" {
			t.Errorf("the imported site differs (-exported +imported):\n%s", diff)
		}
		for _, old := range posts {
			moved := strings.Replace(old, src.base, dst.base, 1)
			wantResp, wantBody := src.get(old, src.token)
			resp, body := dst.get(moved, dst.token)
			if resp.StatusCode != wantResp.StatusCode {
				t.Errorf("%s: %d, was %d at %s", moved, resp.StatusCode, wantResp.StatusCode, old)
				continue
			}
			if loc := resp.Header.Get("Location"); loc != strings.Replace(wantResp.Header.Get("Location"), src.base, dst.base, 1) {
				t.Errorf("%s redirects to %q", moved, loc)
			}
			if resp.StatusCode == http.StatusOK && !bytes.Equal(bytes.ReplaceAll(wantBody, []byte(src.base), []byte(dst.base)), body) {
				t.Errorf("%s: the page differs from the exported site's", moved)
			}
		}
		if _, err := runCommand(t, "import", "--data", dir, "--in", exported, "--url", dst.base); err == nil || !strings.Contains(err.Error(), "import into an empty site") {
			t.Errorf("a second import: %v", err)
		}
	})
}
