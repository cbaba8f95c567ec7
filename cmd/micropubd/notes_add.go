package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/micropubd/micropubd/notes/notesclient"
)

// notesAdd is notes add NOTEBOOK: a new note with the text read from stdin, encrypted here;
// it prints the note's id.
func notesAdd(ctx context.Context, r *notesRun) error {
	nb, err := findNotebook(ctx, r.client, r.args[0])
	if err != nil {
		return err
	}
	text, err := readNoteText(r.stdin, "the text on stdin")
	if err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return errors.New("nothing to add: the text on stdin is empty")
	}
	if err := r.checkKey(ctx, nb.ID); err != nil {
		return err
	}
	cipher, err := r.encrypt(text, "the text on stdin")
	if err != nil {
		return err
	}
	n, err := r.client.SaveNote(ctx, notesclient.NoteSave{NotebookID: nb.ID, Text: cipher, Encrypted: true})
	if err != nil {
		return err
	}
	fmt.Fprintln(r.stdout, n.ID)
	return nil
}
