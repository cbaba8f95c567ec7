// Package notesclient is the client side of the notes: the key and the encryption every notes
// client uses, and a client of the notes API, for the command line and the tests. The server
// (package notes) never holds a key.
package notesclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/micropubd/micropubd/notes"
)

// Client talks to a notes API (micropubd's, or Micro.blog's) with an access token of the notes
// scope. It moves text as it is: encrypting and decrypting is the caller's, with Encrypt and
// Decrypt, so the key never reaches the client.
type Client struct {
	// BaseURL is the site, such as https://example.com/; the API is under BASEURL/notes.
	BaseURL *url.URL
	Token   string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// PageSize is how many notes AllNotes asks for at a time; 0 means 100, as the Mac app does.
	PageSize int
}

// maxAnswer bounds an answer's body: a page of 100 notes of the longest ciphertext fits.
const maxAnswer = 200 << 20

// APIError is an error answer of the notes API: its status and, when the server sent one,
// its JSON error and error_description.
type APIError struct {
	Status      int
	Code        string
	Description string
}

func (e *APIError) Error() string {
	status := strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Description == "" {
		return "the server answered " + status
	}
	return e.Description + " (" + status + ")"
}

// Page selects a page of a notebook's notes: Count notes (0: the server's default, 100) after
// skipping Offset, sorted by Sort ("" is newest-modified first; "created", "position").
type Page struct {
	Offset int
	Count  int
	Sort   string
}

// NoteSave is a note to create (ID 0, in NotebookID) or save. Text is the ciphertext when
// Encrypted, the plain Markdown when the note is being shared or is shared.
type NoteSave struct {
	ID         int64
	NotebookID int64
	Text       string
	Encrypted  bool
	Sharing    bool
	Unsharing  bool
}

// Notebooks lists the notebooks in the owner's order.
func (c *Client) Notebooks(ctx context.Context) ([]notes.NotebookItem, error) {
	var f struct{ Items []notes.NotebookItem }
	if err := c.do(ctx, http.MethodGet, "notes/notebooks", nil, &f); err != nil {
		return nil, err
	}
	return f.Items, nil
}

// CreateNotebook makes a notebook.
func (c *Client) CreateNotebook(ctx context.Context, name string) (*notes.NotebookItem, error) {
	var nb notes.NotebookItem
	if err := c.do(ctx, http.MethodPost, "notes/notebooks", url.Values{"name": {name}}, &nb); err != nil {
		return nil, err
	}
	return &nb, nil
}

// Notes returns one page of a notebook's notes.
func (c *Client) Notes(ctx context.Context, notebookID int64, p Page) ([]notes.NoteItem, error) {
	q := url.Values{}
	if p.Count > 0 {
		q.Set("count", strconv.Itoa(p.Count))
	}
	if p.Offset > 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	if p.Sort != "" {
		q.Set("sort", p.Sort)
	}
	path := "notes/notebooks/" + strconv.FormatInt(notebookID, 10)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var f struct{ Items []notes.NoteItem }
	if err := c.do(ctx, http.MethodGet, path, nil, &f); err != nil {
		return nil, err
	}
	return f.Items, nil
}

// AllNotes returns every note of a notebook, oldest created first, paging until a page comes
// back short. A note that moves between pages while they are read is returned once.
func (c *Client) AllNotes(ctx context.Context, notebookID int64) ([]notes.NoteItem, error) {
	size := c.PageSize
	if size <= 0 {
		size = 100
	}
	var all []notes.NoteItem
	seen := map[int64]bool{}
	for offset := 0; ; {
		page, err := c.Notes(ctx, notebookID, Page{Offset: offset, Count: size, Sort: "created"})
		if err != nil {
			return nil, err
		}
		for _, n := range page {
			if !seen[n.ID] {
				seen[n.ID] = true
				all = append(all, n)
			}
		}
		if len(page) < size {
			break
		}
		offset += len(page)
	}
	// The server lists newest first; the oldest first is the order to write and read them back in.
	slices.Reverse(all)
	return all, nil
}

// Note returns one note.
func (c *Client) Note(ctx context.Context, id int64) (*notes.NoteItem, error) {
	var n notes.NoteItem
	if err := c.do(ctx, http.MethodGet, "notes/"+strconv.FormatInt(id, 10), nil, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// SaveNote creates or saves a note and returns it as the server stored it.
func (c *Client) SaveNote(ctx context.Context, s NoteSave) (*notes.NoteItem, error) {
	form := url.Values{"text": {s.Text}, "is_encrypted": {strconv.FormatBool(s.Encrypted)}}
	if s.ID != 0 {
		form.Set("id", strconv.FormatInt(s.ID, 10))
	}
	if s.NotebookID != 0 {
		form.Set("notebook_id", strconv.FormatInt(s.NotebookID, 10))
	}
	if s.Sharing {
		form.Set("is_sharing", "true")
	}
	if s.Unsharing {
		form.Set("is_unsharing", "true")
	}
	var n notes.NoteItem
	if err := c.do(ctx, http.MethodPost, "notes", form, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// do sends a request (a form when form is not nil) and decodes a 200 answer into out. Any
// other answer is an *APIError; a server that cannot be reached is named in the error.
func (c *Client) do(ctx context.Context, method, path string, form url.Values, out any) error {
	if c.BaseURL == nil {
		return errors.New("the notes client has no server URL")
	}
	ref, err := url.Parse(path)
	if err != nil {
		return err
	}
	u := c.BaseURL.ResolveReference(ref)
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the whole URL
		}
		return fmt.Errorf("cannot reach the notes server at %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, u.Redacted(), err)
	}
	if len(raw) > maxAnswer {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes", method, u.Redacted(), maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := &APIError{Status: resp.StatusCode}
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(raw, &e) == nil {
			apiErr.Code, apiErr.Description = e.Error, e.Description
		}
		return fmt.Errorf("%s %s: %w", method, u.Redacted(), apiErr)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the notes API's JSON (is %s a micropubd or Micro.blog server?): %w",
			method, u.Redacted(), c.BaseURL, err)
	}
	return nil
}
