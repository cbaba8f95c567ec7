// Command micropubd is an IndieWeb publishing server: a Micropub endpoint, an IndieAuth
// server and the owner's website, in one binary, on SQLite.
//
// Usage:
//
//	micropubd [serve] [--addr HOST:PORT] [--data DIR] [--url BASEURL]
//	micropubd token --data DIR --scope "create update delete undelete media" [--client-id URL]
//	micropubd passwd --data DIR < password.txt
//	micropubd notes key new | encrypt | decrypt
//	micropubd notes ls [NOTEBOOK] | cat ID | add NOTEBOOK | edit ID | share ID | unshare ID
//	micropubd notes export NOTEBOOK DIR | import DIR [--notebook NAME_OR_ID]
//	micropubd backup --data DIR --out FILE.tar.gz | restore --data DIR --in FILE.tar.gz
//	micropubd export --data DIR --out FOLDER | import --data DIR --in FOLDER [--url NEWURL]
//	micropubd bench [--prefill N] [--clients 32] [--duration 5s] [--ops LIST] [--target URL --token T]
//	micropubd version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the flags were printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "micropubd:", err)
		os.Exit(1)
	}
}

// run dispatches to a sub-command; with none, or with flags only, it serves.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "token":
		return mintToken(ctx, args, stdout, stderr)
	case "passwd":
		return setPassword(ctx, args, os.Stdin, stdout, stderr)
	case "notes":
		return notesCommand(ctx, args, os.Stdin, stdout, stderr)
	case "backup":
		return backup(ctx, args, stdout, stderr)
	case "restore":
		return restore(ctx, args, stdout, stderr)
	case "export":
		return export(ctx, args, stdout, stderr)
	case "import":
		return importSite(ctx, args, stdout, stderr)
	case "bench":
		return benchCommand(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "micropubd", version)
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

const usage = `Usage:
  micropubd [serve] [flags]   serve the site, the Micropub endpoint and the media endpoint
                              (in the foreground; it creates the database and records --url)
  micropubd token [flags]     mint an access token for the owner; prints it on the last line
  micropubd passwd [flags]    set the owner's sign-in password (read from stdin)
  micropubd notes COMMAND     your encrypted notes: key new, ls, cat, add, edit, share, unshare,
                              export, import, encrypt, decrypt (see "micropubd notes help")
  micropubd backup [flags]    write a consistent archive of the data folder, the server running
                              or not: --data DIR --out FILE.tar.gz
  micropubd restore [flags]   unpack a backup into a data folder without a database: --data DIR --in FILE
  micropubd export [flags]    every post as microformats2 JSON Lines, with the uploads, into a
                              new folder: --data DIR --out FOLDER
  micropubd import [flags]    an export into a site without posts, URLs kept (or moved to --url):
                              --data DIR --in FOLDER [--url NEWURL]
  micropubd bench [flags]     load test: start a server (or --target one), fill its archive
                              (--prefill N), drive clients over each operation, print rates,
                              latencies, errors and the server's memory
  micropubd version           print the version
  micropubd help              print this
Run "micropubd COMMAND -h" for the flags of a command.
`
