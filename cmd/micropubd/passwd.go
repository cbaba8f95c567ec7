package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/micropubd/micropubd/indieauth"
)

// setPassword stores the owner's sign-in password. On a terminal it asks twice without echo;
// otherwise it reads one line from stdin, so scripts can pipe it in.
func setPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	db, base, err := c.openSite(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	var password string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "New password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		fmt.Fprint(stderr, "Again: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		if string(first) != string(second) {
			return errors.New("the two passwords differ; nothing was changed")
		}
		password = string(first)
	} else {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return errors.New("give the password as one line on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if err := indieauth.SetPassword(ctx, db, password, indieauth.PasswordCost); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Password set. Sign in at", base.String()+"admin/ to write and manage posts, or at", base.String()+"notes for your notes")
	return nil
}
