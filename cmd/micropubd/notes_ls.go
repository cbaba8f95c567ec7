package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/micropubd/micropubd/notes"
)

// notesList is notes ls: the notebooks, or with a notebook's id or name its notes, newest
// modified first, with the first line as title and the shared URL of those that are shared.
// The API has no count of notes, so the notebooks are listed without one.
func notesList(ctx context.Context, r *notesRun) error {
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	if len(r.args) == 0 {
		all, err := r.client.Notebooks(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tNOTEBOOK")
		for _, nb := range all {
			fmt.Fprintf(tw, "%d\t%s\n", nb.ID, printable(nb.Name))
		}
		return tw.Flush()
	}
	nb, err := findNotebook(ctx, r.client, r.args[0])
	if err != nil {
		return err
	}
	list, err := r.client.AllNotes(ctx, nb.ID)
	if err != nil {
		return err
	}
	type row struct {
		note     notes.NoteItem
		modified time.Time
	}
	rows := make([]row, len(list))
	for i, n := range list {
		rows[i].note = n
		rows[i].modified, _ = notes.ParseDate(n.DateModified) // a date that cannot be read sorts last
	}
	slices.SortStableFunc(rows, func(a, b row) int { return b.modified.Compare(a.modified) })

	var undecryptable error
	fmt.Fprintln(tw, "ID\tMODIFIED\tTITLE\tSHARED")
	for _, row := range rows {
		title := "(cannot be decrypted with this key)"
		if text, err := r.plainText(&row.note); err == nil {
			title = noteTitle(text)
		} else if undecryptable == nil {
			undecryptable = err
		}
		modified := "?"
		if !row.modified.IsZero() {
			modified = row.modified.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", row.note.ID, modified, title, printable(row.note.Microblog.SharedURL))
	}
	return errors.Join(tw.Flush(), undecryptable)
}
