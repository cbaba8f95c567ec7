package micropubd

import "time"

// Notebook types: notes the owner writes, and notes about books (the Mac app's reading notes).
const (
	NotebookNotes   = "notes"
	NotebookReading = "reading"
)

// SharedPathPrefix starts the path of every post published by sharing a note: "s/" and an
// unguessable token. The site serves those pages with headers that keep the token private.
const SharedPathPrefix = "s/"

// Notebook holds notes. Its colours are CSS colours for light and dark themes.
type Notebook struct {
	ID         int64
	Name       string
	Type       string
	ColorLight string
	ColorDark  string
	// Position orders notebooks by hand: lowercase keys compared byte-wise, ties broken by ID.
	Position string
	Created  time.Time
	Modified time.Time
}

// Note is one of the owner's notes. The server cannot read it: Text is the ciphertext the
// client made (base64 of nonce, ciphertext and tag) unless the note is shared, when it is the
// plain Markdown that was published.
type Note struct {
	ID         int64
	NotebookID int64
	// Title is "" unless the client set one; clients take titles from the decrypted text.
	Title     string
	Text      string
	Encrypted bool
	// PostID is the post a shared note is published as; 0 when the note is not shared.
	PostID int64
	// SharedPath and SharedHTML describe that post (its path and published HTML), read with the note.
	SharedPath string
	SharedHTML string
	Position   string
	// Attachments some clients make: a book (the Mac app's reading notes) or a post.
	BookISBN       string
	BookTitle      string
	AttachedPostID int64
	Created        time.Time
	Modified       time.Time
}

// IsShared reports whether the note is published as a post.
func (n *Note) IsShared() bool { return n.PostID != 0 }

// NoteVersion is an earlier text of a note, kept for a while so it can be restored.
type NoteVersion struct {
	ID        int64
	NoteID    int64
	Text      string
	Encrypted bool
	// Created is when this text was saved; Replaced when a newer one took its place.
	Created  time.Time
	Replaced time.Time
}

// Note orders for listings.
const (
	NoteSortModified = "modified"
	NoteSortCreated  = "created"
	NoteSortPosition = "position"
)

// NoteFilter selects the notes of a notebook. Zero values select everything.
type NoteFilter struct {
	NotebookID     int64
	IDs            []int64
	SharedOnly     bool
	ModifiedAfter  time.Time
	ModifiedBefore time.Time
	CreatedAfter   time.Time
	CreatedBefore  time.Time
	// Sort is NoteSortModified (newest first, the default), NoteSortCreated (newest first) or
	// NoteSortPosition (by hand).
	Sort   string
	Limit  int
	Offset int
}
