package main

import (
	"context"
	"io"
)

// notesCat is notes cat ID: the note's text, decrypted, exactly as it was written.
func notesCat(ctx context.Context, r *notesRun) error {
	_, text, err := r.noteText(ctx)
	if err != nil {
		return err
	}
	_, err = io.WriteString(r.stdout, text)
	return err
}
