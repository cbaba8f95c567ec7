package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ledger is what the server acknowledged: only those writes must survive a crash.
type ledger struct {
	mu sync.Mutex
	// posts maps an acknowledged post to the contents it may have: the last acknowledged
	// one, and any sent after it without an answer (the crash may have come after its commit).
	posts map[string][]string
	files map[string]string // URL -> SHA-256 of the bytes
}

func (l *ledger) created(url, content string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.posts[url] = []string{content}
}

// updating notes an update sent; acked says whether it was answered 204.
func (l *ledger) updating(url, content string, acked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if acked {
		l.posts[url] = []string{content}
	} else {
		l.posts[url] = append(l.posts[url], content)
	}
}

func (l *ledger) somePost(r *rand.Rand) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for u := range l.posts {
		if r.IntN(3) == 0 {
			return u
		}
	}
	return ""
}

// uniquePNG is a small PNG whose bytes differ for every seed.
func uniquePNG(t *testing.T, seed uint64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	img.Set(0, 0, color.RGBA{uint8(seed), uint8(seed >> 8), uint8(seed >> 16), 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCrash_AcknowledgedWritesSurviveSIGKILL runs the real binary under concurrent creates,
// updates and uploads, kills it with SIGKILL at random moments, starts it again, and checks
// that every acknowledged post and file is there and intact, that no partial file is left and
// that the database passes its integrity check.
func TestCrash_AcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := specBuild(t)
	data := t.TempDir()
	d := newDaemon(t, bin, data)
	d.start()
	survived := interruptRounds(t, d, 5, func() {
		d.kill() // mid-flight: requests fail, some after their commit, some before
	}, nil)
	t.Logf("5 rounds: %s survived every SIGKILL", survived)
	d.stop()
	integrity(t, data)
}

// interruptRounds runs rounds of the crash tests: the workload (writeLoad) against the
// running server d, for a random 0.3 to 1 s, then interrupt (which must leave the server
// gone), then restore (if any: before the restart), then the server started again and every
// write it acknowledged, in this round or before, checked. It returns what survived, in words.
func interruptRounds(t *testing.T, d *daemon, rounds int, interrupt, restore func()) string {
	t.Helper()
	token := d.mint("create update media")
	l := &ledger{posts: map[string][]string{}, files: map[string]string{}}
	var seq sync.Mutex
	n := uint64(0)
	next := func() uint64 { seq.Lock(); defer seq.Unlock(); n++; return n }
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
	for round := range rounds {
		stop := make(chan struct{})
		// If interrupt fails the test, the workers still stop (not waited for: the server may
		// be frozen), so that none goes on writing to a port a later test may be given.
		stopOnce := sync.OnceFunc(func() { close(stop) })
		defer stopOnce()
		var wg sync.WaitGroup
		writeLoad(t, d, token, l, next, round, stop, &wg)
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		interrupt()
		stopOnce()
		wg.Wait()
		if restore != nil {
			restore()
		}
		integrity(t, d.data)
		d.start()
		checkSurvivors(t, d, token, l)
		if t.Failed() {
			t.Fatalf("round %d lost acknowledged writes", round+1)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d acknowledged posts and %d files", len(l.posts), len(l.files))
}

// writeLoad runs the crash tests' workload against d until stop is closed: six workers,
// three creating posts, two uploading files and one updating acknowledged posts, each noting
// in l what the server acknowledged. wg is done when they have all returned.
func writeLoad(t *testing.T, d *daemon, token string, l *ledger, next func() uint64, round int, stop chan struct{}, wg *sync.WaitGroup) {
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := next()
				// Three workers create, two upload, one updates (alone, so that the order of
				// its answers is the order of its commits).
				switch op := []int{0, 1, 2, 0, 2, 0}[w]; {
				case op == 0: // create
					content := fmt.Sprintf("post %d", id)
					status, loc, _, err := request(t, http.MethodPost, d.base+"micropub", "application/x-www-form-urlencoded", token,
						[]byte("h=entry&category=crash&content="+url.QueryEscape(content)))
					if err == nil && status == http.StatusCreated {
						l.created(loc, content)
					}
				case op == 1: // update one of the acknowledged posts
					target := l.somePost(r)
					if target == "" {
						time.Sleep(5 * time.Millisecond)
						continue
					}
					content := fmt.Sprintf("updated %d", id)
					body, _ := json.Marshal(map[string]any{"action": "update", "url": target, "replace": map[string]any{"content": []string{content}}})
					l.updating(target, content, false)
					status, _, _, err := request(t, http.MethodPost, d.base+"micropub", "application/json", token, body)
					if err == nil && status == http.StatusNoContent {
						l.updating(target, content, true)
					}
				default: // upload
					img := uniquePNG(t, id)
					var buf bytes.Buffer
					mw := multipart.NewWriter(&buf)
					part, _ := mw.CreateFormFile("file", "p.png")
					part.Write(img)
					mw.Close()
					status, loc, _, err := request(t, http.MethodPost, d.base+"micropub/media", mw.FormDataContentType(), token, buf.Bytes())
					if err == nil && status == http.StatusCreated {
						sum := sha256.Sum256(img)
						l.mu.Lock()
						l.files[loc] = hex.EncodeToString(sum[:])
						l.mu.Unlock()
					}
				}
			}
		}()
	}
}

// checkSurvivors checks every acknowledged post and file, and that the server swept what the
// crash left half written.
func checkSurvivors(t *testing.T, d *daemon, token string, l *ledger) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.posts) == 0 || len(l.files) == 0 {
		t.Fatalf("nothing was acknowledged (%d posts, %d files)", len(l.posts), len(l.files))
	}
	for u, allowed := range l.posts {
		status, _, body, err := request(t, http.MethodGet, d.base+"micropub?q=source&url="+url.QueryEscape(u), "", token, nil)
		if err != nil || status != http.StatusOK {
			t.Errorf("acknowledged post %s: %d %v %s", u, status, err, body)
			continue
		}
		var src struct {
			Properties map[string][]any `json:"properties"`
		}
		json.Unmarshal(body, &src)
		got := fmt.Sprint(src.Properties["content"])
		ok := false
		for _, c := range allowed {
			ok = ok || got == "["+c+"]"
		}
		if !ok {
			t.Errorf("post %s has content %s, want one of %v", u, got, allowed)
		}
	}
	for u, sum := range l.files {
		status, _, body, err := request(t, http.MethodGet, u, "", "", nil)
		got := sha256.Sum256(body)
		if err != nil || status != http.StatusOK || hex.EncodeToString(got[:]) != sum {
			t.Errorf("acknowledged file %s: %d %v, SHA-256 %x want %s", u, status, err, got, sum)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(d.data, "tmp")); len(left) > 0 {
		t.Errorf("%d partial files left in tmp after the restart", len(left))
	}
	media, _ := os.ReadDir(filepath.Join(d.data, "media"))
	for _, e := range media {
		b, _ := os.ReadFile(filepath.Join(d.data, "media", e.Name()))
		sum := sha256.Sum256(b)
		if !strings.HasPrefix(e.Name(), hex.EncodeToString(sum[:])[:40]) {
			t.Errorf("media/%s holds bytes that are not its name's: a partial file", e.Name())
		}
	}
}
