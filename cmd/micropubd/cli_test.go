package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/micropubd/micropubd/notes/notesclient"
	"github.com/micropubd/micropubd/storage"
)

// servedDataDir is a data folder as "micropubd serve --url base" leaves it: a database that
// records the site's URL.
func servedDataDir(t *testing.T, base string) string {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, _ := url.Parse(base)
	if err := recordSite(context.Background(), db, u, "Test Owner"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPasswd_ReadsOneLineFromANonTerminal(t *testing.T) {
	dir := servedDataDir(t, "https://example.com/")
	var out bytes.Buffer
	err := setPassword(context.Background(), []string{"--data", dir}, strings.NewReader("a long password\n"), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, err := db.Setting(context.Background(), "owner_password_bcrypt")
	if err != nil || !strings.HasPrefix(hash, "$2a$12$") || strings.Contains(hash, "a long password") {
		t.Errorf("stored %q, %v: want a bcrypt hash of cost 12", hash, err)
	}
	for _, bad := range []string{"", "short\n"} {
		if err := setPassword(context.Background(), []string{"--data", dir}, strings.NewReader(bad), io.Discard, io.Discard); err == nil {
			t.Errorf("password %q accepted", bad)
		}
	}
}

func TestCLI_VersionAndBadInput(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "micropubd ") {
		t.Errorf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command ran")
	}
	for _, args := range [][]string{
		{"serve", "--url", "ftp://example.com/"},
		{"serve", "--url", "https://example.com/?x=1"},
		{"serve", "--body-limit", "lots"},
		{"serve", "--token-endpoint", "not a url"},
		{"token", "--data", t.TempDir(), "--scope", " "},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
	t.Setenv("MICROPUBD_UPLOAD_LIMIT", "huge")
	if err := run(context.Background(), []string{"serve"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "MICROPUBD_UPLOAD_LIMIT") {
		t.Errorf("a bad MICROPUBD_UPLOAD_LIMIT: %v", err)
	}
}

func TestToken_PrintsTheTokenAloneOnTheLastLine(t *testing.T) {
	dir := servedDataDir(t, "https://example.com/")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "--data", dir, "--scope", "create media", "--client-id", "https://script.example/"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "mpd_") || strings.ContainsAny(token, " \t") {
		t.Errorf("last line %q is not a token", token)
	}
	db, _ := storage.Open(context.Background(), dir)
	defer db.Close()
	list, _ := db.ListTokens(context.Background(), testNow)
	if len(list) != 1 || list[0].Scope != "create media" || list[0].ClientID != "https://script.example/" || bytes.Contains(list[0].Hash, []byte(token)) {
		t.Errorf("stored %+v", list)
	}
}

func TestNotesCLI_KeyEncryptDecrypt(t *testing.T) {
	var key bytes.Buffer
	if err := run(context.Background(), []string{"notes", "key", "new"}, &key, io.Discard); err != nil {
		t.Fatal(err)
	}
	k := strings.TrimSpace(key.String())
	if len(k) != 68 || !strings.HasPrefix(k, "mkey") {
		t.Fatalf("key %q", k)
	}
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(k+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cipher, plain bytes.Buffer
	if err := notesCommand(context.Background(), []string{"encrypt", "--key-file", keyFile}, strings.NewReader("# Hi\nthere"), &cipher, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MICROPUBD_NOTES_KEY", k)
	if err := notesCommand(context.Background(), []string{"decrypt"}, &cipher, &plain, io.Discard); err != nil {
		t.Fatal(err)
	}
	if plain.String() != "# Hi\nthere" {
		t.Errorf("round trip gave %q", plain.String())
	}
	other := "mkey" + strings.Repeat("ab", 32)
	t.Setenv("MICROPUBD_NOTES_KEY", other)
	enc, _ := notesclient.Encrypt(notesclient.Key{}, "x")
	if err := notesCommand(context.Background(), []string{"decrypt"}, strings.NewReader(enc), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("wrong key: %v", err)
	}
	t.Setenv("MICROPUBD_NOTES_KEY", "")
	if err := notesCommand(context.Background(), []string{"encrypt"}, strings.NewReader("x"), io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "MICROPUBD_NOTES_KEY") {
		t.Errorf("no key: %v", err)
	}
}

func TestCLI_HelpListsTheCommands(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"serve", "--help"}, {"help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), args, &stdout, &stderr)
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Fatal(err)
			}
			out := stdout.String() + stderr.String()
			for _, want := range []string{"micropubd [serve]", "micropubd token", "micropubd passwd", "micropubd version"} {
				if !strings.Contains(out, want) {
					t.Errorf("the help does not list %q:\n%s", want, out)
				}
			}
			if args[0] != "help" && !strings.Contains(out, "-addr") {
				t.Errorf("the help does not show the serve flags:\n%s", out)
			}
		})
	}
}
