package main

import (
	"context"
	"fmt"

	"github.com/micropubd/micropubd/notes/notesclient"
)

// notesShare is notes share ID: the note's plain text is published as a page on the site,
// whose URL it prints. A note already shared keeps its URL.
func notesShare(ctx context.Context, r *notesRun) error {
	n, text, err := r.noteText(ctx)
	if err != nil {
		return err
	}
	if !n.Microblog.IsShared {
		if n, err = r.client.SaveNote(ctx, notesclient.NoteSave{ID: n.ID, Text: text, Sharing: true}); err != nil {
			return err
		}
	}
	fmt.Fprintln(r.stdout, n.Microblog.SharedURL)
	return nil
}

// notesUnshare is notes unshare ID: the page is taken down (its URL answers 410 Gone) and the
// note is stored encrypted again, with a key checked against the notes on the server first.
func notesUnshare(ctx context.Context, r *notesRun) error {
	n, err := r.note(ctx)
	if err != nil {
		return err
	}
	id := n.ID
	if !n.Microblog.IsShared {
		fmt.Fprintf(r.stdout, "note %d is not shared\n", id)
		return nil
	}
	if err := r.checkKey(ctx, n.Microblog.NotebookID); err != nil {
		return err
	}
	cipher, err := r.encrypt(n.ContentText, fmt.Sprintf("note %d", id))
	if err != nil {
		return err
	}
	if _, err := r.client.SaveNote(ctx, notesclient.NoteSave{ID: id, Text: cipher, Encrypted: true, Unsharing: true}); err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "note %d is private again; %s is gone\n", id, n.Microblog.SharedURL)
	return nil
}
