package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/notes"
)

// notesExport is notes export NOTEBOOK DIR: every note of the notebook, decrypted, as a
// Markdown file DIR/ID-slug-of-the-first-line.md (mode 0600, dated as the note), so that the
// owner can always get their notes out. Every note is decrypted before anything is written:
// with a wrong key, nothing is.
func notesExport(ctx context.Context, r *notesRun) error {
	nb, err := findNotebook(ctx, r.client, r.args[0])
	if err != nil {
		return err
	}
	dir := r.args[1]
	list, err := r.client.AllNotes(ctx, nb.ID)
	if err != nil {
		return err
	}
	texts := make([]string, len(list))
	for i := range list {
		if texts[i], err = r.plainText(&list[i]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for i, n := range list {
		path := filepath.Join(dir, exportName(n.ID, texts[i]))
		if err := os.WriteFile(path, []byte(texts[i]), 0o600); err != nil {
			return err
		}
		if modified, err := notes.ParseDate(n.DateModified); err == nil {
			os.Chtimes(path, modified, modified) // a nicety: the file's date is the note's
		}
		fmt.Fprintln(r.stdout, path)
	}
	fmt.Fprintf(r.stderr, "exported %s of notebook %s (%d) to %s\n", countNotes(len(list)), printable(nb.Name), nb.ID, dir)
	return nil
}

// exportName is a note's file name: its id and a slug of its first line.
func exportName(id int64, text string) string {
	name := strconv.FormatInt(id, 10)
	if slug := micropub.Slug(firstLine(text)); slug != "" {
		name += "-" + slug
	}
	return name + ".md"
}
