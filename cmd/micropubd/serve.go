package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/notes"
	"github.com/micropubd/micropubd/outbound"
	"github.com/micropubd/micropubd/storage"
)

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		// "micropubd --help" lands here: it lists the commands, then the serve flags.
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nFlags of serve:")
		fs.PrintDefaults()
	}
	var c config
	c.register(fs)
	addr := fs.String("addr", envOr("MICROPUBD_ADDR", "127.0.0.1:8080"), "address to listen on (env MICROPUBD_ADDR)")
	name := fs.String("name", envOr("MICROPUBD_NAME", ""), "the owner's name on the site (env MICROPUBD_NAME; default: the host)")
	photo := fs.String("photo", envOr("MICROPUBD_PHOTO", ""), "URL of the owner's photo for the h-card (env MICROPUBD_PHOTO)")
	syndicate := fs.String("syndicate-to", envOr("MICROPUBD_SYNDICATE_TO", ""), "syndication targets clients may choose, as UID=Name pairs separated by commas (env MICROPUBD_SYNDICATE_TO)")
	email := fs.String("email", envOr("MICROPUBD_EMAIL", ""), "the owner's email, shared with apps granted the email scope (env MICROPUBD_EMAIL)")
	var tokenTTL, noteVersions time.Duration
	requirePKCE := fs.Bool("require-pkce", envOr("MICROPUBD_REQUIRE_PKCE", "") == "true", "refuse sign-in requests without PKCE (env MICROPUBD_REQUIRE_PKCE=true)")
	trustProxy := fs.Bool("trust-proxy", envOr("MICROPUBD_TRUST_PROXY", "") == "true", "behind a reverse proxy: take the client address for the sign-in rate limit from X-Forwarded-For (env MICROPUBD_TRUST_PROXY=true)")
	var ext external
	fs.StringVar(&ext.TokenEndpoint, "token-endpoint", envOr("MICROPUBD_TOKEN_ENDPOINT", ""), "verify tokens at this external token endpoint instead of issuing them (env MICROPUBD_TOKEN_ENDPOINT)")
	fs.StringVar(&ext.IntrospectionEndpoint, "introspection-endpoint", envOr("MICROPUBD_INTROSPECTION_ENDPOINT", ""), "verify tokens at this external introspection endpoint (env MICROPUBD_INTROSPECTION_ENDPOINT)")
	fs.StringVar(&ext.IntrospectionToken, "introspection-token", envOr("MICROPUBD_INTROSPECTION_TOKEN", ""), "Bearer token for the external introspection endpoint; default: the token being checked (env MICROPUBD_INTROSPECTION_TOKEN)")
	fs.StringVar(&ext.AuthorizationEndpoint, "authorization-endpoint", envOr("MICROPUBD_AUTHORIZATION_ENDPOINT", ""), "the external authorization endpoint to advertise (env MICROPUBD_AUTHORIZATION_ENDPOINT)")
	fs.StringVar(&ext.Metadata, "indieauth-metadata", envOr("MICROPUBD_INDIEAUTH_METADATA", ""), "the external server's metadata URL to advertise (env MICROPUBD_INDIEAUTH_METADATA)")
	keepLocation := fs.Bool("keep-location", envOr("MICROPUBD_KEEP_LOCATION", "") == "true", "keep the GPS position in uploaded JPEGs; by default it is removed (env MICROPUBD_KEEP_LOCATION=true)")
	allowPrivate := fs.Bool("allow-private-addresses", envOr("MICROPUBD_ALLOW_PRIVATE_ADDRESSES", "") == "true", "let the server's own fetches (webmentions, IndieAuth client pages) reach loopback and private addresses: for tests and private networks only (env MICROPUBD_ALLOW_PRIVATE_ADDRESSES=true)")
	logLevel := fs.String("log-level", envOr("MICROPUBD_LOG_LEVEL", "info"), "debug, info, warn or error (env MICROPUBD_LOG_LEVEL)")
	httpLim := defaultHTTPLimits()
	fs.IntVar(&httpLim.ConnsPerClient, "max-conns-per-client", httpLim.ConnsPerClient, "most connections one client address may hold at once; 0: no cap, the default with --trust-proxy (env MICROPUBD_MAX_CONNS_PER_CLIENT)")
	var limits micropub.Limits
	if err := errors.Join(
		sizeVar(fs, &limits.Body, "body-limit", "MICROPUBD_BODY_LIMIT", micropub.DefaultLimits.Body, "largest form-encoded or JSON request body"),
		sizeVar(fs, &limits.Upload, "upload-limit", "MICROPUBD_UPLOAD_LIMIT", micropub.DefaultLimits.Upload, "largest upload, and largest multipart request"),
		durationVar(fs, &tokenTTL, "token-ttl", "MICROPUBD_TOKEN_TTL", 0, "lifetime of access tokens unless the owner picks one when approving; 0 means they do not expire"),
		durationVar(fs, &ext.CacheFor, "token-cache", "MICROPUBD_TOKEN_CACHE", 2*time.Minute, "how long an external token endpoint's yes is trusted"),
		durationVar(fs, &noteVersions, "note-versions", "MICROPUBD_NOTE_VERSIONS", notes.DefaultKeepVersions, "how long an earlier text of a note is kept after it was replaced"),
	); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := connsPerClient(fs, &httpLim.ConnsPerClient, *trustProxy); err != nil {
		return err
	}
	base, err := c.baseURL()
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if ext.enabled() {
		for _, e := range []string{ext.TokenEndpoint, ext.IntrospectionEndpoint, ext.AuthorizationEndpoint, ext.Metadata} {
			if u, err := url.Parse(e); e != "" && (err != nil || !u.IsAbs()) {
				return fmt.Errorf("%q is not an absolute URL", e)
			}
		}
	}
	targets, err := parseTargets(*syndicate)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	tune := runtimeTuning(os.Getenv)
	if tune.gcPercent > 0 {
		debug.SetGCPercent(tune.gcPercent)
		debug.SetMemoryLimit(tune.memoryLimit)
	}
	if tune.extraProcs > 0 {
		runtime.SetDefaultGOMAXPROCS() // from the default each time, not from an earlier serve's
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + tune.extraProcs)
	}
	db, err := storage.Open(ctx, c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	// On a full disk the server still starts: it serves reads and answers writes 507 until
	// space is freed. The start-up writes below are then put off to the next start.
	startWrite := func(what string, err error) error {
		if errors.Is(err, micropubd.ErrNoSpace) {
			log.Warn("the disk is full: "+what+" is put off; reads are served and writes refused (507) until space is freed", "err", err)
			return nil
		}
		return err
	}
	if err := startWrite("recording --url and --name", recordSite(ctx, db, base, *name)); err != nil {
		return err
	}
	if err := db.SweepFiles(ctx); err != nil {
		return err
	}
	if err := startWrite("pruning old note versions", db.PruneNoteVersions(ctx, time.Now().Add(-noteVersions))); err != nil {
		return err
	}
	warnLowSpace(log, c.data)
	handler, err := newServer(serverConfig{
		BaseURL:          base,
		Name:             *name,
		Photo:            *photo,
		Email:            *email,
		TokenTTL:         tokenTTL,
		RequirePKCE:      *requirePKCE,
		TrustProxy:       *trustProxy,
		External:         ext,
		Limits:           limits,
		KeepLocation:     *keepLocation,
		SyndicateTo:      targets,
		Location:         time.Local,
		KeepNoteVersions: noteVersions,
		Outbound:         outbound.Policy{AllowPrivate: *allowPrivate},
	}, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ln = capClients(ln, httpLim.ConnsPerClient, log)
	// The webmention queues run until shutdown; the database closes after they stopped.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	background := make(chan struct{})
	go func() {
		defer close(background)
		handler.Run(bgCtx)
	}()
	defer func() {
		stopBackground()
		<-background
	}()
	// Requests do not inherit ctx: at shutdown the ones in flight must finish, not be cancelled.
	srv := newHTTPServer(handler, httpLim, strings.TrimSuffix(base.Path, "/")+"/media/", log)
	log.Info("serving", "addr", ln.Addr().String(), "url", base.String(), "data", c.data)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: waiting for requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopBackground()
	<-background
	if err := db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	log.Info("stopped")
	return nil
}

// runtimeSettings are the Go runtime's settings the server changes (0: left as they are).
type runtimeSettings struct {
	gcPercent   int
	memoryLimit int64
	extraProcs  int // Ps beyond the default GOMAXPROCS (the cores the process may use)
}

// runtimeTuning is how the server sets the Go runtime, given its environment: GOGC, GOMEMLIMIT
// and GOMAXPROCS, when set, win.
//
// Garbage collection: the live heap is small (about 15 MB, mostly the bounded caches) and a
// request allocates about 11 KB, so collecting when the heap has grown by twice the live heap
// rather than once halves the collector's work, 7% of a create's CPU (median of 10 paired
// runs), for about 15 MB more. The soft limit (80 MiB) holds the heap down however full the
// caches get (pages 32 MB, query answers 16 MB): with SQLite's page caches (16 MB for the
// writer, 8 MB per reader) the process stays within 150 MB.
//
// One P more than the default: the writer spends most of its time in SQLite (cgo) and the
// log's fsync, each holding a P while it runs, and the handlers then wait behind it. Measured
// on 2 cores under 32 clients: creates +12% (median of 8 paired runs), and the p99 of a
// permalink, the homepage and q=source from 11-12 ms to 8-9 ms.
func runtimeTuning(getenv func(string) string) runtimeSettings {
	var t runtimeSettings
	if getenv("GOGC") == "" && getenv("GOMEMLIMIT") == "" {
		t.gcPercent, t.memoryLimit = 200, 80<<20
	}
	if getenv("GOMAXPROCS") == "" {
		t.extraProcs = 1
	}
	return t
}

// connsPerClient reads MICROPUBD_MAX_CONNS_PER_CLIENT unless the flag was given. Behind a
// reverse proxy every connection comes from the proxy, so there the cap is off unless set.
func connsPerClient(fs *flag.FlagSet, n *int, trustProxy bool) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "max-conns-per-client" })
	if given {
		return nil
	}
	if v, ok := os.LookupEnv("MICROPUBD_MAX_CONNS_PER_CLIENT"); ok {
		parsed, err := strconv.Atoi(v)
		if err != nil || parsed < 0 {
			return fmt.Errorf("MICROPUBD_MAX_CONNS_PER_CLIENT: %q is not a number from 0", v)
		}
		*n = parsed
		return nil
	}
	if trustProxy {
		*n = 0
	}
	return nil
}

// warnLowSpace says at start when the data folder's disk is nearly full.
func warnLowSpace(log *slog.Logger, dir string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return
	}
	if free := int64(st.Bavail) * int64(st.Bsize); free < 64<<20 {
		log.Warn("the data folder's disk is nearly full: writes fail (507) once it is", "free_bytes", free, "data", dir)
	}
}

// parseTargets reads "uid=Name,uid2=Name 2"; a target without a name is named by its uid.
func parseTargets(s string) ([]micropub.SyndicationTarget, error) {
	var out []micropub.SyndicationTarget
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		uid, name, _ := strings.Cut(part, "=")
		uid, name = strings.TrimSpace(uid), strings.TrimSpace(name)
		if uid == "" {
			return nil, fmt.Errorf("--syndicate-to: %q has no uid", part)
		}
		if name == "" {
			name = uid
		}
		out = append(out, micropub.SyndicationTarget{UID: uid, Name: name})
	}
	return out, nil
}
