package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/micropubd/micropubd/micropub/micropubtest"
	"github.com/micropubd/micropubd/notes/notesclient"
)

// notesServer is a test server with a token of the notes scope and the owner's notes key.
type notesServer struct {
	*testServer
	notesToken string
	key        notesclient.Key
	clock      *testClock
}

// testClock starts at testNow and moves one second each time it is read, so that saves made
// one after another have different times.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newNotesServer(t *testing.T, opts ...func(*serverConfig)) *notesServer {
	t.Helper()
	clock := &testClock{now: testNow}
	srv := newTestServer(t, append([]func(*serverConfig){func(c *serverConfig) { c.Now = clock.Now }}, opts...)...)
	key, err := notesclient.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &notesServer{testServer: srv, notesToken: srv.mint("notes"), key: key, clock: clock}
}

// noteItem is a note as the API answers it, decoded strictly: an id sent as a string or a flag
// sent as "true" fails, as it fails in Strata's typed models.
type noteItem struct {
	ID            int64  `json:"id"`
	Title         string `json:"title"`
	ContentText   string `json:"content_text"`
	ContentHTML   string `json:"content_html"`
	URL           string `json:"url"`
	DatePublished string `json:"date_published"`
	DateModified  string `json:"date_modified"`
	Microblog     struct {
		IsEncrypted       bool   `json:"is_encrypted"`
		IsShared          bool   `json:"is_shared"`
		SharedURL         string `json:"shared_url"`
		NotebookID        int64  `json:"notebook_id"`
		Position          string `json:"position"`
		AttachedBookISBN  string `json:"attached_book_isbn"`
		AttachedBookTitle string `json:"attached_book_title"`
		AttachedPostID    int64  `json:"attached_post_id"`
	} `json:"_microblog"`
}

type notebookItem struct {
	ID            int64  `json:"id"`
	Title         string `json:"title"`
	Name          string `json:"name"`
	URL           string `json:"url"`
	DatePublished string `json:"date_published"`
	DateModified  string `json:"date_modified"`
	Microblog     struct {
		Colors struct {
			Light string `json:"light"`
			Dark  string `json:"dark"`
		} `json:"colors"`
		Type     string `json:"type"`
		Position string `json:"position"`
	} `json:"_microblog"`
}

type jsonFeed[T any] struct {
	Version     string          `json:"version"`
	Title       string          `json:"title"`
	HomePageURL string          `json:"home_page_url"`
	FeedURL     string          `json:"feed_url"`
	Microblog   json.RawMessage `json:"_microblog"`
	Items       []T             `json:"items"`
}

// apiDate is the date format Micro.blog's clients parse.
var apiDate = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$`)

// decodeStrict decodes a JSON answer into v, refusing fields v does not know.
func decodeStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// send sends a recorded client request from testdata/notes, its {{NAME}} placeholders filled
// in from vars ({{TOKEN}} is the notes token unless vars says otherwise).
func (s *notesServer) send(t *testing.T, fixture string, vars map[string]string) (*http.Response, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "notes", fixture+".http"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vars["TOKEN"]; !ok {
		raw = bytes.ReplaceAll(raw, []byte("{{TOKEN}}"), []byte(s.notesToken))
	}
	for k, v := range vars {
		raw = bytes.ReplaceAll(raw, []byte("{{"+k+"}}"), []byte(v))
	}
	if m := regexp.MustCompile(`\{\{[A-Z]+\}\}`).Find(raw); m != nil {
		t.Fatalf("%s: %s is not filled in", fixture, m)
	}
	req, err := micropubtest.ParseRequest(raw)
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	req.URL, _ = url.Parse(s.base + strings.TrimPrefix(req.URL.RequestURI(), "/"))
	req.RequestURI, req.Host = "", ""
	return s.do(req)
}

// call sends a request to the notes API with the notes token: a form (url.Values), JSON (any
// other body) or nothing.
func (s *notesServer) call(t *testing.T, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var (
		r  *bytes.Reader
		ct string
	)
	switch b := body.(type) {
	case nil:
		r = bytes.NewReader(nil)
	case url.Values:
		r, ct = bytes.NewReader([]byte(b.Encode())), "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+s.notesToken)
	return s.do(req)
}

// callOK calls the API and fails unless the answer is 200; it returns the body.
func (s *notesServer) callOK(t *testing.T, method, path string, body any) []byte {
	t.Helper()
	resp, out := s.call(t, method, path, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
	}
	return out
}

func (s *notesServer) newNotebook(t *testing.T, name string) notebookItem {
	t.Helper()
	var nb notebookItem
	decodeStrict(t, s.callOK(t, http.MethodPost, "notes/notebooks", url.Values{"name": {name}}), &nb)
	return nb
}

func (s *notesServer) encrypt(t *testing.T, text string) string {
	t.Helper()
	c, err := notesclient.Encrypt(s.key, text)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *notesServer) decrypt(t *testing.T, text string) string {
	t.Helper()
	p, err := notesclient.Decrypt(s.key, text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// saveNote posts a note's fields and decodes the answer.
func (s *notesServer) saveNote(t *testing.T, fields url.Values) noteItem {
	t.Helper()
	var n noteItem
	decodeStrict(t, s.callOK(t, http.MethodPost, "notes", fields), &n)
	return n
}

// newNote saves a new encrypted note.
func (s *notesServer) newNote(t *testing.T, notebook int64, text string) noteItem {
	t.Helper()
	return s.saveNote(t, url.Values{"notebook_id": {id(notebook)}, "text": {s.encrypt(t, text)}, "is_encrypted": {"true"}})
}

func (s *notesServer) note(t *testing.T, noteID int64) noteItem {
	t.Helper()
	var n noteItem
	decodeStrict(t, s.callOK(t, http.MethodGet, "notes/"+id(noteID), nil), &n)
	return n
}

func (s *notesServer) listNotes(t *testing.T, notebook int64, query string) []noteItem {
	t.Helper()
	var f jsonFeed[noteItem]
	decodeStrict(t, s.callOK(t, http.MethodGet, "notes/notebooks/"+id(notebook)+query, nil), &f)
	return f.Items
}

// sqlFile opens the server's SQLite file beside the server, as another program would.
func (s *notesServer) sqlFile(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.db.Dir(), "micropubd.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fileBytes returns the database and its write-ahead log as they are on disk.
func (s *notesServer) fileBytes(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, name := range []string{"micropubd.db", "micropubd.db-wal", "micropubd.db-journal"} {
		b, err := os.ReadFile(filepath.Join(s.db.Dir(), name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func id(n int64) string { return strconv.FormatInt(n, 10) }
