package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/storage"
)

// benchOps are the operations micropubd bench drives, in order.
var benchOps = []string{"create-form", "create-json", "create-multipart", "update", "source-url", "list-offset",
	"list-cursor", "permalink", "homepage", "feed", "media-upload"}

// benchConfig is what a run of micropubd bench measures.
type benchConfig struct {
	target   string // a running server's base URL; "" starts one
	token    string
	data     string
	prefill  int
	clients  int
	duration time.Duration
	ops      []string
	pid      int // the server's process, for its memory; 0: unknown
	stdout   io.Writer
}

// benchCommand is micropubd bench: it starts a server (or drives one already running), fills its
// archive if asked, and drives concurrent clients over each operation for a bounded time.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var bc benchConfig
	fs.StringVar(&bc.target, "target", "", "base URL of a running server to drive (with --token); by default bench starts its own")
	fs.StringVar(&bc.token, "token", envOr("MICROPUBD_BENCH_TOKEN", ""), "with --target: a token with the create, update and media scopes (env MICROPUBD_BENCH_TOKEN)")
	fs.IntVar(&bc.pid, "pid", 0, "with --target: the server's process id, to report its memory")
	fs.StringVar(&bc.data, "data", "", "the data folder of the server bench starts (default: a new temporary one, removed after)")
	fs.IntVar(&bc.prefill, "prefill", 0, "fill the archive to this many posts first, through the storage layer (not with --target)")
	prefillOnly := fs.Bool("prefill-only", false, "fill the archive (--data, --prefill) and stop")
	fs.IntVar(&bc.clients, "clients", 32, "concurrent clients")
	fs.DurationVar(&bc.duration, "duration", 5*time.Second, "how long each operation is driven")
	opList := fs.String("ops", strings.Join(benchOps, ","), "operations to drive, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	bc.stdout = stdout
	for _, op := range strings.Split(*opList, ",") {
		if op = strings.TrimSpace(op); op != "" {
			if !slices.Contains(benchOps, op) {
				return fmt.Errorf("--ops: %q is not one of %s", op, strings.Join(benchOps, ", "))
			}
			bc.ops = append(bc.ops, op)
		}
	}
	if bc.target != "" {
		if bc.token == "" || bc.prefill > 0 || bc.data != "" {
			return errors.New("--target drives a running server: give --token, and no --data or --prefill")
		}
		if !strings.HasSuffix(bc.target, "/") {
			bc.target += "/"
		}
		return runBench(ctx, bc)
	}
	if bc.data == "" {
		if *prefillOnly {
			return errors.New("--prefill-only needs --data")
		}
		dir, err := os.MkdirTemp("", "micropubd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bc.data = dir
	}
	addr, err := freeLoopback()
	if err != nil {
		return err
	}
	bc.target = "http://" + addr + "/"
	token, err := prepareBenchSite(ctx, bc, stdout)
	if err != nil || *prefillOnly {
		return err
	}
	bc.token = token
	self, err := os.Executable()
	if err != nil {
		return err
	}
	server := exec.CommandContext(ctx, self, "serve", "--addr", addr, "--data", bc.data, "--url", bc.target, "--log-level", "warn")
	server.Stderr = stderr
	started := time.Now()
	if err := server.Start(); err != nil {
		return err
	}
	defer func() {
		server.Process.Signal(os.Interrupt)
		server.Wait()
	}()
	if err := waitReady(ctx, bc.target, 30*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "server started in %v (to its first answered request)\n", time.Since(started).Round(time.Millisecond))
	bc.pid = server.Process.Pid
	return runBench(ctx, bc)
}

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(ctx context.Context, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(base)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server at %s did not answer within %v", base, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// prepareBenchSite records the site's URL, fills the archive to --prefill posts and mints a
// token, through the storage layer, before the server starts.
func prepareBenchSite(ctx context.Context, bc benchConfig, stdout io.Writer) (string, error) {
	db, err := storage.Open(ctx, bc.data)
	if err != nil {
		return "", err
	}
	defer db.Close()
	base, _ := url.Parse(bc.target)
	if err := recordSite(ctx, db, base, "Bench"); err != nil {
		return "", err
	}
	have, err := db.CountPosts(ctx)
	if err != nil {
		return "", err
	}
	if bc.prefill > have {
		start := time.Now()
		if err := prefill(ctx, db, have, bc.prefill); err != nil {
			return "", err
		}
		fmt.Fprintf(stdout, "prefilled %d posts (to %d) in %v\n", bc.prefill-have, bc.prefill, time.Since(start).Round(time.Millisecond))
	}
	tokens := &indieauth.Tokens{Store: db, Me: base.String()}
	secret, _, err := tokens.Mint(ctx, "https://bench.micropubd.invalid/", "create update delete media", 0)
	return secret, err
}

// prefillTags are the categories prefilled posts choose from.
var prefillTags = []string{"indieweb", "micropub", "photography", "travel", "cooking", "books", "music", "running",
	"garden", "cycling", "coffee", "film", "code", "sqlite", "go", "family", "weekend", "notes", "links", "walks"}

// prefill adds posts from have to want, newest last, one every ten minutes back from now: a mix
// of notes, articles, photos and replies with up to three categories, as a real archive holds.
func prefill(ctx context.Context, db *storage.DB, have, want int) error {
	const batch = 5000
	r := rand.New(rand.NewPCG(uint64(have), uint64(want)))
	now := time.Now().UTC().Truncate(time.Second)
	var posts []*micropubd.Post
	for i := have; i < want; i++ {
		published := now.Add(-time.Duration(want-i) * 10 * time.Minute)
		props := micropubd.Properties{"published": {published.Format(time.RFC3339)}}
		text := fmt.Sprintf("Archived post number %d, written to fill the archive the way a few years of posting would.", i)
		switch k := r.IntN(20); {
		case k < 13:
			props["content"] = []any{text}
		case k < 16:
			props["name"] = []any{fmt.Sprintf("Article %d", i)}
			props["content"] = []any{map[string]any{"html": "<p>" + text + "</p><p>A second paragraph, with <a href=\"https://example.com/\">a link</a>.</p>"}}
		case k < 19:
			props["content"] = []any{text}
			props["photo"] = []any{map[string]any{"value": fmt.Sprintf("https://photos.example.com/%d.jpg", i), "alt": "A photo"}}
		default:
			props["content"] = []any{text}
			props["in-reply-to"] = []any{fmt.Sprintf("https://other.example/%d", i)}
		}
		var cats []any
		for range r.IntN(4) {
			if tag := prefillTags[r.IntN(len(prefillTags))]; !slices.Contains(cats, any(tag)) {
				cats = append(cats, tag)
			}
		}
		if len(cats) > 0 {
			props["category"] = cats
		}
		posts = append(posts, &micropubd.Post{
			Path: published.Format("2006/01/") + "archived-" + strconv.Itoa(i), Type: "entry",
			PostType: micropub.DiscoverPostType("entry", props), Status: micropubd.StatusPublished,
			Visibility: micropubd.VisibilityPublic, Properties: props, Published: published,
		})
		if len(posts) == batch || i == want-1 {
			if err := db.CreatePosts(ctx, posts); err != nil {
				return fmt.Errorf("prefill: %w", err)
			}
			posts = posts[:0]
		}
	}
	return nil
}

// benchTargets are what the read operations pick from, found before they run.
type benchTargets struct {
	posts   []string // URLs of public posts, all through the archive
	cursors []string // after-cursors about 90 % deep
	count   int
	feed    string
}

// runBench drives each operation in turn and prints a row for it.
func runBench(ctx context.Context, bc benchConfig) error {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: bc.clients, MaxConnsPerHost: bc.clients, DisableCompression: true,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tg, err := findTargets(ctx, client, bc)
	if err != nil {
		return err
	}
	fmt.Fprintf(bc.stdout, "micropubd bench: %s with %d posts, %d clients, %v per operation\n\n", bc.target, tg.count, bc.clients, bc.duration)
	w := tabwriter.NewWriter(bc.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "operation\trequests/s\tp50\tp90\tp99\tmax\terrors\tserver RSS\t")
	for _, name := range bc.ops {
		op := benchOp(name, bc, tg)
		if op == nil {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\tnot served here\t\t\n", name)
			continue
		}
		res := drive(ctx, client, bc, op)
		fmt.Fprintf(w, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, res.rate(), ms(res.pct(50)), ms(res.pct(90)), ms(res.pct(99)),
			ms(res.pct(100)), res.errorSummary(), rss(bc.pid))
	}
	w.Flush() // the columns are aligned over all rows, so the table is printed at the end
	if bc.pid != 0 {
		fmt.Fprintf(bc.stdout, "\nserver memory: %s resident now, %s at most\n", rss(bc.pid), peakRSS(bc.pid))
	}
	return nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}

// rss and peakRSS read a process's resident memory (VmRSS, VmHWM) from /proc.
func rss(pid int) string     { return procStatus(pid, "VmRSS") }
func peakRSS(pid int) string { return procStatus(pid, "VmHWM") }

func procStatus(pid int, field string) string {
	if pid == 0 {
		return "-"
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "-"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return fmt.Sprintf("%.1fMB", float64(kb)/1024)
		}
	}
	return "-"
}

// findTargets counts the archive and collects post URLs, deep cursors and the feed.
func findTargets(ctx context.Context, client *http.Client, bc benchConfig) (*benchTargets, error) {
	tg := &benchTargets{}
	list := func(query string) (map[string]any, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, bc.target+"micropub?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+bc.token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			return nil, fmt.Errorf("GET micropub?%s: %d %s", query, resp.StatusCode, body)
		}
		var out map[string]any
		return out, json.NewDecoder(resp.Body).Decode(&out)
	}
	items := func(page map[string]any) []any { v, _ := page["items"].([]any); return v }
	// The size of the archive, by halving: offset n has a post, offset 2n may not.
	lo, hi := 0, 1
	for {
		page, err := list("q=source&limit=1&offset=" + strconv.Itoa(hi))
		if err != nil {
			return nil, err
		}
		if len(items(page)) == 0 {
			break
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		page, err := list("q=source&limit=1&offset=" + strconv.Itoa(mid))
		if err != nil {
			return nil, err
		}
		if len(items(page)) > 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	tg.count = hi
	for i := range 5 {
		page, err := list(fmt.Sprintf("q=source&post-status=published&visibility=public&limit=200&offset=%d", tg.count*i/5))
		if err != nil {
			return nil, err
		}
		for _, it := range items(page) {
			props, _ := it.(map[string]any)["properties"].(map[string]any)
			if urls, _ := props["url"].([]any); len(urls) > 0 {
				tg.posts = append(tg.posts, fmt.Sprint(urls[0]))
			}
		}
	}
	for i := range 10 {
		page, err := list(fmt.Sprintf("q=source&limit=1&offset=%d", max(0, tg.count*(85+i)/100-1)))
		if err != nil {
			return nil, err
		}
		if paging, _ := page["paging"].(map[string]any); paging["after"] != nil {
			tg.cursors = append(tg.cursors, fmt.Sprint(paging["after"]))
		}
	}
	if resp, err := client.Get(bc.target); err == nil {
		home, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := feedLink.FindSubmatch(home); m != nil {
			if u, err := url.Parse(bc.target); err == nil {
				if ref, err := u.Parse(string(m[1])); err == nil {
					tg.feed = ref.String()
				}
			}
		}
	}
	return tg, nil
}

// feedLink finds the homepage's feed: <link rel="alternate" type="application/...+xml|feed+json" href="...">,
// the + written as it is or as &#43; (as html/template writes it).
var feedLink = regexp.MustCompile(`<link[^>]+type="application/(?:atom|rss|feed)(?:\+|&#43;)(?:xml|json)"[^>]+href="([^"]+)"`)

// benchRequest makes the n-th request of an operation.
type benchRequest func(r *rand.Rand, n uint64) (*http.Request, error)

type operation struct {
	make benchRequest
	want int
}

func benchOp(name string, bc benchConfig, tg *benchTargets) *operation {
	post := func(path, contentType string, body []byte) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, bc.target+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+bc.token)
		return req, nil
	}
	get := func(rawURL string, token bool) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, rawURL, nil)
		if err == nil && token {
			req.Header.Set("Authorization", "Bearer "+bc.token)
		}
		return req, err
	}
	pick := func(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }
	const formBody = "h=entry&content=Hello+world+this+is+a+test+post&category[]=a&category[]=b"
	switch name {
	case "create-form":
		return &operation{want: http.StatusCreated, make: func(*rand.Rand, uint64) (*http.Request, error) {
			return post("micropub", "application/x-www-form-urlencoded", []byte(formBody))
		}}
	case "create-json":
		body := []byte(`{"type":["h-entry"],"properties":{"content":["Hello world, this is a test post"],"category":["a","b"]}}`)
		return &operation{want: http.StatusCreated, make: func(*rand.Rand, uint64) (*http.Request, error) {
			return post("micropub", "application/json", body)
		}}
	case "create-multipart", "media-upload":
		path, field := "micropub", "photo"
		if name == "media-upload" {
			path, field = "micropub/media", "file"
		}
		return &operation{want: http.StatusCreated, make: func(r *rand.Rand, n uint64) (*http.Request, error) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			if field == "photo" {
				mw.WriteField("content", "A photo post")
			}
			part, _ := mw.CreateFormFile(field, "photo.png")
			part.Write(benchPNG(r, n))
			mw.Close()
			return post(path, mw.FormDataContentType(), buf.Bytes())
		}}
	case "update":
		if len(tg.posts) == 0 {
			return nil
		}
		return &operation{want: http.StatusNoContent, make: func(r *rand.Rand, n uint64) (*http.Request, error) {
			body, _ := json.Marshal(map[string]any{"action": "update", "url": pick(r, tg.posts),
				"replace": map[string]any{"content": []string{"Updated by the bench, run " + strconv.FormatUint(n, 10)}}})
			return post("micropub", "application/json", body)
		}}
	case "source-url":
		if len(tg.posts) == 0 {
			return nil
		}
		return &operation{want: http.StatusOK, make: func(r *rand.Rand, _ uint64) (*http.Request, error) {
			return get(bc.target+"micropub?q=source&url="+url.QueryEscape(pick(r, tg.posts)), true)
		}}
	case "list-offset":
		return &operation{want: http.StatusOK, make: func(r *rand.Rand, _ uint64) (*http.Request, error) {
			offset := tg.count * (80 + r.IntN(10)) / 100 // 80 to 90 % deep
			return get(bc.target+"micropub?q=source&limit=20&offset="+strconv.Itoa(offset), true)
		}}
	case "list-cursor":
		if len(tg.cursors) == 0 {
			return nil
		}
		return &operation{want: http.StatusOK, make: func(r *rand.Rand, _ uint64) (*http.Request, error) {
			return get(bc.target+"micropub?q=source&limit=20&after="+url.QueryEscape(pick(r, tg.cursors)), true)
		}}
	case "permalink":
		if len(tg.posts) == 0 {
			return nil
		}
		return &operation{want: http.StatusOK, make: func(r *rand.Rand, _ uint64) (*http.Request, error) {
			return get(pick(r, tg.posts), false)
		}}
	case "homepage":
		return &operation{want: http.StatusOK, make: func(*rand.Rand, uint64) (*http.Request, error) {
			return get(bc.target, false)
		}}
	case "feed":
		if tg.feed == "" {
			return nil
		}
		return &operation{want: http.StatusOK, make: func(*rand.Rand, uint64) (*http.Request, error) {
			return get(tg.feed, false)
		}}
	}
	return nil
}

// benchPNG is a small PNG whose bytes differ for every n, so every upload is a new file.
func benchPNG(r *rand.Rand, n uint64) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	img.Pix[0], img.Pix[1], img.Pix[2], img.Pix[3] = uint8(n), uint8(n>>8), uint8(n>>16), uint8(n>>24)
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// benchResult is what one operation's clients saw.
type benchResult struct {
	took      time.Duration
	latencies []time.Duration
	errors    map[string]int
}

func (b *benchResult) rate() float64 {
	return float64(len(b.latencies)) / b.took.Seconds()
}

// pct returns the p-th percentile latency of all requests, answered well or not.
func (b *benchResult) pct(p int) time.Duration {
	if len(b.latencies) == 0 {
		return 0
	}
	i := (len(b.latencies)*p + 99) / 100
	return b.latencies[min(max(i-1, 0), len(b.latencies)-1)]
}

func (b *benchResult) errorSummary() string {
	if len(b.errors) == 0 {
		return "-"
	}
	var parts []string
	for k, n := range b.errors {
		parts = append(parts, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// drive runs clients for the duration, each sending the operation's requests one after another.
func drive(ctx context.Context, client *http.Client, bc benchConfig, op *operation) *benchResult {
	ctx, cancel := context.WithTimeout(ctx, bc.duration)
	defer cancel()
	var (
		mu  sync.Mutex
		res = &benchResult{errors: map[string]int{}}
		wg  sync.WaitGroup
		seq = uint64(time.Now().UnixNano())
	)
	start := time.Now()
	for c := range bc.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), seq))
			var lat []time.Duration
			errs := map[string]int{}
			for n := uint64(0); ctx.Err() == nil; n++ {
				req, err := op.make(r, seq+uint64(c)<<32+n)
				if err != nil {
					errs["build"]++
					continue
				}
				t := time.Now()
				resp, err := client.Do(req.WithContext(ctx))
				if err != nil {
					if ctx.Err() == nil {
						errs["transport"]++
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t))
				if resp.StatusCode != op.want {
					errs[strconv.Itoa(resp.StatusCode)]++
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			for k, v := range errs {
				res.errors[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.took = time.Since(start)
	slices.Sort(res.latencies)
	return res
}
