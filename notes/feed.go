package notes

import (
	"strconv"
	"time"

	"github.com/micropubd/micropubd"
)

// The API answers in JSON Feed 1.1 with Micro.blog's _microblog members, as its clients expect:
// ids are numbers, flags booleans, URLs absolute, dates like 2024-01-10T17:04:26.000+00:00.

const dateLayout = "2006-01-02T15:04:05.000-07:00"

func date(t time.Time) string { return t.UTC().Format(dateLayout) }

type feed struct {
	Version     string `json:"version"`
	Title       string `json:"title"`
	HomePageURL string `json:"home_page_url"`
	FeedURL     string `json:"feed_url"`
	Microblog   any    `json:"_microblog,omitempty"`
	Items       any    `json:"items"`
}

type colors struct {
	Light string `json:"light"`
	Dark  string `json:"dark"`
}

type notebookItem struct {
	ID            int64        `json:"id"`
	Title         string       `json:"title"`
	Name          string       `json:"name"`
	URL           string       `json:"url"`
	DatePublished string       `json:"date_published"`
	DateModified  string       `json:"date_modified"`
	Microblog     notebookMeta `json:"_microblog"`
}

type notebookMeta struct {
	Colors   colors `json:"colors"`
	Type     string `json:"type"`
	Position string `json:"position"`
}

// notebookRef is how a listing of notes names its notebook.
type notebookRef struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Colors colors `json:"colors"`
	Type   string `json:"type"`
}

type noteItem struct {
	ID            int64    `json:"id"`
	Title         string   `json:"title"`
	ContentText   string   `json:"content_text"`
	ContentHTML   string   `json:"content_html"`
	URL           string   `json:"url"`
	DatePublished string   `json:"date_published"`
	DateModified  string   `json:"date_modified"`
	Microblog     noteMeta `json:"_microblog"`
}

type noteMeta struct {
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

func (h *Handler) notebookItem(nb *micropubd.Notebook) notebookItem {
	return notebookItem{
		ID: nb.ID, Title: nb.Name, Name: nb.Name, URL: h.url("notes/notebooks/" + strconv.FormatInt(nb.ID, 10)),
		DatePublished: date(nb.Created), DateModified: date(nb.Modified),
		Microblog: notebookMeta{Colors: colors{nb.ColorLight, nb.ColorDark}, Type: nb.Type, Position: nb.Position},
	}
}

func (h *Handler) noteItem(n *micropubd.Note) noteItem {
	it := noteItem{
		ID: n.ID, Title: n.Title, ContentText: n.Text, URL: h.url("notes/" + strconv.FormatInt(n.ID, 10)),
		DatePublished: date(n.Created), DateModified: date(n.Modified),
		Microblog: noteMeta{
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
