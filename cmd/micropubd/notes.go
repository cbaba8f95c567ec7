package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/micropubd/micropubd/notes"
	"github.com/micropubd/micropubd/notes/notesclient"
)

const notesUsage = `Usage:
  micropubd notes key new              print a new notes key (keep it safe: a lost key means lost notes)
  micropubd notes encrypt              encrypt stdin with the key; prints the text to send as a note
  micropubd notes decrypt              decrypt stdin (a note's content_text) with the key
  micropubd notes ls [NOTEBOOK]        list the notebooks, or the notes of one (NOTEBOOK: its id or name)
  micropubd notes cat ID               print a note's text
  micropubd notes add NOTEBOOK         add a note with the text read from stdin; prints its id
  micropubd notes edit ID              edit a note in $EDITOR (default vi); saved if changed
  micropubd notes share ID             publish a note as a page on the site; prints its URL
  micropubd notes unshare ID           take that page down and store the note encrypted again
  micropubd notes export NOTEBOOK DIR  write every note of a notebook, decrypted, to DIR/ID-title.md
  micropubd notes import DIR [--notebook NAME_OR_ID]
                                       add DIR's Markdown files as notes to a notebook (default:
                                       the one named as DIR; a new name makes a new notebook)
Flags (each also read from the environment variable shown):
  --server URL       the server (MICROPUBD_URL; default http://localhost:8080/)
  --token-file FILE  a file holding a token of the notes scope (MICROPUBD_NOTES_TOKEN);
                     make one with: micropubd token --scope notes
  --key-file FILE    a file holding the notes key (MICROPUBD_NOTES_KEY)
The token and the key are never taken on the command line, where other users could see them.
`

const defaultNotesServer = "http://localhost:8080/"

// notesCommand runs the notes sub-commands: key new, encrypt and decrypt on this machine
// alone; the others with a server's notes API, encrypting and decrypting here with the same
// code as every notes client, so that the server only ever sees ciphertext of private notes.
func notesCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, notesUsage)
		return errors.New("notes: say what to do")
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, notesUsage)
		return nil
	case "key":
		if len(args) != 1 || args[0] != "new" {
			return errors.New(`notes key: the only key command is "key new"`)
		}
		k, err := notesclient.GenerateKey()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, k)
		return nil
	}
	cmd, ok := notesCommands(name)
	if !ok {
		return fmt.Errorf("notes: unknown command %q\n%s", name, notesUsage)
	}
	r := &notesRun{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("notes "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&r.keyFile, "key-file", "", "file holding the notes key (default: env MICROPUBD_NOTES_KEY)")
	var server, tokenFile string
	if cmd.remote {
		fs.StringVar(&server, "server", "", "the server's URL (default: env MICROPUBD_URL, else "+defaultNotesServer+")")
		fs.StringVar(&tokenFile, "token-file", "", "file holding a token of the notes scope (default: env MICROPUBD_NOTES_TOKEN)")
	}
	if name == "import" {
		fs.StringVar(&r.notebook, "notebook", "", "the notebook to import into: its id or name; a new name makes a new notebook (default: the folder's name)")
	}
	var err error
	if r.args, err = parseInterleaved(fs, args); err != nil {
		return err
	}
	if len(r.args) < cmd.min || len(r.args) > cmd.max {
		return fmt.Errorf("usage: micropubd notes %s %s", name, cmd.args)
	}
	if cmd.remote {
		if r.client, err = notesClient(server, tokenFile); err != nil {
			return fmt.Errorf("notes %s: %w", name, err)
		}
	}
	err = cmd.run(ctx, r)
	if err != nil && cmd.remote {
		err = explainNotesError(err)
	}
	if err != nil {
		return fmt.Errorf("notes %s: %w", name, err)
	}
	return nil
}

// notesCmd is a notes sub-command: its arguments and what it does with them.
type notesCmd struct {
	args     string // the positional arguments, for the usage line
	min, max int
	remote   bool // it talks to a server
	run      func(context.Context, *notesRun) error
}

func notesCommands(name string) (notesCmd, bool) {
	switch name {
	case "encrypt", "decrypt":
		return notesCmd{"< TEXT", 0, 0, false, func(_ context.Context, r *notesRun) error { return notesCrypt(r, name) }}, true
	case "ls":
		return notesCmd{"[NOTEBOOK]", 0, 1, true, notesList}, true
	case "cat":
		return notesCmd{"ID", 1, 1, true, notesCat}, true
	case "add":
		return notesCmd{"NOTEBOOK < TEXT", 1, 1, true, notesAdd}, true
	case "edit":
		return notesCmd{"ID", 1, 1, true, notesEdit}, true
	case "share":
		return notesCmd{"ID", 1, 1, true, notesShare}, true
	case "unshare":
		return notesCmd{"ID", 1, 1, true, notesUnshare}, true
	case "export":
		return notesCmd{"NOTEBOOK DIR", 2, 2, true, notesExport}, true
	case "import":
		return notesCmd{"DIR [--notebook NAME_OR_ID]", 1, 1, true, notesImport}, true
	}
	return notesCmd{}, false
}

// notesRun is what a sub-command runs with.
type notesRun struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string
	client         *notesclient.Client // nil for the commands that need no server
	keyFile        string
	notebook       string // import's --notebook
	key            *notesclient.Key
}

// notesKey reads the key once, when a command first needs it.
func (r *notesRun) notesKey() (notesclient.Key, error) {
	if r.key == nil {
		k, err := notesKey(r.keyFile)
		if err != nil {
			return k, err
		}
		r.key = &k
	}
	return *r.key, nil
}

// notesCrypt is notes encrypt and notes decrypt: stdin to stdout.
func notesCrypt(r *notesRun, cmd string) error {
	key, err := r.notesKey()
	if err != nil {
		return err
	}
	in, err := readNoteText(r.stdin, "stdin")
	if err != nil {
		return err
	}
	var out string
	if cmd == "encrypt" {
		out, err = notesclient.Encrypt(key, in)
	} else {
		out, err = notesclient.Decrypt(key, strings.TrimSpace(in))
	}
	if err != nil {
		return err
	}
	fmt.Fprint(r.stdout, out)
	if cmd == "encrypt" {
		fmt.Fprintln(r.stdout)
	}
	return nil
}

// readNoteText reads a note's plain text, refusing more than a note can hold.
func readNoteText(in io.Reader, what string) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, notes.MaxText+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	if len(b) > notes.MaxText {
		return "", fmt.Errorf("%s is longer than a note can be (%d bytes)", what, notes.MaxText)
	}
	return string(b), nil
}

// notesKey reads the key from a file, else from MICROPUBD_NOTES_KEY; never from the command
// line, where other users of the machine could see it.
func notesKey(file string) (notesclient.Key, error) {
	raw := os.Getenv("MICROPUBD_NOTES_KEY")
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return notesclient.Key{}, fmt.Errorf("read the notes key: %w", err)
		}
		raw = string(b)
	}
	if raw == "" {
		return notesclient.Key{}, errors.New("no notes key: set MICROPUBD_NOTES_KEY or pass --key-file (make one with: micropubd notes key new)")
	}
	k, err := notesclient.ParseKey(raw)
	if err != nil {
		return notesclient.Key{}, fmt.Errorf("the notes key: %w", err)
	}
	return k, nil
}

// notesClient makes the API client from --server (else MICROPUBD_URL) and --token-file (else
// MICROPUBD_NOTES_TOKEN).
func notesClient(server, tokenFile string) (*notesclient.Client, error) {
	if server == "" {
		server = os.Getenv("MICROPUBD_URL")
	}
	if server == "" {
		server = defaultNotesServer
	}
	base, err := url.Parse(server)
	if err != nil || base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("the server's URL must be an http or https URL such as %s, not %q", defaultNotesServer, server)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	token := os.Getenv("MICROPUBD_NOTES_TOKEN")
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("read the token: %w", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("no token: set MICROPUBD_NOTES_TOKEN or pass --token-file FILE (make a token with: micropubd token --scope notes)")
	}
	return &notesclient.Client{BaseURL: base, Token: token, HTTP: &http.Client{Timeout: 2 * time.Minute}}, nil
}

// explainNotesError says what to do about the server's answers a user can fix.
func explainNotesError(err error) error {
	var apiErr *notesclient.APIError
	switch {
	case !errors.As(err, &apiErr):
		return err
	case apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden:
		return fmt.Errorf("%w; the token needs the notes scope: make one with \"micropubd token --scope notes\"", err)
	case apiErr.Status == http.StatusNotFound && apiErr.Description == "":
		return fmt.Errorf("%w: no such note or notebook, or no notes API at this address", err)
	}
	return err
}

// parseInterleaved parses flags given before, between or after the positional arguments
// (import DIR --notebook NAME), which flag.Parse alone stops at; it returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
}
