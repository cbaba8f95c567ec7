package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/micropubd/micropubd/notes"
)

const notesUsage = `Usage:
  micropubd notes key new      print a new notes key (keep it safe: a lost key means lost notes)
  micropubd notes encrypt      encrypt stdin with the key; prints the text to send as a note
  micropubd notes decrypt      decrypt stdin (a note's content_text) with the key
The key comes from --key-file FILE or the environment variable MICROPUBD_NOTES_KEY.
`

// notesCommand runs the notes sub-commands that work on this machine alone, with the same
// encryption as every notes client.
func notesCommand(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, notesUsage)
		return errors.New("notes: say what to do")
	}
	cmd, args := args[0], args[1:]
	if cmd == "key" {
		if len(args) != 1 || args[0] != "new" {
			return errors.New(`notes key: the only key command is "key new"`)
		}
		k, err := notes.GenerateKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, k)
		return nil
	}
	fs := flag.NewFlagSet("notes "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key-file", "", "file holding the notes key (default: env MICROPUBD_NOTES_KEY)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch cmd {
	case "encrypt", "decrypt":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, notesUsage)
		return nil
	default:
		return fmt.Errorf("notes: unknown command %q\n%s", cmd, notesUsage)
	}
	key, err := notesKey(*keyFile)
	if err != nil {
		return err
	}
	in, err := io.ReadAll(io.LimitReader(stdin, notes.MaxText+1))
	if err != nil {
		return err
	}
	if len(in) > notes.MaxText {
		return fmt.Errorf("notes %s: the text is longer than %d bytes", cmd, notes.MaxText)
	}
	var out string
	if cmd == "encrypt" {
		out, err = notes.Encrypt(key, string(in))
	} else {
		out, err = notes.Decrypt(key, strings.TrimSpace(string(in)))
	}
	if err != nil {
		return fmt.Errorf("notes %s: %w", cmd, err)
	}
	fmt.Fprint(stdout, out)
	if cmd == "encrypt" {
		fmt.Fprintln(stdout)
	}
	return nil
}

// notesKey reads the key from a file, else from MICROPUBD_NOTES_KEY; never from the command
// line, where other users of the machine could see it.
func notesKey(file string) (notes.Key, error) {
	raw := os.Getenv("MICROPUBD_NOTES_KEY")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return notes.Key{}, fmt.Errorf("read the notes key: %w", err)
		}
		raw = string(b)
	}
	if raw == "" {
		return notes.Key{}, errors.New("no notes key: set MICROPUBD_NOTES_KEY or pass --key-file (make one with: micropubd notes key new)")
	}
	k, err := notes.ParseKey(raw)
	if err != nil {
		return notes.Key{}, fmt.Errorf("the notes key: %w", err)
	}
	return k, nil
}
