package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/micropubd/micropubd/notes/notesclient"
)

// What the notes sub-commands say when something is wrong, and that they change nothing then.

// markdownFolder writes a folder of Markdown files to import.
func markdownFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNotesCLI_WrongKeyChangesNothing(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	nb := srv.newNotebook(t, "Ideas")
	private := srv.newNote(t, nb.ID, "private")
	shared := srv.newNote(t, nb.ID, "shared")
	srv.saveNote(t, map[string][]string{"id": {id(shared.ID)}, "text": {"shared"}, "is_sharing": {"true"}})
	empty := srv.newNotebook(t, "Empty")
	folder := markdownFolder(t, map[string]string{"1-a.md": "a", "2-b.md": "b"})
	exportDir := filepath.Join(t.TempDir(), "export")
	other, _ := notesclient.GenerateKey()
	t.Setenv("MICROPUBD_NOTES_KEY", other.String())
	t.Setenv("EDITOR", editorScript(t, `echo more >> "$1"`))
	before := srv.serverNotes(t)

	for _, args := range [][]string{
		{"cat", id(private.ID)},
		{"ls", "Ideas"},
		{"edit", id(private.ID)},
		{"share", id(private.ID)},
		{"unshare", id(shared.ID)},     // re-encrypting is checked against the other notes
		{"add", "Ideas"},               // so is adding
		{"add", "Empty"},               // … in the other notebooks when this one has none
		{"export", "Ideas", exportDir}, // nothing is written
		{"import", folder, "--notebook", id(empty.ID)},
		{"import", folder, "--notebook", "New"}, // no notebook is made
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, err := notesCLI("a new note", args...)
			if err == nil || !strings.Contains(err.Error(), "the key does not match") || !strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("err = %v, want one saying the key does not match and nothing was changed", err)
			}
			if after := srv.serverNotes(t); after != before {
				t.Errorf("the server changed:\n%s\nwas\n%s", after, before)
			}
			if _, err := os.Stat(exportDir); !os.IsNotExist(err) {
				t.Errorf("export wrote %s", exportDir)
			}
		})
	}
}

func TestNotesCLI_UnreachableServerIsNamed(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	t.Setenv("MICROPUBD_URL", closed)
	for _, args := range [][]string{{"ls"}, {"cat", "1"}, {"add", "Ideas"}, {"share", "1"}} {
		_, err := notesCLI("text", args...)
		if err == nil || !strings.Contains(err.Error(), "cannot reach the notes server at "+closed) {
			t.Errorf("notes %v: %v, want an error naming %s", args, err, closed)
		}
	}
}

func TestNotesCLI_TokenWithoutTheNotesScopeIsExplained(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	nb := srv.newNotebook(t, "Ideas")
	n := srv.newNote(t, nb.ID, "text")
	folder := markdownFolder(t, map[string]string{"a.md": "a"})
	before := srv.serverNotes(t)
	for _, c := range []struct{ name, token, status string }{
		{"a posting token", srv.token, "403 Forbidden"},
		{"an unknown token", "mpd_not_a_token", "401 Unauthorized"},
	} {
		t.Setenv("MICROPUBD_NOTES_TOKEN", c.token)
		for _, args := range [][]string{{"ls"}, {"cat", id(n.ID)}, {"add", "Ideas"}, {"import", folder}, {"unshare", id(n.ID)}} {
			_, err := notesCLI("text", args...)
			if err == nil || !strings.Contains(err.Error(), c.status) || !strings.Contains(err.Error(), "the token needs the notes scope") {
				t.Errorf("%s, notes %v: %v", c.name, args, err)
			}
		}
	}
	if after := srv.serverNotes(t); after != before {
		t.Errorf("the server changed:\n%s\nwas\n%s", after, before)
	}
}

func TestNotesCLI_MistakesAreSaidInWords(t *testing.T) {
	srv := newNotesServer(t)
	srv.useCLI(t)
	nb := srv.newNotebook(t, "Ideas")
	srv.newNotebook(t, "Twice")
	srv.newNotebook(t, "twice")
	srv.newNotebook(t, "Twice")
	folder := markdownFolder(t, map[string]string{"a.md": "a"})
	before := srv.serverNotes(t)
	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"cat", "999"}, "", "there is no note 999 (404 Not Found)"},
		{[]string{"edit", "999"}, "", "there is no note 999"},
		{[]string{"share", "999"}, "", "there is no note 999"},
		{[]string{"ls", "Nope"}, "", `no notebook "Nope"; the notebooks are: Ideas (` + id(nb.ID) + `), Twice`},
		{[]string{"add", "Nope"}, "text", `no notebook "Nope"`},
		{[]string{"add", "Twice"}, "text", `2 notebooks are named "Twice": give the id of one`},
		{[]string{"add", "Ideas"}, " \n", "nothing to add: the text on stdin is empty"},
		{[]string{"export", "Nope", t.TempDir()}, "", `no notebook "Nope"`},
		{[]string{"import", folder, "--notebook", "999"}, "", `no notebook "999"`},
		{[]string{"import", t.TempDir(), "--notebook", "Ideas"}, "", "there are no Markdown files"},
		{[]string{"import", folder, "--notebook", strings.Repeat("n", 201)}, "", "a notebook name has at most 200 bytes (400 Bad Request)"},
		{[]string{"ls", "--server", srv.base + "elsewhere/"}, "", "404 Not Found"},
		{[]string{"frobnicate"}, "", `unknown command "frobnicate"`},
	} {
		_, err := notesCLI(c.stdin, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("notes %v: %v, want %q", c.args, err, c.want)
		}
	}
	if after := srv.serverNotes(t); after != before {
		t.Errorf("the server changed:\n%s\nwas\n%s", after, before)
	}
	var f jsonFeed[noteItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks/"+id(nb.ID), nil), &f)
	if len(f.Items) != 0 {
		t.Errorf("notes were added: %+v", f.Items)
	}
}
