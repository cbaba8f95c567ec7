package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/micropubd/micropubd/notes"
	"github.com/micropubd/micropubd/notes/notesclient"
)

// notesEdit is notes edit ID: the note, decrypted into a temporary file only its owner can
// read, is opened in $EDITOR (default vi) and saved if it changed: encrypted again, or in
// plain text for a shared note, as the API wants it. The file is removed, unless the edited
// text could not be saved: then it is kept, and named, so that no edit is lost.
func notesEdit(ctx context.Context, r *notesRun) error {
	n, text, err := r.noteText(ctx)
	if err != nil {
		return err
	}
	path, err := writeTempNote(n.ID, text)
	if err != nil {
		return err
	}
	if err := runEditor(ctx, r, path); err != nil {
		os.Remove(path)
		return err
	}
	saved, err := saveEdited(ctx, r, n, text, path)
	if err != nil {
		return fmt.Errorf("%w; your text is kept in %s (remove it when you are done)", err, path)
	}
	os.Remove(path)
	if saved {
		fmt.Fprintf(r.stdout, "note %d saved\n", n.ID)
	} else {
		fmt.Fprintf(r.stdout, "note %d is unchanged\n", n.ID)
	}
	return nil
}

// saveEdited saves the text of the file if it is not the note's text as it was read, and
// the note is still as it was then.
func saveEdited(ctx context.Context, r *notesRun, n *notes.NoteItem, text, path string) (saved bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	edited, err := readNoteText(f, "the edited note")
	f.Close()
	if err != nil {
		return false, err
	}
	// Editors such as vi end the file with a newline even when nothing was typed.
	if edited == text || edited == text+"\n" && !strings.HasSuffix(text, "\n") {
		return false, nil
	}
	now, err := r.client.Note(ctx, n.ID)
	if err != nil {
		return false, err
	}
	if now.ContentText != n.ContentText || now.Microblog.IsShared != n.Microblog.IsShared {
		return false, fmt.Errorf("note %d was changed elsewhere while you edited it, so your text was not saved", n.ID)
	}
	save := notesclient.NoteSave{ID: n.ID, Text: edited, Encrypted: !n.Microblog.IsShared}
	if save.Encrypted {
		if save.Text, err = r.encrypt(edited, "the edited note"); err != nil {
			return false, err
		}
	}
	if _, err := r.client.SaveNote(ctx, save); err != nil {
		return false, err
	}
	return true, nil
}

// writeTempNote writes a note's plain text to a new temporary file of mode 0600.
func writeTempNote(id int64, text string) (string, error) {
	f, err := os.CreateTemp("", fmt.Sprintf("micropubd-note-%d-*.md", id))
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Chmod(0o600) // CreateTemp's mode already; said again because it matters
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write the note to a temporary file: %w", err)
	}
	return f.Name(), nil
}

// runEditor opens $EDITOR (which may carry arguments, as in "code --wait"; default vi) on the
// file, on the command's terminal.
func runEditor(ctx context.Context, r *notesRun, path string) error {
	editor := strings.Fields(os.Getenv("EDITOR"))
	if len(editor) == 0 {
		editor = []string{"vi"}
	}
	cmd := exec.CommandContext(ctx, editor[0], append(editor[1:], path)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.stdin, r.stdout, r.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the editor (%s) failed, so nothing was saved: %w", strings.Join(editor, " "), err)
	}
	return nil
}
