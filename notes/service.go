// Package notes is the notes API: notebooks of notes encrypted in the client, compatible with
// Micro.blog's notes clients. The server stores ciphertext it cannot read; sharing a note
// publishes its plain text as a post through micropub.Service, the one path to a post, and
// unsharing takes the post down and leaves no plain text behind.
package notes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
)

// Store is what the notes need from storage. Calls made with the context InTx gives run in
// its transaction.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Checkpoint empties the write-ahead log, where deleted text could linger.
	Checkpoint(ctx context.Context) error

	CreateNotebook(ctx context.Context, nb *micropubd.Notebook) error
	UpdateNotebook(ctx context.Context, nb *micropubd.Notebook) error
	Notebook(ctx context.Context, id int64) (*micropubd.Notebook, error)
	NotebookOfType(ctx context.Context, typ string) (*micropubd.Notebook, error)
	Notebooks(ctx context.Context) ([]*micropubd.Notebook, error)
	DeleteNotebook(ctx context.Context, id int64) error
	SetNotebookPositions(ctx context.Context, positions map[int64]string) error

	CreateNote(ctx context.Context, n *micropubd.Note) error
	UpdateNote(ctx context.Context, n *micropubd.Note) error
	Note(ctx context.Context, id int64) (*micropubd.Note, error)
	Notes(ctx context.Context, f micropubd.NoteFilter) ([]*micropubd.Note, error)
	DeleteNote(ctx context.Context, id int64) error
	// NoteOrder returns the ids of a notebook's notes in hand-set order.
	NoteOrder(ctx context.Context, notebookID int64) ([]int64, error)
	SetNotePositions(ctx context.Context, notebookID int64, positions map[int64]string) error

	AddNoteVersion(ctx context.Context, v *micropubd.NoteVersion) error
	NoteVersions(ctx context.Context, noteID int64, since time.Time) ([]*micropubd.NoteVersion, error)
	DeletePlainNoteVersions(ctx context.Context, noteID int64) error
	PruneNoteVersions(ctx context.Context, before time.Time) error
}

// Publisher is the post service, through which shared notes become posts.
type Publisher interface {
	Create(ctx context.Context, req *micropub.Request, opts micropub.CreateOptions) (*micropubd.Post, error)
	Update(ctx context.Context, req *micropub.Request) (*micropub.UpdateResult, error)
	Erase(ctx context.Context, rawURL string) error
}

// Limits of the notes API.
const (
	// MaxText is the longest note text, ciphertext or plain (base64 makes ciphertext a third
	// longer than the note).
	MaxText = 1 << 20
	// MaxNameLen is the longest notebook name, in bytes.
	MaxNameLen = 200
	// maxBulk is the most notes one move or delete acts on.
	maxBulk = 1000
	// DefaultKeepVersions is how long an earlier text is kept after it was replaced.
	DefaultKeepVersions = 60 * 24 * time.Hour
)

// Service holds the notes logic: notebooks, notes, versions, order, sharing.
type Service struct {
	Store Store
	Posts Publisher
	// BaseURL is the site's public URL, ending in "/".
	BaseURL *url.URL
	// KeepVersions is how long earlier texts are kept; 0 means DefaultKeepVersions.
	KeepVersions time.Duration
	Now          func() time.Time
	Log          *slog.Logger

	// A checkpoint that readers held up is retried in the background.
	checkpointMu      sync.Mutex
	checkpointPending bool
	checkpointRunning bool
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// SharedURL returns the address of a shared note's post, or "".
func (s *Service) SharedURL(n *micropubd.Note) string {
	if !n.IsShared() {
		return ""
	}
	return s.BaseURL.String() + n.SharedPath
}

func invalid(format string, args ...any) error {
	return &micropub.Error{Status: http.StatusBadRequest, Code: micropub.CodeInvalidRequest, Description: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &micropub.Error{Status: http.StatusNotFound, Code: micropub.CodeNotFound, Description: fmt.Sprintf(format, args...)}
}

// notebookPalette are the colours (light, dark) new notebooks get in turn.
var notebookPalette = [][2]string{
	{"#fef9da", "#1f252e"}, // Micro.blog's own
	{"#e3f2fd", "#1a2633"},
	{"#e8f5e9", "#1b2a1f"},
	{"#fce4ec", "#2e1c23"},
	{"#ede7f6", "#241f2e"},
	{"#fff3e0", "#2e2419"},
}

// NotebookInput is a notebook to create (ID 0) or change; nil fields are left as they are.
type NotebookInput struct {
	ID         int64
	Name       *string
	ColorLight *string
	ColorDark  *string
	Type       string
}

// SaveNotebook creates or changes a notebook.
func (s *Service) SaveNotebook(ctx context.Context, in NotebookInput) (*micropubd.Notebook, error) {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			return nil, invalid("a notebook needs a name")
		}
		if len(name) > MaxNameLen {
			return nil, invalid("a notebook name has at most %d bytes", MaxNameLen)
		}
		in.Name = &name
	}
	for _, c := range []*string{in.ColorLight, in.ColorDark} {
		if c != nil && !validColor(*c) {
			return nil, invalid("%q is not a colour: write it as #rgb or #rrggbb", *c)
		}
	}
	switch in.Type {
	case "", micropubd.NotebookNotes, micropubd.NotebookReading:
	default:
		return nil, invalid("a notebook's type is notes or reading, not %q", in.Type)
	}
	var nb *micropubd.Notebook
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if in.ID == 0 {
			if in.Name == nil {
				return invalid("a notebook needs a name")
			}
			var err error
			nb, err = s.newNotebook(ctx, *in.Name, cmp.Or(in.Type, micropubd.NotebookNotes), in.ColorLight, in.ColorDark, now)
			return err
		}
		var err error
		if nb, err = s.Notebook(ctx, in.ID); err != nil {
			return err
		}
		if in.Name != nil {
			nb.Name = *in.Name
		}
		if in.ColorLight != nil {
			nb.ColorLight = *in.ColorLight
		}
		if in.ColorDark != nil {
			nb.ColorDark = *in.ColorDark
		}
		nb.Modified = now
		return s.Store.UpdateNotebook(ctx, nb)
	})
	return nb, err
}

// newNotebook stores a notebook at the end of the owner's list, in the colours given or else
// the next ones of the palette.
func (s *Service) newNotebook(ctx context.Context, name, typ string, light, dark *string, now time.Time) (*micropubd.Notebook, error) {
	all, err := s.Store.Notebooks(ctx)
	if err != nil {
		return nil, err
	}
	last := ""
	if len(all) > 0 {
		last = all[len(all)-1].Position
	}
	colors := notebookPalette[len(all)%len(notebookPalette)]
	nb := &micropubd.Notebook{Name: name, Type: typ, ColorLight: colors[0], ColorDark: colors[1],
		Position: "n", Created: now, Modified: now}
	if last != "" {
		nb.Position = after(last)
	}
	if light != nil {
		nb.ColorLight = *light
	}
	if dark != nil {
		nb.ColorDark = *dark
	}
	if err := s.Store.CreateNotebook(ctx, nb); err != nil {
		return nil, err
	}
	if len(nb.Position) > maxPositionLen {
		if err := s.respaceNotebooks(ctx); err != nil {
			return nil, err
		}
		return s.Store.Notebook(ctx, nb.ID)
	}
	return nb, nil
}

func validColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// Notebook returns one notebook.
func (s *Service) Notebook(ctx context.Context, id int64) (*micropubd.Notebook, error) {
	nb, err := s.Store.Notebook(ctx, id)
	if errors.Is(err, micropubd.ErrNotFound) {
		return nil, notFound("there is no notebook %d", id)
	}
	return nb, err
}

// Notebooks lists the notebooks in the owner's order.
func (s *Service) Notebooks(ctx context.Context) ([]*micropubd.Notebook, error) {
	return s.Store.Notebooks(ctx)
}

// DeleteNotebook deletes a notebook and its notes; shared notes are unshared first.
func (s *Service) DeleteNotebook(ctx context.Context, id int64) error {
	var erased bool
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Notebook(ctx, id); err != nil {
			return err
		}
		shared, err := s.Store.Notes(ctx, micropubd.NoteFilter{NotebookID: id, SharedOnly: true})
		if err != nil {
			return err
		}
		for _, n := range shared {
			if err := s.takeDown(ctx, n); err != nil {
				return err
			}
			erased = true
		}
		return s.Store.DeleteNotebook(ctx, id)
	})
	if err == nil && erased {
		s.checkpoint(ctx)
	}
	return err
}

// NoteInput is a note to save as a client sends it.
type NoteInput struct {
	ID         int64 // 0: a new note
	NotebookID int64 // 0: not given
	Text       string
	// Encrypted is nil when the client did not say; then the text is encrypted unless shared.
	Encrypted *bool
	Sharing   bool
	Unsharing bool
	Title     *string
	// Attachments, when given.
	BookISBN       *string
	BookTitle      *string
	AttachedPostID *int64
}

// SaveNote creates or saves a note, sharing or unsharing it as asked, all in one transaction
// with the post: if publishing fails the note is unchanged.
func (s *Service) SaveNote(ctx context.Context, in NoteInput) (*micropubd.Note, error) {
	if in.Encrypted == nil && in.ID != 0 && !in.Sharing && !in.Unsharing {
		// A client that does not say (Strata, Lillihub) saving a shared note sends its plain
		// text, unless the text is ciphertext: read it as the note's state says.
		if n, err := s.Store.Note(ctx, in.ID); err == nil && n.IsShared() {
			_, err := DecodeCiphertext(in.Text)
			encrypted := err == nil
			in.Encrypted = &encrypted
		}
	}
	encrypted, err := checkNoteInput(in)
	if err != nil {
		return nil, err
	}
	var (
		id     int64
		erased bool
	)
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		n, err := s.noteToSave(ctx, in, now)
		if err != nil {
			return err
		}
		isNew := n.ID == 0
		switch {
		case n.IsShared() && encrypted && !in.Unsharing:
			return invalid("note %d is shared: save it with is_encrypted=false and its plain text, or unshare it with is_unsharing=true and its encrypted text", n.ID)
		case !n.IsShared() && !encrypted && !in.Sharing:
			return invalid("a private note must be encrypted in the client (is_encrypted=true); only a note being shared is sent in plain text")
		}
		if in.Title != nil {
			n.Title = *in.Title
		}
		if in.BookISBN != nil {
			n.BookISBN = *in.BookISBN
		}
		if in.BookTitle != nil {
			n.BookTitle = *in.BookTitle
		}
		if in.AttachedPostID != nil {
			n.AttachedPostID = *in.AttachedPostID
		}
		old := *n
		n.Text, n.Encrypted, n.Modified = in.Text, encrypted, now
		changed := old.Text != n.Text || old.Encrypted != n.Encrypted

		switch {
		case in.Sharing && !n.IsShared():
			if err := s.publish(ctx, n); err != nil {
				return err
			}
		case n.IsShared() && !encrypted && changed:
			if err := s.republish(ctx, n); err != nil {
				return err
			}
		case in.Unsharing && n.IsShared():
			if err := s.takeDown(ctx, n); err != nil {
				return err
			}
			n.PostID, n.SharedPath, n.SharedHTML = 0, "", ""
			if err := s.Store.DeletePlainNoteVersions(ctx, n.ID); err != nil {
				return err
			}
			erased = true
		}

		if isNew {
			if err := s.Store.CreateNote(ctx, n); err != nil {
				return err
			}
			if len(n.Position) > maxPositionLen {
				if err := s.respaceNotes(ctx, n.NotebookID); err != nil {
					return err
				}
			}
		} else if err := s.Store.UpdateNote(ctx, n); err != nil {
			return err
		}
		// The earlier text becomes a version, unless it is plain text of a note no longer shared.
		if !isNew && changed && (old.Encrypted || n.IsShared()) {
			if err := s.Store.AddNoteVersion(ctx, &micropubd.NoteVersion{
				NoteID: n.ID, Text: old.Text, Encrypted: old.Encrypted, Created: old.Modified, Replaced: now,
			}); err != nil {
				return err
			}
		}
		id = n.ID
		return s.Store.PruneNoteVersions(ctx, s.versionsSince(now))
	})
	if err != nil {
		return nil, err
	}
	if erased {
		s.checkpoint(ctx)
	}
	return s.Store.Note(ctx, id)
}

// checkNoteInput checks what needs no stored state and works out whether the text is encrypted.
func checkNoteInput(in NoteInput) (encrypted bool, err error) {
	if in.Sharing && in.Unsharing {
		return false, invalid("is_sharing and is_unsharing cannot both be true")
	}
	encrypted = !in.Sharing
	if in.Encrypted != nil {
		encrypted = *in.Encrypted
	}
	switch {
	case len(in.Text) > MaxText:
		return false, &micropub.Error{Status: http.StatusRequestEntityTooLarge, Code: micropub.CodeTooLarge,
			Description: fmt.Sprintf("a note's text has at most %d bytes (1 MB)", MaxText)}
	case in.Sharing && encrypted:
		return false, invalid("a note is shared in plain text: send is_sharing=true with is_encrypted=false and the decrypted text")
	case in.Unsharing && !encrypted:
		return false, invalid("unsharing stores the note encrypted again: send is_unsharing=true with is_encrypted=true and the re-encrypted text")
	case in.Sharing && strings.TrimSpace(in.Text) == "":
		return false, invalid("there is nothing to share: the text is empty")
	case encrypted:
		if _, err := DecodeCiphertext(in.Text); err != nil {
			return false, invalid("text is marked as encrypted but is not a note's ciphertext: %v", err)
		}
	}
	if in.Title != nil && len(*in.Title) > MaxNameLen {
		return false, invalid("a note's title has at most %d bytes", MaxNameLen)
	}
	return encrypted, nil
}

// noteToSave loads the note to save, or starts a new one in the notebook the input names.
func (s *Service) noteToSave(ctx context.Context, in NoteInput, now time.Time) (*micropubd.Note, error) {
	if in.ID != 0 {
		n, err := s.Note(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		if in.NotebookID != 0 && in.NotebookID != n.NotebookID {
			return nil, invalid("note %d is in notebook %d, not %d; move notes with POST /notes/move", n.ID, n.NotebookID, in.NotebookID)
		}
		return n, nil
	}
	var nb *micropubd.Notebook
	var err error
	switch {
	case in.NotebookID != 0:
		nb, err = s.Notebook(ctx, in.NotebookID)
	case in.BookISBN != nil && *in.BookISBN != "":
		// The Mac app's book notes come without a notebook: they go to the reading notebook.
		nb, err = s.Store.NotebookOfType(ctx, micropubd.NotebookReading)
		if errors.Is(err, micropubd.ErrNotFound) {
			nb, err = s.newNotebook(ctx, "Reading", micropubd.NotebookReading, nil, nil, now)
		}
	default:
		return nil, invalid("notebook_id is required for a new note")
	}
	if err != nil {
		return nil, err
	}
	first, err := s.Store.Notes(ctx, micropubd.NoteFilter{NotebookID: nb.ID, Sort: micropubd.NoteSortPosition, Limit: 1})
	if err != nil {
		return nil, err
	}
	position := "n"
	if len(first) > 0 {
		position = before(first[0].Position)
	}
	// New notes go first in the hand-set order; keys grown too long are respaced after the save.
	return &micropubd.Note{NotebookID: nb.ID, Position: position, Created: now}, nil
}

// publish makes a shared note's post at a new unguessable address.
func (s *Service) publish(ctx context.Context, n *micropubd.Note) error {
	props, err := postProperties(n.Text)
	if err != nil {
		return err
	}
	req := &micropub.Request{Action: micropub.ActionCreate, Type: []string{"h-entry"}, Properties: props}
	for range 3 { // a token already taken is as good as impossible, but cheap to handle
		post, err := s.Posts.Create(ctx, req, micropub.CreateOptions{Path: micropubd.SharedPathPrefix + shareToken()})
		if errors.Is(err, micropubd.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("publish the note: %w", err)
		}
		n.PostID, n.SharedPath = post.ID, post.Path
		return nil
	}
	return errors.New("publish the note: no free address")
}

// republish updates a shared note's post with its new text. Its visibility is the owner's: a
// post promoted to public stays public.
func (s *Service) republish(ctx context.Context, n *micropubd.Note) error {
	props, err := postProperties(n.Text)
	if err != nil {
		return err
	}
	replace := micropubd.Properties{"content": props["content"], "name": props["name"], "category": props["category"]}
	for k, v := range replace {
		if v == nil {
			replace[k] = []any{} // an empty replace removes the property
		}
	}
	_, err = s.Posts.Update(ctx, &micropub.Request{Action: micropub.ActionUpdate, URL: s.SharedURL(n), Replace: replace})
	if err != nil {
		return fmt.Errorf("update the shared note's post: %w", err)
	}
	return nil
}

// Note returns one note.
func (s *Service) Note(ctx context.Context, id int64) (*micropubd.Note, error) {
	n, err := s.Store.Note(ctx, id)
	if errors.Is(err, micropubd.ErrNotFound) {
		return nil, notFound("there is no note %d", id)
	}
	return n, err
}

// Notes lists the notes of a notebook.
func (s *Service) Notes(ctx context.Context, f micropubd.NoteFilter) ([]*micropubd.Note, error) {
	return s.Store.Notes(ctx, f)
}

// takeDown erases the post of a shared note: its address answers 410 and none of its text
// is kept. Versions of the note saved in plain text are the caller's to delete.
func (s *Service) takeDown(ctx context.Context, n *micropubd.Note) error {
	if err := s.Posts.Erase(ctx, s.SharedURL(n)); err != nil {
		return fmt.Errorf("take down the shared note %d: %w", n.ID, err)
	}
	return nil
}

// Versions returns a note's earlier texts kept, newest first.
func (s *Service) Versions(ctx context.Context, id int64) ([]*micropubd.NoteVersion, error) {
	if _, err := s.Note(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.NoteVersions(ctx, id, s.versionsSince(s.now()))
}

// versionsSince is when the oldest version still kept was replaced.
func (s *Service) versionsSince(now time.Time) time.Time {
	return now.Add(-cmp.Or(s.KeepVersions, DefaultKeepVersions))
}

// PruneVersions deletes the versions kept long enough; saving a note does it too.
func (s *Service) PruneVersions(ctx context.Context) error {
	return s.Store.PruneNoteVersions(ctx, s.versionsSince(s.now()))
}

// DeleteNotes deletes notes, all or none; shared ones are unshared first.
func (s *Service) DeleteNotes(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return invalid("name the notes to delete with id")
	}
	if len(ids) > maxBulk {
		return invalid("at most %d notes at once", maxBulk)
	}
	ids = uniqueIDs(ids)
	var erased bool
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		for _, id := range ids {
			n, err := s.Note(ctx, id)
			if err != nil {
				return err
			}
			if n.IsShared() {
				if err := s.takeDown(ctx, n); err != nil {
					return err
				}
				erased = true
			}
			if err := s.Store.DeleteNote(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && erased {
		s.checkpoint(ctx)
	}
	return err
}

// MoveNotes moves notes to another notebook, all or none.
func (s *Service) MoveNotes(ctx context.Context, ids []int64, notebookID int64) error {
	if len(ids) == 0 {
		return invalid("name the notes to move with id")
	}
	if notebookID == 0 {
		return invalid("notebook_id names the notebook to move the notes to")
	}
	if len(ids) > maxBulk {
		return invalid("at most %d notes at once", maxBulk)
	}
	ids = uniqueIDs(ids)
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Notebook(ctx, notebookID); err != nil {
			return err
		}
		for _, id := range ids {
			n, err := s.Note(ctx, id)
			if err != nil {
				return err
			}
			n.NotebookID = notebookID
			if err := s.Store.UpdateNote(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReorderNotes sets the hand-set positions of notes of one notebook in one transaction, and
// respaces the notebook's keys if one grew too long.
func (s *Service) ReorderNotes(ctx context.Context, notebookID int64, positions map[int64]string) error {
	if err := checkPositions(positions); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Notebook(ctx, notebookID); err != nil {
			return err
		}
		err := s.Store.SetNotePositions(ctx, notebookID, positions)
		if errors.Is(err, micropubd.ErrNotFound) {
			return invalid("every note to reorder must be in notebook %d: %v", notebookID, err)
		}
		if err != nil || !needsRespacing(slices.Collect(maps.Values(positions))) {
			return err
		}
		return s.respaceNotes(ctx, notebookID)
	})
}

// ReorderNotebooks sets the hand-set positions of notebooks in one transaction.
func (s *Service) ReorderNotebooks(ctx context.Context, positions map[int64]string) error {
	if err := checkPositions(positions); err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		err := s.Store.SetNotebookPositions(ctx, positions)
		if errors.Is(err, micropubd.ErrNotFound) {
			return invalid("every notebook to reorder must exist: %v", err)
		}
		if err != nil || !needsRespacing(slices.Collect(maps.Values(positions))) {
			return err
		}
		return s.respaceNotebooks(ctx)
	})
}

func checkPositions(positions map[int64]string) error {
	if len(positions) == 0 {
		return invalid("positions maps ids to positions, and is empty")
	}
	if len(positions) > maxBulk {
		return invalid("at most %d positions at once", maxBulk)
	}
	for id, p := range positions {
		if err := validPosition(p); err != nil {
			return invalid("position of %d: %v", id, err)
		}
	}
	return nil
}

// respaceNotes gives a notebook's notes short, evenly spread keys in their present order: once
// a key has grown too long.
func (s *Service) respaceNotes(ctx context.Context, notebookID int64) error {
	ids, err := s.Store.NoteOrder(ctx, notebookID)
	if err != nil {
		return err
	}
	keys := spaced(len(ids))
	positions := make(map[int64]string, len(ids))
	for i, id := range ids {
		positions[id] = keys[i]
	}
	return s.Store.SetNotePositions(ctx, notebookID, positions)
}

func (s *Service) respaceNotebooks(ctx context.Context) error {
	all, err := s.Store.Notebooks(ctx)
	if err != nil {
		return err
	}
	keys := spaced(len(all))
	positions := make(map[int64]string, len(all))
	for i, nb := range all {
		positions[nb.ID] = keys[i]
	}
	return s.Store.SetNotebookPositions(ctx, positions)
}

// checkpoint empties the write-ahead log after plain text was erased, so that no copy of it
// stays there. Readers can hold it up: then it is tried again in the background, with a
// growing pause, until it succeeds.
func (s *Service) checkpoint(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // the answer may be sent; the erasure must still finish
	err := s.Store.Checkpoint(ctx)
	if err == nil {
		return
	}
	if !errors.Is(err, micropubd.ErrBusy) {
		s.log().ErrorContext(ctx, "notes: checkpoint after erasing plain text failed", "err", err)
		return
	}
	s.checkpointMu.Lock()
	s.checkpointPending = true
	running := s.checkpointRunning
	s.checkpointRunning = true
	s.checkpointMu.Unlock()
	if !running {
		go s.retryCheckpoint(ctx)
	}
}

// retryCheckpoint checkpoints until no erasure is waiting for one.
func (s *Service) retryCheckpoint(ctx context.Context) {
	pause := 100 * time.Millisecond
	for {
		s.checkpointMu.Lock()
		if !s.checkpointPending {
			s.checkpointRunning = false
			s.checkpointMu.Unlock()
			return
		}
		s.checkpointPending = false
		s.checkpointMu.Unlock()
		for {
			time.Sleep(pause)
			err := s.Store.Checkpoint(ctx)
			if err == nil {
				break
			}
			if !errors.Is(err, micropubd.ErrBusy) {
				s.log().ErrorContext(ctx, "notes: checkpoint after erasing plain text failed", "err", err)
				s.checkpointMu.Lock()
				s.checkpointRunning = false
				s.checkpointMu.Unlock()
				return
			}
			pause = min(pause*2, 5*time.Second)
		}
	}
}

func uniqueIDs(ids []int64) []int64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}
