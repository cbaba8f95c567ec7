package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/micropubd/micropubd/notes"
	"github.com/micropubd/micropubd/notes/notesclient"
)

// What the notes sub-commands that talk to a server share: finding notebooks and notes,
// checking the key, and turning text into titles.

// errNoNotebook is a notebook id or name that names none.
var errNoNotebook = errors.New("no notebook")

// findNotebook finds a notebook by id, else by name: exactly, else ignoring case.
func findNotebook(ctx context.Context, c *notesclient.Client, ref string) (*notes.NotebookItem, error) {
	all, err := c.Notebooks(ctx)
	if err != nil {
		return nil, err
	}
	ref = strings.TrimSpace(ref)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		for i := range all {
			if all[i].ID == id {
				return &all[i], nil
			}
		}
	}
	for _, same := range []func(a, b string) bool{func(a, b string) bool { return a == b }, strings.EqualFold} {
		var found []notes.NotebookItem
		for _, nb := range all {
			if same(nb.Name, ref) {
				found = append(found, nb)
			}
		}
		if len(found) == 1 {
			return &found[0], nil
		}
		if len(found) > 1 {
			return nil, fmt.Errorf("%d notebooks are named %q: give the id of one (%s)", len(found), ref, notebookList(found))
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w %q: there are no notebooks yet", errNoNotebook, ref)
	}
	return nil, fmt.Errorf("%w %q; the notebooks are: %s", errNoNotebook, ref, notebookList(all))
}

func notebookList(list []notes.NotebookItem) string {
	names := make([]string, len(list))
	for i, nb := range list {
		names[i] = fmt.Sprintf("%s (%d)", printable(nb.Name), nb.ID)
	}
	return strings.Join(names, ", ")
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return err == nil
}

// note fetches the note the command's first argument names.
func (r *notesRun) note(ctx context.Context) (*notes.NoteItem, error) {
	id, err := strconv.ParseInt(r.args[0], 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("a note's id is a positive whole number (see notes ls NOTEBOOK), not %q", r.args[0])
	}
	return r.client.Note(ctx, id)
}

// noteText fetches the note the command's first argument names, and its plain text.
func (r *notesRun) noteText(ctx context.Context) (*notes.NoteItem, string, error) {
	n, err := r.note(ctx)
	if err != nil {
		return nil, "", err
	}
	text, err := r.plainText(n)
	return n, text, err
}

// plainText returns a note's text: decrypted, or as it is when the note is shared.
func (r *notesRun) plainText(n *notes.NoteItem) (string, error) {
	if !n.Microblog.IsEncrypted {
		return n.ContentText, nil
	}
	key, err := r.notesKey()
	if err != nil {
		return "", err
	}
	text, err := notesclient.Decrypt(key, n.ContentText)
	if err != nil {
		return "", decryptError(n.ID, err)
	}
	return text, nil
}

// wrongKeyError is a note the key does not open.
type wrongKeyError struct {
	noteID int64
	err    error
}

func (e *wrongKeyError) Error() string {
	return fmt.Sprintf("the key does not match the one the notes were encrypted with: note %d cannot be decrypted with it "+
		"(check MICROPUBD_NOTES_KEY or --key-file); nothing was changed", e.noteID)
}

func (e *wrongKeyError) Unwrap() error { return e.err }

func decryptError(noteID int64, err error) error {
	if errors.Is(err, notesclient.ErrWrongKey) {
		return &wrongKeyError{noteID, err}
	}
	return fmt.Errorf("note %d: %w", noteID, err)
}

// encrypt encrypts a note's text, refusing one the server would not take.
func (r *notesRun) encrypt(text, what string) (string, error) {
	key, err := r.notesKey()
	if err != nil {
		return "", err
	}
	c, err := notesclient.Encrypt(key, text)
	if err != nil {
		return "", err
	}
	if len(c) > notes.MaxText {
		return "", fmt.Errorf("%s is too long for a note: encrypted it takes %d bytes, and a note holds %d", what, len(c), notes.MaxText)
	}
	return c, nil
}

// checkKey makes sure the key opens the notes already on the server before anything encrypted
// with it is stored there: notes under two keys would leave some unreadable in every other
// client. It decrypts the first encrypted note it finds, looking in the notebook given first
// (0: none) and then in the others; a server without one has nothing to check against.
func (r *notesRun) checkKey(ctx context.Context, notebookID int64) error {
	key, err := r.notesKey()
	if err != nil {
		return err
	}
	check := func(id int64) (found bool, err error) {
		page, err := r.client.Notes(ctx, id, notesclient.Page{Count: 20})
		if err != nil {
			return false, err
		}
		for _, n := range page {
			if n.Microblog.IsEncrypted {
				if _, err := notesclient.Decrypt(key, n.ContentText); err != nil {
					return true, decryptError(n.ID, err)
				}
				return true, nil
			}
		}
		return false, nil
	}
	if notebookID != 0 {
		if found, err := check(notebookID); found || err != nil {
			return err
		}
	}
	all, err := r.client.Notebooks(ctx)
	if err != nil {
		return err
	}
	for _, nb := range all {
		if nb.ID == notebookID {
			continue
		}
		if found, err := check(nb.ID); found || err != nil {
			return err
		}
	}
	return nil
}

// countNotes writes "1 note", "2 notes".
func countNotes(n int) string {
	if n == 1 {
		return "1 note"
	}
	return strconv.Itoa(n) + " notes"
}

// firstLine is the first line of a note that is not blank, without the # of a heading.
func firstLine(text string) string {
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#")); line != "" {
			return line
		}
	}
	return ""
}

// noteTitle is a note's first line, short and safe to print.
func noteTitle(text string) string {
	const maxRunes = 60
	t := printable(firstLine(text))
	if t == "" {
		return "(empty)"
	}
	if utf8.RuneCountInString(t) > maxRunes {
		t = string([]rune(t)[:maxRunes-1]) + "…"
	}
	return t
}

// printable replaces control characters, which could move the cursor or recolour the
// terminal, with spaces: names and titles come from the server.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
