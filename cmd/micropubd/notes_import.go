package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/micropubd/micropubd/notes/notesclient"
)

// notesImport is notes import DIR: each Markdown file of the folder (*.md, *.markdown; not
// its sub-folders) becomes a note, encrypted here, in the notebook --notebook names (default:
// the folder's name), made if the name is new. Files are added in the order of the number
// their names start with (as export names them), then by name, so that the last is the
// newest. Every file is read and encrypted, and the key checked, before anything is sent.
func notesImport(ctx context.Context, r *notesRun) error {
	dir := r.args[0]
	files, err := markdownFiles(dir)
	if err != nil {
		return err
	}
	ciphers := make([]string, len(files))
	for i, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		text, err := readNoteText(f, path)
		f.Close()
		if err != nil {
			return err
		}
		if ciphers[i], err = r.encrypt(text, path); err != nil {
			return err
		}
	}
	ref := r.notebook
	if ref == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		ref = filepath.Base(abs)
	}
	nb, err := findNotebook(ctx, r.client, ref)
	if errors.Is(err, errNoNotebook) && !isNumber(ref) {
		nb, err = nil, nil // a new name: made once the key is checked
	}
	if err != nil {
		return err
	}
	var checkIn int64
	if nb != nil {
		checkIn = nb.ID
	}
	if err := r.checkKey(ctx, checkIn); err != nil {
		return err
	}
	if nb == nil {
		if nb, err = r.client.CreateNotebook(ctx, ref); err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "made notebook %s (%d)\n", printable(nb.Name), nb.ID)
	}
	for i, path := range files {
		n, err := r.client.SaveNote(ctx, notesclient.NoteSave{NotebookID: nb.ID, Text: ciphers[i], Encrypted: true})
		if err != nil {
			return fmt.Errorf("import %s: %w (the %d files before it were imported)", path, err, i)
		}
		fmt.Fprintf(r.stdout, "%s → note %d\n", path, n.ID)
	}
	fmt.Fprintf(r.stdout, "imported %s into notebook %s (%d)\n", countNotes(len(files)), printable(nb.Name), nb.ID)
	return nil
}

// markdownFiles lists a folder's Markdown files in the order to import them; hidden files
// are left out.
func markdownFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type file struct {
		name   string
		number uint64
		hasNum bool
	}
	var files []file
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") || ext != ".md" && ext != ".markdown" {
			continue
		}
		digits := e.Name()[:len(e.Name())-len(strings.TrimLeft(e.Name(), "0123456789"))]
		n, err := strconv.ParseUint(digits, 10, 64)
		files = append(files, file{e.Name(), n, err == nil})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("there are no Markdown files (*.md, *.markdown) in %s", dir)
	}
	slices.SortFunc(files, func(a, b file) int {
		switch {
		case a.hasNum && !b.hasNum:
			return -1
		case !a.hasNum && b.hasNum:
			return 1
		}
		return cmp.Or(cmp.Compare(a.number, b.number), strings.Compare(a.name, b.name))
	})
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f.name)
	}
	return paths, nil
}
