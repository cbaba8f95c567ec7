package notes

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/templates"
)

// TokenVerifier checks an access token; it returns micropubd.ErrInvalidToken for tokens that
// are unknown, expired or revoked.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*micropubd.Token, error)
}

// Sessions is the owner's sign-in in the browser, for the web app.
type Sessions interface {
	IsOwner(r *http.Request) bool
	// ValidSessionWrite reports whether a cookie-authenticated write is same-origin and
	// carries the session's CSRF token.
	ValidSessionWrite(r *http.Request, token string) bool
	// SessionCSRF is the token the app sends back with its writes.
	SessionCSRF(r *http.Request) string
	// LoginURL is the sign-in page that comes back to next.
	LoginURL(next string) string
}

// CSRFHeader carries the CSRF token of a write made with the owner's session (the web app);
// plain HTML forms send it as the csrf field instead.
const CSRFHeader = "X-CSRF-Token"

// Listing limits: the Mac app pages with count=100 until a page comes back short.
const (
	defaultCount = 100
	maxCount     = 1000
)

// Handler serves the notes API under BASEURL/notes.
type Handler struct {
	Notes  *Service
	Tokens TokenVerifier
	// Sessions may be nil: then only tokens are accepted, and there is no web app.
	Sessions Sessions
	// SiteName names the site on the app's pages.
	SiteName string
	Log      *slog.Logger
	router   *http.ServeMux
	pages    *templates.Pages
}

// NewHandler routes the notes API and the web app. Paths start with the base URL's path.
// pages are the parsed templates, shared with the other handlers; nil: parsed here.
func NewHandler(notes *Service, tokens TokenVerifier, sessions Sessions, siteName string, pages *templates.Pages, log *slog.Logger) (*Handler, error) {
	pages, err := templates.Shared(pages)
	if err != nil {
		return nil, err
	}
	h := &Handler{Notes: notes, Tokens: tokens, Sessions: sessions, SiteName: siteName, Log: log, pages: pages}
	prefix := strings.TrimSuffix(notes.BaseURL.EscapedPath(), "/") + "/notes"
	r := http.NewServeMux()
	route := func(method, path string, fn func(http.ResponseWriter, *http.Request, url.Values) error) {
		serve := h.serve(fn)
		if strings.Contains(path, "{id}") {
			serve = withID(serve)
		}
		r.HandleFunc(method+" "+prefix+path, serve)
	}
	r.HandleFunc(http.MethodGet+" "+prefix, h.App)
	route(http.MethodPost, "", h.saveNote)
	route(http.MethodGet, "/notebooks", h.listNotebooks)
	route(http.MethodPost, "/notebooks", h.saveNotebook)
	route(http.MethodGet, "/notebooks/{id}", h.listNotes)
	route(http.MethodDelete, "/notebooks/{id}", h.deleteNotebook)
	route(http.MethodPost, "/reorder", h.reorder)
	route(http.MethodPost, "/move", h.moveNotes)
	route(http.MethodPost, "/delete", h.deleteNotes)
	route(http.MethodGet, "/{id}", h.getNote)
	route(http.MethodDelete, "/{id}", h.deleteNote)
	// /{id}/versions as a wildcard: a literal beside /notebooks/{id} would be ambiguous at
	// /notebooks/versions, which ServeMux refuses.
	route(http.MethodGet, "/{id}/{part}", func(w http.ResponseWriter, r *http.Request, v url.Values) error {
		if r.PathValue("part") != "versions" {
			return notFound("there is nothing at %s", r.URL.Path)
		}
		return h.versions(w, r, v)
	})
	// What no route above takes: a JSON 405 naming the methods the path takes, or a 404.
	unrouted := func(w http.ResponseWriter, req *http.Request) {
		if allow := routedMethods(r, req, prefix); allow != "" {
			w.Header().Set("Allow", allow)
			micropub.WriteError(w, &micropub.Error{Status: http.StatusMethodNotAllowed, Code: micropub.CodeInvalidRequest,
				Description: req.Method + " is not supported at " + req.URL.Path})
			return
		}
		micropub.WriteError(w, notFound("there is nothing at %s", req.URL.Path))
	}
	r.HandleFunc(prefix, unrouted)
	r.HandleFunc(prefix+"/", unrouted)
	h.router = r
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// serve authorises the request, reads its fields and runs fn; a returned error is answered
// as JSON. Note text is never logged.
func (h *Handler) serve(fn func(http.ResponseWriter, *http.Request, url.Values) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h.authorize(w, r, fn)
		if err == nil {
			return
		}
		var e *micropub.Error
		if !errors.As(err, &e) && r.Context().Err() == nil {
			h.log().ErrorContext(r.Context(), "notes request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		micropub.WriteError(w, err)
	}
}

// authorize accepts an access token with the notes scope (Authorization: Bearer, or Token as
// the Mac app sends it) or the owner's browser session, whose writes must be same-origin and
// carry the CSRF token. The body is read only once the token checks out.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request, url.Values) error) error {
	if header := r.Header.Get("Authorization"); header != "" {
		scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "Token") || token == "" {
			return &micropub.Error{Status: http.StatusUnauthorized, Code: micropub.CodeUnauthorized,
				Description: "the Authorization header must read: Bearer TOKEN (or Token TOKEN)"}
		}
		t, err := h.Tokens.Verify(r.Context(), token)
		if errors.Is(err, micropubd.ErrInvalidToken) {
			return &micropub.Error{Status: http.StatusUnauthorized, Code: micropub.CodeInvalidToken,
				Description: "the access token is unknown, expired or revoked"}
		}
		if err != nil {
			return err
		}
		if !t.Allows(micropubd.ScopeNotes) {
			return &micropub.Error{Status: http.StatusForbidden, Code: micropub.CodeInsufficientScope, Scope: micropubd.ScopeNotes,
				Description: "the access token does not grant the notes scope"}
		}
		fields, err := readFields(w, r)
		if err != nil {
			return err
		}
		return fn(w, r, fields)
	}
	if h.Sessions == nil || !h.Sessions.IsOwner(r) {
		return &micropub.Error{Status: http.StatusUnauthorized, Code: micropub.CodeUnauthorized,
			Description: "no access token: send Authorization: Bearer TOKEN with a token that has the notes scope, or sign in"}
	}
	fields, err := readFields(w, r)
	if err != nil {
		return err
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		token := r.Header.Get(CSRFHeader)
		if token == "" {
			token = fields.Get("csrf")
		}
		if !h.Sessions.ValidSessionWrite(r, token) {
			return &micropub.Error{Status: http.StatusForbidden, Code: micropub.CodeForbidden,
				Description: "a write signed in with the browser must come from this site's own pages, with their CSRF token"}
		}
	}
	w.Header().Set("Cache-Control", "private, no-store")
	return fn(w, r, fields)
}

// url returns an absolute URL on the site.
func (h *Handler) url(path string) string { return h.Notes.BaseURL.String() + path }

func pathID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id
}

// withID answers 404 for a path whose {id} is not a number, as no note or notebook has it.
func withID(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isID(r.PathValue("id")) {
			micropub.WriteError(w, notFound("there is nothing at %s", r.URL.Path))
			return
		}
		next(w, r)
	}
}

// isID reports whether s can be a note's or notebook's id: digits only.
func isID(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// idsAreNumbers reports whether the segments of path where pattern ("METHOD /path") has
// {id} are numbers, as withID requires.
func idsAreNumbers(pattern, path string) bool {
	_, route, _ := strings.Cut(pattern, " ")
	want, got := strings.Split(route, "/"), strings.Split(path, "/")
	for i, seg := range want {
		if seg == "{id}" && (i >= len(got) || !isID(got[i])) {
			return false
		}
	}
	return true
}

// routedMethods lists the methods router takes at req's path other than through the
// catch-alls at prefix ("" when none).
func routedMethods(router *http.ServeMux, req *http.Request, prefix string) string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := *req
		probe.Method = m
		_, pattern := router.Handler(&probe)
		if pattern != "" && pattern != prefix && pattern != prefix+"/" && idsAreNumbers(pattern, req.URL.EscapedPath()) {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}

func success(w http.ResponseWriter) {
	micropub.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// saveNote is POST /notes: create a note, or save one (id), sharing or unsharing it.
func (h *Handler) saveNote(w http.ResponseWriter, r *http.Request, f url.Values) error {
	in := NoteInput{Text: f.Get("text"), Title: optional(f, "title"),
		BookISBN: optional(f, "attached_book_isbn"), BookTitle: optional(f, "attached_book_title")}
	var err error
	if in.ID, err = idField(f, "id"); err != nil {
		return err
	}
	if in.NotebookID, err = idField(f, "notebook_id"); err != nil {
		return err
	}
	if f.Get("attached_post_id") != "" {
		id, err := idField(f, "attached_post_id")
		if err != nil {
			return err
		}
		in.AttachedPostID = &id
	}
	if !f.Has("text") {
		return invalid("text is required: the note's encrypted text, or its plain text when sharing")
	}
	if in.Encrypted, err = boolField(f, "is_encrypted"); err != nil {
		return err
	}
	for name, dst := range map[string]*bool{"is_sharing": &in.Sharing, "is_unsharing": &in.Unsharing} {
		b, err := boolField(f, name)
		if err != nil {
			return err
		}
		*dst = b != nil && *b
	}
	n, err := h.Notes.SaveNote(r.Context(), in)
	if err != nil {
		return err
	}
	micropub.WriteJSON(w, http.StatusOK, h.noteItem(n))
	return nil
}

// getNote is GET /notes/{id}.
func (h *Handler) getNote(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	n, err := h.Notes.Note(r.Context(), pathID(r))
	if err != nil {
		return err
	}
	micropub.WriteJSON(w, http.StatusOK, h.noteItem(n))
	return nil
}

// deleteNote is DELETE /notes/{id}; clients parse the answer as JSON, so it has a body.
func (h *Handler) deleteNote(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	if err := h.Notes.DeleteNotes(r.Context(), []int64{pathID(r)}); err != nil {
		return err
	}
	success(w)
	return nil
}

// versions is GET /notes/{id}/versions: the earlier texts, newest first.
func (h *Handler) versions(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	id := pathID(r)
	vs, err := h.Notes.Versions(r.Context(), id)
	if err != nil {
		return err
	}
	items := make([]versionItem, len(vs))
	for i, v := range vs {
		items[i] = versionItem{ID: v.ID, ContentText: v.Text, DatePublished: date(v.Created),
			Microblog: versionMeta{IsEncrypted: v.Encrypted, DateReplaced: date(v.Replaced)}}
	}
	micropub.WriteJSON(w, http.StatusOK, feed{Version: "https://jsonfeed.org/version/1.1", Title: "Versions of note " + strconv.FormatInt(id, 10),
		HomePageURL: h.url(""), FeedURL: h.url("notes/" + strconv.FormatInt(id, 10) + "/versions"), Items: items})
	return nil
}

// listNotebooks is GET /notes/notebooks.
func (h *Handler) listNotebooks(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	all, err := h.Notes.Notebooks(r.Context())
	if err != nil {
		return err
	}
	items := make([]NotebookItem, len(all))
	for i, nb := range all {
		items[i] = h.notebookItem(nb)
	}
	micropub.WriteJSON(w, http.StatusOK, feed{Version: "https://jsonfeed.org/version/1.1", Title: "Notebooks",
		HomePageURL: h.url(""), FeedURL: h.url("notes/notebooks"), Items: items})
	return nil
}

// saveNotebook is POST /notes/notebooks: create (name) or rename (id and name), from the body
// or, as Strata sends them, the query string.
func (h *Handler) saveNotebook(w http.ResponseWriter, r *http.Request, f url.Values) error {
	id, err := idField(f, "id")
	if err != nil {
		return err
	}
	nb, err := h.Notes.SaveNotebook(r.Context(), NotebookInput{ID: id, Name: optional(f, "name"),
		ColorLight: optional(f, "color_light"), ColorDark: optional(f, "color_dark"), Type: f.Get("type")})
	if err != nil {
		return err
	}
	micropub.WriteJSON(w, http.StatusOK, h.notebookItem(nb))
	return nil
}

// deleteNotebook is DELETE /notes/notebooks/{id}.
func (h *Handler) deleteNotebook(w http.ResponseWriter, r *http.Request, _ url.Values) error {
	if err := h.Notes.DeleteNotebook(r.Context(), pathID(r)); err != nil {
		return err
	}
	success(w)
	return nil
}

// listNotes is GET /notes/notebooks/{id}: its notes, paged with count and offset, filtered
// and sorted by what needs no plain text.
func (h *Handler) listNotes(w http.ResponseWriter, r *http.Request, f url.Values) error {
	nb, err := h.Notes.Notebook(r.Context(), pathID(r))
	if err != nil {
		return err
	}
	filter := micropubd.NoteFilter{NotebookID: nb.ID, Limit: defaultCount}
	if s := f.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return invalid("count must be a whole number from 1 to %d, not %q", maxCount, s)
		}
		filter.Limit = min(n, maxCount)
	}
	if s := f.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return invalid("offset must be a whole number of notes to skip, not %q", s)
		}
		filter.Offset = n
	}
	switch s := f.Get("sort"); s {
	case "", micropubd.NoteSortModified, micropubd.NoteSortCreated, micropubd.NoteSortPosition:
		filter.Sort = s
	default:
		return invalid("sort is modified, created or position, not %q", s)
	}
	if filter.IDs, err = idsField(f, "ids", "ids[]"); err != nil {
		return err
	}
	if len(filter.IDs) > maxCount {
		return invalid("ids names at most %d notes", maxCount)
	}
	if f.Has("shared") {
		shared, err := boolField(f, "shared")
		if err != nil {
			return err
		}
		filter.SharedOnly = *shared
	}
	for name, dst := range map[string]*time.Time{
		"modified_after": &filter.ModifiedAfter, "modified_before": &filter.ModifiedBefore,
		"created_after": &filter.CreatedAfter, "created_before": &filter.CreatedBefore,
	} {
		if *dst, err = timeField(f, name); err != nil {
			return err
		}
	}
	list, err := h.Notes.Notes(r.Context(), filter)
	if err != nil {
		return err
	}
	items := make([]NoteItem, len(list))
	for i, n := range list {
		items[i] = h.noteItem(n)
	}
	feedURL := h.url("notes/notebooks/" + strconv.FormatInt(nb.ID, 10))
	if q := r.URL.RawQuery; q != "" {
		feedURL += "?" + q
	}
	micropub.WriteJSON(w, http.StatusOK, feed{Version: "https://jsonfeed.org/version/1.1", Title: nb.Name,
		HomePageURL: h.url(""), FeedURL: feedURL,
		Microblog: map[string]any{"notebook": notebookRef{ID: nb.ID, Name: nb.Name, Colors: Colors{nb.ColorLight, nb.ColorDark}, Type: nb.Type}},
		Items:     items})
	return nil
}

// reorder is POST /notes/reorder: positions[ID]=KEY for the notes of notebook_id, or for
// notebooks when type=notebooks.
func (h *Handler) reorder(w http.ResponseWriter, r *http.Request, f url.Values) error {
	positions, err := positionsField(f)
	if err != nil {
		return err
	}
	notebookID, err := idField(f, "notebook_id")
	if err != nil {
		return err
	}
	switch {
	case f.Get("type") == "notebooks" && notebookID == 0:
		err = h.Notes.ReorderNotebooks(r.Context(), positions)
	case notebookID != 0:
		err = h.Notes.ReorderNotes(r.Context(), notebookID, positions)
	default:
		err = invalid("reorder the notes of a notebook with notebook_id, or the notebooks with type=notebooks")
	}
	if err != nil {
		return err
	}
	success(w)
	return nil
}

// moveNotes is POST /notes/move: notes (repeated id) to notebook_id, all or none.
func (h *Handler) moveNotes(w http.ResponseWriter, r *http.Request, f url.Values) error {
	ids, err := idsField(f, "id", "id[]")
	if err != nil {
		return err
	}
	notebookID, err := idField(f, "notebook_id")
	if err != nil {
		return err
	}
	if err := h.Notes.MoveNotes(r.Context(), ids, notebookID); err != nil {
		return err
	}
	success(w)
	return nil
}

// deleteNotes is POST /notes/delete: notes (repeated id), all or none.
func (h *Handler) deleteNotes(w http.ResponseWriter, r *http.Request, f url.Values) error {
	ids, err := idsField(f, "id", "id[]")
	if err != nil {
		return err
	}
	if err := h.Notes.DeleteNotes(r.Context(), ids); err != nil {
		return err
	}
	success(w)
	return nil
}
