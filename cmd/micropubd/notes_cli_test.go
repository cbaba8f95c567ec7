package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/micropubd/micropubd/notes/notesclient"
)

// The notes sub-commands that talk to a server, run as a user runs them (the command function
// with arguments, stdin and stdout) against a real server on a real SQLite file.

// useCLI points the notes sub-commands at the server with its notes token and key, through the
// environment, and gives them a temporary folder of their own.
func (s *notesServer) useCLI(t *testing.T) (tmp string) {
	t.Helper()
	t.Setenv("MICROPUBD_URL", s.base)
	t.Setenv("MICROPUBD_NOTES_TOKEN", s.notesToken)
	t.Setenv("MICROPUBD_NOTES_KEY", s.key.String())
	t.Setenv("EDITOR", "false") // a test that needs an editor sets one
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// notesCLI runs micropubd notes ARGS with stdin and returns what it printed on stdout.
func notesCLI(stdin string, args ...string) (string, error) {
	var out bytes.Buffer
	err := notesCommand(context.Background(), args, strings.NewReader(stdin), &out, &bytes.Buffer{})
	return out.String(), err
}

// mustCLI runs the command and fails the test if it fails.
func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := notesCLI(stdin, args...)
	if err != nil {
		t.Fatalf("notes %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// editorScript writes a shell script to use as $EDITOR and returns the EDITOR value.
func editorScript(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o600); err != nil {
		t.Fatal(err)
	}
	return "sh " + path
}

// serverNotes describes every note on the server as stored, to see that a failed command
// changed nothing.
func (s *notesServer) serverNotes(t *testing.T) string {
	t.Helper()
	var f jsonFeed[notebookItem]
	decodeStrict(t, s.callOK(t, http.MethodGet, "notes/notebooks", nil), &f)
	var b strings.Builder
	for _, nb := range f.Items {
		fmt.Fprintf(&b, "notebook %d %q\n", nb.ID, nb.Name)
		for _, n := range s.listNotes(t, nb.ID, "?count=1000") {
			fmt.Fprintf(&b, "  note %d %s encrypted=%v shared=%q %q\n", n.ID, n.DateModified, n.Microblog.IsEncrypted, n.Microblog.SharedURL, n.ContentText)
		}
	}
	return b.String()
}

func TestNotesCLI_AddCatAndList(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	ideas := srv.newNotebook(t, "Ideas")
	srv.newNotebook(t, "Evil\x1b[2J name")

	text := "# Shopping list\n\nBuy milk #errands\n"
	out := mustCLI(t, text, "add", "Ideas")
	var noteID int64
	if _, err := fmt.Sscanf(out, "%d\n", &noteID); err != nil || out != id(noteID)+"\n" {
		t.Fatalf("add printed %q, want the new note's id alone", out)
	}
	stored := srv.note(t, noteID)
	if !stored.Microblog.IsEncrypted || stored.Microblog.NotebookID != ideas.ID || strings.Contains(stored.ContentText, "milk") {
		t.Fatalf("stored %+v: want ciphertext in notebook %d", stored, ideas.ID)
	}
	if got := srv.decrypt(t, stored.ContentText); got != text {
		t.Errorf("the server's ciphertext decrypts to %q, want %q", got, text)
	}
	second := strings.TrimSpace(mustCLI(t, "Call the bank", "add", id(ideas.ID))) // by id
	third := strings.TrimSpace(mustCLI(t, "\n  third one", "add", "ideas"))       // by name in any case

	if got := mustCLI(t, "", "cat", id(noteID)); got != text {
		t.Errorf("cat printed %q, want the text exactly: %q", got, text)
	}

	list := mustCLI(t, "", "ls")
	if !regexp.MustCompile(`(?m)^ID +NOTEBOOK\n` + id(ideas.ID) + ` +Ideas$`).MatchString(list) {
		t.Errorf("ls:\n%s", list)
	}
	if strings.ContainsRune(list, '\x1b') || !strings.Contains(list, "Evil [2J name") {
		t.Errorf("ls printed a control character from a notebook name:\n%q", list)
	}

	// Newest modified first, the first line as title, the modification time in local time.
	list = mustCLI(t, "", "ls", "Ideas")
	date := testNow.Local().Format("2006-01-02") + ` \d\d:\d\d`
	want := `^ID +MODIFIED +TITLE +SHARED\n` +
		third + ` +` + date + ` +third one *\n` +
		second + ` +` + date + ` +Call the bank *\n` +
		id(noteID) + ` +` + date + ` +Shopping list *\n$`
	if !regexp.MustCompile(want).MatchString(list) {
		t.Errorf("ls Ideas:\n%s\nwant it to match %s", list, want)
	}
}

func TestNotesCLI_FlagsInsteadOfTheEnvironment(t *testing.T) {
	srv := newNotesServer(t)
	srv.newNotebook(t, "Work")
	dir := t.TempDir()
	tokenFile, keyFile := filepath.Join(dir, "token"), filepath.Join(dir, "key")
	os.WriteFile(tokenFile, []byte(srv.notesToken+"\n"), 0o600)
	os.WriteFile(keyFile, []byte(srv.key.String()+"\n"), 0o600)
	t.Setenv("MICROPUBD_URL", "http://127.0.0.1:1/") // the flags win over the environment
	t.Setenv("MICROPUBD_NOTES_TOKEN", "")
	t.Setenv("MICROPUBD_NOTES_KEY", "")

	// Flags may come before or after the arguments.
	out := mustCLI(t, "from flags", "add", "--server", strings.TrimSuffix(srv.base, "/"), "--token-file", tokenFile, "Work", "--key-file", keyFile)
	if got := mustCLI(t, "", "cat", strings.TrimSpace(out), "--server", srv.base, "--token-file", tokenFile, "--key-file", keyFile); got != "from flags" {
		t.Errorf("cat printed %q", got)
	}
	if _, err := notesCLI("", "ls", "--server", srv.base); err == nil || !strings.Contains(err.Error(), "MICROPUBD_NOTES_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	if _, err := notesCLI("", "cat", "1", "--server", srv.base, "--token-file", tokenFile); err == nil || !strings.Contains(err.Error(), "MICROPUBD_NOTES_KEY") {
		t.Errorf("no key: %v", err)
	}
	for _, args := range [][]string{
		{"ls", "--server", "ftp://example.com/", "--token-file", tokenFile},
		{"cat", "--server", srv.base, "--token-file", tokenFile},
		{"cat", "x", "--server", srv.base, "--token-file", tokenFile},
		{"export", "Work", "--server", srv.base, "--token-file", tokenFile},
		{"ls", "--token", srv.notesToken},
	} {
		if _, err := notesCLI("", args...); err == nil {
			t.Errorf("notes %v ran", args)
		}
	}
}

func TestNotesCLI_EditSavesWhatTheEditorChanged(t *testing.T) {
	srv := newNotesServer(t)
	tmp := srv.useCLI(t)
	nb := srv.newNotebook(t, "Ideas")
	modeFile := filepath.Join(t.TempDir(), "mode")
	appendLine := editorScript(t, `stat -c %a "$1" > "`+modeFile+`"`+"\nprintf 'added in the editor\\n' >> \"$1\"\n")
	empty := func() {
		t.Helper()
		if left, _ := filepath.Glob(filepath.Join(tmp, "micropubd-note-*")); len(left) != 0 {
			t.Errorf("the temporary file was left behind: %v", left)
		}
	}

	t.Run("a private note is encrypted again", func(t *testing.T) {
		n := srv.newNote(t, nb.ID, "# Plan\n")
		t.Setenv("EDITOR", appendLine)
		if out := mustCLI(t, "", "edit", id(n.ID)); out != fmt.Sprintf("note %d saved\n", n.ID) {
			t.Errorf("edit printed %q", out)
		}
		if mode, _ := os.ReadFile(modeFile); string(mode) != "600\n" {
			t.Errorf("the editor saw a file of mode %q, want 600", mode)
		}
		got := srv.note(t, n.ID)
		if !got.Microblog.IsEncrypted || srv.decrypt(t, got.ContentText) != "# Plan\nadded in the editor\n" {
			t.Errorf("saved %+v", got)
		}
		empty()
	})
	t.Run("an unchanged note is not saved", func(t *testing.T) {
		n := srv.newNote(t, nb.ID, "no newline at the end")
		for _, editor := range []string{"true", editorScript(t, `printf '\n' >> "$1"`)} { // vi adds the newline
			t.Setenv("EDITOR", editor)
			if out := mustCLI(t, "", "edit", id(n.ID)); out != fmt.Sprintf("note %d is unchanged\n", n.ID) {
				t.Errorf("%s: edit printed %q", editor, out)
			}
		}
		if got := srv.note(t, n.ID); got.DateModified != n.DateModified || got.ContentText != n.ContentText {
			t.Errorf("an unchanged note was saved: %+v", got)
		}
		empty()
	})
	t.Run("a failing editor saves nothing", func(t *testing.T) {
		n := srv.newNote(t, nb.ID, "keep me")
		t.Setenv("EDITOR", editorScript(t, `echo changed > "$1"; exit 1`))
		if _, err := notesCLI("", "edit", id(n.ID)); err == nil || !strings.Contains(err.Error(), "nothing was saved") {
			t.Errorf("edit: %v", err)
		}
		if got := srv.note(t, n.ID); got.ContentText != n.ContentText {
			t.Errorf("a failed edit was saved")
		}
		empty()
	})
	t.Run("a shared note is saved in plain text and its page follows", func(t *testing.T) {
		n := srv.newNote(t, nb.ID, "# Trip\n")
		sharedURL := strings.TrimSpace(mustCLI(t, "", "share", id(n.ID)))
		t.Setenv("EDITOR", appendLine)
		mustCLI(t, "", "edit", id(n.ID))
		got := srv.note(t, n.ID)
		if got.Microblog.IsEncrypted || got.ContentText != "# Trip\nadded in the editor\n" || got.Microblog.SharedURL != sharedURL {
			t.Errorf("saved %+v", got)
		}
		if resp, page := srv.get(sharedURL, ""); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("added in the editor")) {
			t.Errorf("the shared page: %d %s", resp.StatusCode, page)
		}
		empty()
	})
	t.Run("a note changed elsewhere meanwhile is not overwritten", func(t *testing.T) {
		n := srv.newNote(t, nb.ID, "first")
		signals := t.TempDir()
		t.Setenv("EDITOR", editorScript(t, fmt.Sprintf(`printf 'mine\n' > "$1"; touch %[1]s/editing
while [ ! -e %[1]s/go ]; do sleep 0.05; done
`, signals)))
		done := make(chan error, 1)
		go func() {
			_, err := notesCLI("", "edit", id(n.ID))
			done <- err
		}()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(signals, "editing")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the editor did not start")
			}
		}
		srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {srv.encrypt(t, "theirs")}, "is_encrypted": {"true"}})
		os.WriteFile(filepath.Join(signals, "go"), nil, 0o600)
		err := <-done
		if err == nil || !strings.Contains(err.Error(), "changed elsewhere") {
			t.Fatalf("edit: %v", err)
		}
		if got := srv.decrypt(t, srv.note(t, n.ID).ContentText); got != "theirs" {
			t.Errorf("the other edit was overwritten: %q", got)
		}
		kept := regexp.MustCompile(`your text is kept in (.+) \(remove it`).FindStringSubmatch(err.Error())
		if kept == nil {
			t.Fatalf("the error does not say where the text is: %v", err)
		}
		if b, _ := os.ReadFile(kept[1]); string(b) != "mine\n" {
			t.Errorf("the kept file holds %q", b)
		}
		os.Remove(kept[1])
	})
}

func TestNotesCLI_ShareAndUnshare(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	nb := srv.newNotebook(t, "Ideas")
	text := "# Shared thoughts\n\nOn *sharing* #notes\n"
	n := srv.newNote(t, nb.ID, text)

	sharedURL := strings.TrimSpace(mustCLI(t, "", "share", id(n.ID)))
	if !strings.HasPrefix(sharedURL, srv.base+"s/") {
		t.Fatalf("share printed %q, want the shared URL", sharedURL)
	}
	if resp, page := srv.get(sharedURL, ""); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("<em>sharing</em>")) {
		t.Fatalf("the shared page: %d %s", resp.StatusCode, page)
	}
	if again := strings.TrimSpace(mustCLI(t, "", "share", id(n.ID))); again != sharedURL {
		t.Errorf("sharing again gave %q, want %q", again, sharedURL)
	}
	if list := mustCLI(t, "", "ls", "Ideas"); !regexp.MustCompile(`Shared thoughts +` + regexp.QuoteMeta(sharedURL)).MatchString(list) {
		t.Errorf("ls does not show the shared URL:\n%s", list)
	}
	if got := mustCLI(t, "", "cat", id(n.ID)); got != text {
		t.Errorf("cat of a shared note printed %q", got)
	}

	if out := mustCLI(t, "", "unshare", id(n.ID)); !strings.Contains(out, "private again") {
		t.Errorf("unshare printed %q", out)
	}
	if resp, _ := srv.get(sharedURL, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("after unsharing the page answers %d, want 410", resp.StatusCode)
	}
	got := srv.note(t, n.ID)
	if !got.Microblog.IsEncrypted || got.Microblog.IsShared || srv.decrypt(t, got.ContentText) != text {
		t.Errorf("after unsharing the note is %+v", got)
	}
	if out := mustCLI(t, "", "unshare", id(n.ID)); out != fmt.Sprintf("note %d is not shared\n", n.ID) {
		t.Errorf("unsharing a private note printed %q", out)
	}
}

func TestNotesCLI_ExportThenImportGivesTheSameTexts(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	nb := srv.newNotebook(t, "Journal")
	texts := []string{
		"# Café au lait\n\nRecipe: **milk** and coffee.\n",
		"\n\n  plain first line after blank lines",
		"- [ ] a task\n- [x] done\n",
		"#!?\n", // nothing to make a slug from
		"",      // an empty note
		"日本 trip\n",
	}
	var ids []int64
	for _, text := range texts {
		ids = append(ids, srv.newNote(t, nb.ID, text).ID)
	}
	mustCLI(t, "", "share", id(ids[2])) // a shared note is exported as its plain text too

	dir := filepath.Join(t.TempDir(), "Journal copy")
	out := mustCLI(t, "", "export", "Journal", dir)
	wantNames := []string{
		id(ids[0]) + "-cafe-au-lait.md", id(ids[1]) + "-plain-first-line-after-blank-lines.md", id(ids[2]) + "-a-task.md",
		id(ids[3]) + ".md", id(ids[4]) + ".md", id(ids[5]) + "-ri-ben-trip.md",
	}
	var wantOut string
	for i, name := range wantNames {
		path := filepath.Join(dir, name)
		wantOut += path + "\n"
		b, err := os.ReadFile(path)
		if err != nil || string(b) != texts[i] {
			t.Errorf("%s holds %q (%v), want %q", name, b, err, texts[i])
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v %v, want 0600", name, fi.Mode(), err)
		}
	}
	if out != wantOut {
		t.Errorf("export printed\n%s\nwant\n%s", out, wantOut)
	}

	// Import into a new notebook named as the folder (the default), then into an existing one.
	out = mustCLI(t, "", "import", dir)
	if !strings.Contains(out, `made notebook Journal copy`) || !strings.Contains(out, "imported 6 notes into notebook Journal copy") {
		t.Errorf("import printed:\n%s", out)
	}
	mustCLI(t, "", "import", dir, "--notebook", "Journal")

	var all jsonFeed[notebookItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks", nil), &all)
	if len(all.Items) != 2 || all.Items[1].Name != "Journal copy" {
		t.Fatalf("notebooks %+v", all.Items)
	}
	for _, c := range []struct {
		notebook int64
		want     []string
	}{
		{all.Items[1].ID, texts},
		{nb.ID, append(slices.Clone(texts), texts...)},
	} {
		var got []string
		// Imported in the order of the ids in the file names: newest created is the last file.
		for _, n := range slices.Backward(srv.listNotes(t, c.notebook, "?sort=created")) {
			if !n.Microblog.IsEncrypted && !n.Microblog.IsShared {
				t.Errorf("note %d was stored in plain text", n.ID)
			}
			if n.Microblog.IsEncrypted {
				got = append(got, srv.decrypt(t, n.ContentText))
			} else {
				got = append(got, n.ContentText)
			}
		}
		if c.notebook == nb.ID {
			slices.Sort(got)
			slices.Sort(c.want)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("notebook %d holds %q, want %q", c.notebook, got, c.want)
		}
	}
}

func TestNotesClient_AllNotesPagesUntilAShortPage(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Many")
	var want []int64
	for i := range 7 {
		want = append(want, srv.newNote(t, nb.ID, fmt.Sprint("note ", i)).ID)
	}
	base, _ := url.Parse(srv.base)
	for _, size := range []int{1, 2, 7, 100} {
		c := &notesclient.Client{BaseURL: base, Token: srv.notesToken, PageSize: size}
		list, err := c.AllNotes(context.Background(), nb.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, n := range list {
			got = append(got, n.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("page size %d: %v, want every note oldest first: %v", size, got, want)
		}
	}
}
