package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/storage"
)

// config is what every sub-command shares: where the data lives and the site's public URL.
type config struct {
	data string
	url  string
	fs   *flag.FlagSet
}

// Settings serve records, so that the other commands know the site they work for.
const (
	settingURL  = "site_url"
	settingName = "site_name"
)

// settings is what the site identity is read from and recorded in.
type settings interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// recordSite stores serve's --url and --name: the one source of the site's identity for the
// other commands.
// Unchanged settings are not written again, so that a server restarted on a full disk needs
// no write to start.
func recordSite(ctx context.Context, db settings, base *url.URL, name string) error {
	for _, kv := range [][2]string{{settingURL, base.String()}, {settingName, name}} {
		if v, err := db.Setting(ctx, kv[0]); err == nil && v == kv[1] {
			continue
		}
		if err := db.SetSetting(ctx, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// openSite opens the existing database of the data folder, for the commands other than serve,
// and returns the site's URL (see siteURL).
func (c *config) openSite(ctx context.Context) (*storage.DB, *url.URL, error) {
	db, err := storage.OpenExisting(ctx, c.data)
	if err != nil {
		return nil, nil, err
	}
	base, err := c.siteURL(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, base, nil
}

// siteURL is the URL the data folder's server runs as, as serve recorded it. A --url given
// to another command (or MICROPUBD_URL) must be the same; with none recorded (serve has not
// run since it began recording), --url or its default is used.
func (c *config) siteURL(ctx context.Context, db settings) (*url.URL, error) {
	given, err := c.baseURL()
	if err != nil {
		return nil, err
	}
	recorded, err := db.Setting(ctx, settingURL)
	if errors.Is(err, micropubd.ErrNotFound) {
		return given, nil
	}
	if err != nil {
		return nil, err
	}
	if c.urlGiven() && given.String() != recorded {
		return nil, fmt.Errorf("--url %s does not match %s, the URL the server of %s runs as (recorded by \"micropubd serve\"): leave --url out, or restart serve with the new --url first", given, recorded, c.data)
	}
	return url.Parse(recorded)
}

// urlGiven reports whether --url was set, on the command line or in the environment.
func (c *config) urlGiven() bool {
	given := false
	c.fs.Visit(func(f *flag.Flag) { given = given || f.Name == "url" })
	_, env := os.LookupEnv("MICROPUBD_URL")
	return given || env
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func (c *config) register(fs *flag.FlagSet) {
	c.fs = fs
	fs.StringVar(&c.data, "data", envOr("MICROPUBD_DATA", "./data"), "folder for the SQLite database and media (env MICROPUBD_DATA)")
	fs.StringVar(&c.url, "url", envOr("MICROPUBD_URL", "http://localhost:8080/"), "public base URL of the site, the owner's me (env MICROPUBD_URL)")
}

// baseURL returns the canonical form of --url: lower-case scheme and host, path ending in "/".
func (c *config) baseURL() (*url.URL, error) {
	u, err := url.Parse(c.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q must be an absolute http(s) URL such as https://example.com/", c.url)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--url %q must not have a query, fragment or user", c.url)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}

// sizeFlag is a byte size given as 1048576, 512KB, 10MB or 1GB (powers of 1024).
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 10MB", v)
	}
	return n * mult, nil
}

// sizeVar registers a size flag whose default may come from the environment.
func sizeVar(fs *flag.FlagSet, p *int64, name, env string, def int64, usage string) error {
	*p = def
	if v, ok := os.LookupEnv(env); ok {
		n, err := parseSize(v)
		if err != nil {
			return fmt.Errorf("%s: %w", env, err)
		}
		*p = n
	}
	fs.Var((*sizeFlag)(p), name, usage+" (env "+env+")")
	return nil
}

// durationVar registers a duration flag whose default may come from the environment.
func durationVar(fs *flag.FlagSet, p *time.Duration, name, env string, def time.Duration, usage string) error {
	*p = def
	if v, ok := os.LookupEnv(env); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s: %w", env, err)
		}
		*p = d
	}
	fs.DurationVar(p, name, *p, usage+" (env "+env+")")
	return nil
}
