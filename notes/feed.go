package notes

import (
	"fmt"
	"strconv"
	"time"

	"github.com/micropubd/micropubd"
)

// The API answers in JSON Feed 1.1 with Micro.blog's _microblog members, as its clients expect:
// ids are numbers, flags booleans, URLs absolute, dates like 2024-01-10T17:04:26.000+00:00.
// The handler writes NotebookItem and NoteItem, and Client reads them.

const dateLayout = "2006-01-02T15:04:05.000-07:00"

func date(t time.Time) string { return t.UTC().Format(dateLayout) }

// ParseDate reads a date of the API (date_published, date_modified); Micro.blog's own server
// leaves out the milliseconds, which is read too.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date of the notes API", s)
	}
	return t, nil
}

type feed struct {
	Version     string `json:"version"`
	Title       string `json:"title"`
	HomePageURL string `json:"home_page_url"`
	FeedURL     string `json:"feed_url"`
	Microblog   any    `json:"_microblog,omitempty"`
	Items       any    `json:"items"`
}

// Colors are a notebook's CSS colours for light and dark themes.
type Colors struct {
	Light string `json:"light"`
	Dark  string `json:"dark"`
}

// NotebookItem is a notebook as the API answers it.
type NotebookItem struct {
	ID            int64        `json:"id"`
	Title         string       `json:"title"`
	Name          string       `json:"name"`
	URL           string       `json:"url"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified"`
	Microblog     NotebookMeta `json:"_microblog"`
}

// NotebookMeta is a notebook's _microblog member.
type NotebookMeta struct {
	Colors   Colors `json:"colors"`
	Type     string `json:"type"`
	Position string `json:"position"`
}

// notebookRef is how a listing of notes names its notebook.
type notebookRef struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Colors Colors `json:"colors"`
	Type   string `json:"type"`
}

// NoteItem is a note as the API answers it. ContentText is the ciphertext of a private note
// and the plain Markdown of a shared one (Microblog.IsEncrypted says which).
type NoteItem struct {
	ID            int64    `json:"id"`
	Title         string   `json:"title"`
	ContentText   string   `json:"content_text"`
	ContentHTML   string   `json:"content_html"`
	URL           string   `json:"url"`
	DatePublished string   `json:"date_published"`
	DateModified  string   `json:"date_modified"`
	Microblog     NoteMeta `json:"_microblog"`
}

// NoteMeta is a note's _microblog member.
type NoteMeta struct {
	IsEncrypted       bool   `json:"is_encrypted"`
	IsShared          bool   `json:"is_shared"`
	SharedURL         string `json:"shared_url"`
	NotebookID        int64  `json:"notebook_id"`
	Position          string `json:"position"`
	AttachedBookISBN  string `json:"attached_book_isbn,omitempty"`
	AttachedBookTitle string `json:"attached_book_title,omitempty"`
	AttachedPostID    int64  `json:"attached_post_id,omitempty"`
}

type versionItem struct {
	ID            int64       `json:"id"`
	ContentText   string      `json:"content_text"`
	DatePublished string      `json:"date_published"`
	Microblog     versionMeta `json:"_microblog"`
}

type versionMeta struct {
	IsEncrypted  bool   `json:"is_encrypted"`
	DateReplaced string `json:"date_replaced"`
}

func (h *Handler) notebookItem(nb *micropubd.Notebook) NotebookItem {
	return NotebookItem{
		ID: nb.ID, Title: nb.Name, Name: nb.Name, URL: h.url("notes/notebooks/" + strconv.FormatInt(nb.ID, 10)),
		DatePublished: date(nb.Created), DateModified: date(nb.Modified),
		Microblog: NotebookMeta{Colors: Colors{nb.ColorLight, nb.ColorDark}, Type: nb.Type, Position: nb.Position},
	}
}

func (h *Handler) noteItem(n *micropubd.Note) NoteItem {
	it := NoteItem{
		ID: n.ID, Title: n.Title, ContentText: n.Text, URL: h.url("notes/" + strconv.FormatInt(n.ID, 10)),
		DatePublished: date(n.Created), DateModified: date(n.Modified),
		Microblog: NoteMeta{
			IsEncrypted: n.Encrypted, IsShared: n.IsShared(), SharedURL: h.Notes.SharedURL(n),
			NotebookID: n.NotebookID, Position: n.Position,
			AttachedBookISBN: n.BookISBN, AttachedBookTitle: n.BookTitle, AttachedPostID: n.AttachedPostID,
		},
	}
	if n.IsShared() {
		it.ContentHTML = n.SharedHTML
	}
	return it
}
