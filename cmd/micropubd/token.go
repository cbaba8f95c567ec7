package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/micropubd/micropubd/indieauth"
)

// mintToken creates an access token for the owner and prints it alone on the last line.
func mintToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs)
	scope := fs.String("scope", "create update delete undelete media", "space-separated scopes")
	clientID := fs.String("client-id", "", "the client the token is for (shown in the token list)")
	expires := fs.Duration("expires", 0, "lifetime of the token, e.g. 720h; 0 means it does not expire")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if strings.TrimSpace(*scope) == "" {
		return fmt.Errorf("--scope must name at least one scope")
	}
	db, base, err := c.openSite(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens := &indieauth.Tokens{Store: db, Me: base.String()}
	secret, t, err := tokens.Mint(ctx, *clientID, *scope, *expires)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# token for %s with scope %q", t.Me, t.Scope)
	if !t.ExpiresAt.IsZero() {
		fmt.Fprintf(stdout, ", expires %s", t.ExpiresAt.Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "\n%s\n", secret)
	return nil
}
