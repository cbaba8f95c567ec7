package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/micropubd/micropubd/storage"
)

// backup writes a consistent archive of the data folder while the server may run: the
// database (posts, tokens, settings, notes and notebooks) and the uploads.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("MICROPUBD_DATA", "./data"), "the data folder to back up (env MICROPUBD_DATA)")
	out := fs.String("out", "", "the archive to write (a .tar.gz); it is written whole or not at all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *out == "" {
		return errors.New("--out FILE is required: the archive to write, for example backup.tar.gz")
	}
	m, size, err := writeAtomically(*out, func(f *os.File) (*storage.Manifest, error) {
		return storage.Backup(ctx, *data, filepath.Dir(*out), f)
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s: the database and %s, %s, in %s\n", *data, count(m.Media, "upload"), megabytesOf(size), *out)
	for _, name := range m.Missing {
		fmt.Fprintf(stdout, "left out media/%s: it was deleted while the backup ran\n", name)
	}
	return nil
}

// writeAtomically writes a file through fill into path.partial, fsyncs it and renames it to
// path: the file is whole or absent.
func writeAtomically[T any](path string, fill func(f *os.File) (T, error)) (T, int64, error) {
	var zero T
	partial := path + ".partial"
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return zero, 0, err
	}
	defer os.Remove(partial) // a no-op once renamed
	v, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	var size int64
	if st, statErr := f.Stat(); statErr == nil {
		size = st.Size()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return zero, 0, err
	}
	if err := os.Rename(partial, path); err != nil {
		return zero, 0, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return v, size, nil
}

// count says "1 upload", "2 uploads".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func megabytesOf(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// restore unpacks a backup into a data folder that has no database.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("MICROPUBD_DATA", "./data"), "the data folder to restore into; it must hold no database (env MICROPUBD_DATA)")
	in := fs.String("in", "", "the archive micropubd backup wrote")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *in == "" {
		return errors.New("--in FILE is required: the archive micropubd backup wrote")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := storage.Restore(ctx, f, *data)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored the backup of %s (the database and %s) into %s; start it with: micropubd serve --data %s\n",
		m.Created.Format("2006-01-02 15:04:05 MST"), count(m.Media, "upload"), *data, *data)
	return nil
}
