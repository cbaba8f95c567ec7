package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/storage"
)

// An export is a folder: site.json (the site's URL and name, the counts), posts.jsonl (one
// post a line in microformats2 JSON, with its URL and what the server keeps beside it),
// media.jsonl (one upload a line) and media/NAME (the files). It is meant to be read, by
// people and by "micropubd import" on another server.

const exportFormat = "micropubd-export-1"

type exportSite struct {
	Format   string    `json:"format"`
	URL      string    `json:"url"`
	Name     string    `json:"name,omitempty"`
	Exported time.Time `json:"exported"`
	Posts    int       `json:"posts"`
	Media    int       `json:"media"`
}

// exportPost is a post in microformats2 JSON, with its URL and, under "micropubd", what is
// not among its properties.
type exportPost struct {
	Type       []string             `json:"type"`
	Properties micropubd.Properties `json:"properties"`
	URL        string               `json:"url"`
	Server     exportExtra          `json:"micropubd"`
}

type exportExtra struct {
	// FormerURLs redirect to the post (its slug was changed).
	FormerURLs  []string   `json:"former-urls,omitempty"`
	Status      string     `json:"status"`
	Visibility  string     `json:"visibility"`
	PostType    string     `json:"post-type"`
	Published   time.Time  `json:"published"`
	Updated     *time.Time `json:"updated,omitempty"`
	Deleted     *time.Time `json:"deleted,omitempty"`
	SyndicateTo []string   `json:"syndicate-to,omitempty"`
}

type exportMedia struct {
	URL       string    `json:"url"`
	Name      string    `json:"name"`
	MIMEType  string    `json:"mime_type"`
	Size      int64     `json:"size"`
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	Alt       string    `json:"alt,omitempty"`
	Published time.Time `json:"published"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// export writes every post and upload of the site into a new folder.
func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs)
	out := fs.String("out", "", "the folder to write; it must not exist or be empty")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *out == "" {
		return errors.New("--out FOLDER is required: where the export goes")
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: export into a new folder", *out)
	}
	if err := os.MkdirAll(filepath.Join(*out, "media"), 0o750); err != nil {
		return err
	}
	db, base, err := c.openSite(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	site := exportSite{Format: exportFormat, URL: base.String(), Exported: time.Now().UTC()}
	site.Name, _ = db.Setting(ctx, settingName)
	posts, err := os.Create(filepath.Join(*out, "posts.jsonl"))
	if err != nil {
		return err
	}
	defer posts.Close()
	media, err := os.Create(filepath.Join(*out, "media.jsonl"))
	if err != nil {
		return err
	}
	defer media.Close()
	pw, mw := bufio.NewWriter(posts), bufio.NewWriter(media)
	var missing []string
	err = db.Export(ctx, func(p *micropubd.Post, former []string) error {
		line := exportPost{Type: []string{"h-" + p.Type}, Properties: p.Properties, URL: site.URL + p.Path,
			Server: exportExtra{Status: p.Status, Visibility: p.Visibility, PostType: p.PostType, Published: p.Published,
				Updated: timePtr(p.Updated), Deleted: timePtr(p.Deleted), SyndicateTo: p.SyndicateTo}}
		for _, f := range former {
			line.Server.FormerURLs = append(line.Server.FormerURLs, site.URL+f)
		}
		site.Posts++
		return writeLine(pw, line)
	}, func(m *micropubd.Media) error {
		src, err := db.OpenMedia(m.Name)
		if errors.Is(err, micropubd.ErrNotFound) {
			missing = append(missing, m.Name) // deleted while the export ran
			return nil
		}
		if err != nil {
			return err
		}
		defer src.Close()
		dst, err := os.Create(filepath.Join(*out, "media", m.Name))
		if err != nil {
			return err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return err
		}
		if err := dst.Close(); err != nil {
			return err
		}
		site.Media++
		return writeLine(mw, exportMedia{URL: site.URL + "media/" + m.Name, Name: m.Name, MIMEType: m.MIMEType, Size: m.Size,
			Width: m.Width, Height: m.Height, Alt: m.Alt, Published: m.Created})
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, w := range []*bufio.Writer{pw, mw} {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	meta, _ := json.MarshalIndent(site, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "site.json"), append(meta, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %s: %s and %s into %s\n", site.URL, count(site.Posts, "post"), count(site.Media, "upload"), *out)
	for _, n := range missing {
		fmt.Fprintf(stdout, "left out media/%s: it was deleted while the export ran\n", n)
	}
	return nil
}

func writeLine(w *bufio.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// importBatch is how many posts one transaction of an import holds.
const importBatch = 500

// importSite reads an export into a site that has no posts and no uploads: paths, former
// paths, times and deletions as they were. When the site's URL differs from the export's,
// every URL of the old site in the posts becomes one of the new.
func importSite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	c.register(fs)
	in := fs.String("in", "", "the folder micropubd export wrote")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *in == "" {
		return errors.New("--in FOLDER is required: the folder micropubd export wrote")
	}
	var site exportSite
	raw, err := os.ReadFile(filepath.Join(*in, "site.json"))
	if err == nil {
		err = json.Unmarshal(raw, &site)
	}
	if err != nil || site.Format != exportFormat {
		return fmt.Errorf("%s is not a micropubd export (its site.json names no %s): %v", *in, exportFormat, err)
	}
	db, err := storage.Open(ctx, c.data)
	if err != nil {
		return err
	}
	defer db.Close()
	if has, err := db.HasContent(ctx); err != nil || has {
		return errors.Join(err, fmt.Errorf("%s already has posts or uploads: import into an empty site", c.data))
	}
	// The site's address: --url, else the one serve recorded, else the export's.
	base := site.URL
	if c.urlGiven() {
		u, err := c.baseURL()
		if err != nil {
			return err
		}
		base = u.String()
	} else if recorded, err := db.Setting(ctx, settingURL); err == nil {
		base = recorded
	}
	if err := db.SetSetting(ctx, settingURL, base); err != nil {
		return err
	}
	if _, err := db.Setting(ctx, settingName); errors.Is(err, micropubd.ErrNotFound) && site.Name != "" {
		db.SetSetting(ctx, settingName, site.Name)
	}
	uploads, err := importMedia(ctx, db, *in)
	if err != nil {
		return err
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return err
	}
	svc := &micropub.Service{BaseURL: baseURL, Location: time.Local}
	n, err := importPosts(ctx, db, svc, *in, site.URL, base)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %s and %s from %s into %s, as %s\n", count(n, "post"), count(uploads, "upload"), *in, c.data, base)
	return nil
}

// importMedia stores every upload of the export, checking its bytes against its name.
func importMedia(ctx context.Context, db *storage.DB, dir string) (int, error) {
	n := 0
	err := eachLine(filepath.Join(dir, "media.jsonl"), func(line []byte) error {
		var m exportMedia
		if err := json.Unmarshal(line, &m); err != nil {
			return fmt.Errorf("media.jsonl: %w", err)
		}
		src, err := os.Open(filepath.Join(dir, "media", filepath.Base(m.Name)))
		if err != nil {
			return err
		}
		defer src.Close()
		tmp, err := db.CreateTemp()
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		sum := sha256.New()
		if _, err := io.Copy(io.MultiWriter(tmp, sum), src); err != nil {
			tmp.Close()
			return err
		}
		if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
			return err
		}
		if !strings.HasPrefix(m.Name, hex.EncodeToString(sum.Sum(nil))[:40]) {
			return fmt.Errorf("media/%s does not hold the bytes its name is the hash of", m.Name)
		}
		_, err = db.SaveMedia(ctx, &micropubd.Media{Name: m.Name, MIMEType: m.MIMEType, Size: m.Size, Width: m.Width,
			Height: m.Height, Alt: m.Alt, Created: m.Published}, tmp.Name())
		n++
		return err
	})
	return n, err
}

// importPosts stores the posts of the export, importBatch to a transaction.
func importPosts(ctx context.Context, db *storage.DB, svc *micropub.Service, dir, oldBase, newBase string) (int, error) {
	var batch []func(ctx context.Context) error
	n := 0
	flush := func() error {
		err := db.InTx(ctx, func(ctx context.Context) error {
			for _, f := range batch {
				if err := f(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	err := eachLine(filepath.Join(dir, "posts.jsonl"), func(line []byte) error {
		n++
		if oldBase != newBase {
			line = rebase(line, oldBase, newBase)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var in exportPost
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("posts.jsonl line %d: %w", n, err)
		}
		p, former, err := postOf(in, newBase)
		if err == nil {
			err = svc.Prepare(p)
		}
		if err != nil {
			return fmt.Errorf("posts.jsonl line %d (%s): %w", n, in.URL, err)
		}
		batch = append(batch, func(ctx context.Context) error {
			if err := db.ImportPost(ctx, p, former); err != nil {
				return fmt.Errorf("posts.jsonl line %d (%s): %w", n, in.URL, err)
			}
			return nil
		})
		if len(batch) == importBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return n, err
}

// postOf turns an exported post into one to store at the same path under base.
func postOf(in exportPost, base string) (*micropubd.Post, []string, error) {
	path, ok := strings.CutPrefix(in.URL, base)
	if len(in.Type) != 1 || !ok || path == "" {
		return nil, nil, fmt.Errorf("a post needs one type and a URL under %s", base)
	}
	p := &micropubd.Post{
		Path: path, Type: strings.TrimPrefix(in.Type[0], "h-"), Properties: in.Properties,
		Status: in.Server.Status, Visibility: in.Server.Visibility, PostType: in.Server.PostType,
		Published: in.Server.Published, SyndicateTo: in.Server.SyndicateTo,
	}
	if p.Properties == nil {
		p.Properties = micropubd.Properties{}
	}
	if in.Server.Updated != nil {
		p.Updated = *in.Server.Updated
	}
	if in.Server.Deleted != nil {
		p.Deleted = *in.Server.Deleted
	}
	var former []string
	for _, u := range in.Server.FormerURLs {
		f, ok := strings.CutPrefix(u, base)
		if !ok || f == "" {
			return nil, nil, fmt.Errorf("former URL %s is not under %s", u, base)
		}
		former = append(former, f)
	}
	return p, former, nil
}

// rebase replaces the old site's URL by the new one in a JSON line: in every string that holds
// it, escaped as encoding/json writes it.
func rebase(line []byte, oldBase, newBase string) []byte {
	quote := func(s string) []byte {
		b, _ := json.Marshal(s)
		return b[1 : len(b)-1]
	}
	return bytes.ReplaceAll(line, quote(oldBase), quote(newBase))
}

// eachLine calls fn with each line of a JSON Lines file; lines may be long (a post is up to the
// body limit and more).
func eachLine(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if err := fn(line); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
