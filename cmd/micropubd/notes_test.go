package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/micropubd/micropubd/notes"
)

func TestNotes_TokensAndScope(t *testing.T) {
	srv := newNotesServer(t)
	for _, c := range []struct {
		name, header string
		status       int
		code         string
	}{
		{"no token", "", http.StatusUnauthorized, "unauthorized"},
		{"unknown token", "Bearer nope", http.StatusUnauthorized, "invalid_token"},
		{"posting token without notes", "Bearer " + srv.token, http.StatusForbidden, "insufficient_scope"},
		{"other scheme", "Basic " + srv.notesToken, http.StatusUnauthorized, "unauthorized"},
		{"bare token", srv.notesToken, http.StatusUnauthorized, "unauthorized"},
		{"Bearer (Strata, Lillihub)", "Bearer " + srv.notesToken, http.StatusOK, ""},
		{"Token (the Mac app)", "Token " + srv.notesToken, http.StatusOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.base+"notes/notebooks", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			resp, body := srv.do(req)
			if c.status == http.StatusOK {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
				return
			}
			wantError(t, resp, body, c.status, c.code)
		})
	}
	// Every route refuses a token without the scope, writes included, and writes nothing.
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "notes"}, {http.MethodPost, "notes/notebooks"}, {http.MethodGet, "notes/1"},
		{http.MethodDelete, "notes/1"}, {http.MethodGet, "notes/1/versions"}, {http.MethodDelete, "notes/notebooks/1"},
		{http.MethodPost, "notes/reorder"}, {http.MethodPost, "notes/move"}, {http.MethodPost, "notes/delete"},
	} {
		resp, body := srv.post("application/x-www-form-urlencoded", "name=x&text=y&notebook_id=1", srv.token, r.path)
		if r.method != http.MethodPost {
			req, _ := http.NewRequest(r.method, srv.base+r.path, nil)
			req.Header.Set("Authorization", "Bearer "+srv.token)
			resp, body = srv.do(req)
		}
		wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
	}
	var f jsonFeed[notebookItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks", nil), &f)
	if len(f.Items) != 0 {
		t.Errorf("refused requests made notebooks: %+v", f.Items)
	}
}

func TestNotes_StrataRequests(t *testing.T) {
	srv := newNotesServer(t)

	// Notebooks are created and renamed with the name and id in the query string, no body.
	resp, body := srv.send(t, "strata-create-notebook", nil)
	var nb notebookItem
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &nb)
	if nb.ID <= 0 || nb.Name != "Ideas for later" || nb.Title != "Ideas for later" {
		t.Fatalf("created %+v", nb)
	}
	if nb.Microblog.Colors.Light == "" || nb.Microblog.Colors.Dark == "" || nb.Microblog.Type != "notes" {
		t.Errorf("a new notebook has no default colours or type: %+v", nb.Microblog)
	}
	resp, body = srv.send(t, "strata-rename-notebook", map[string]string{"NOTEBOOK": id(nb.ID)})
	var renamed notebookItem
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &renamed)
	if renamed.ID != nb.ID || renamed.Name != "Ideas & plans" {
		t.Errorf("renamed %+v", renamed)
	}

	// Notes come as multipart FormData, without is_encrypted: encrypted unless shared.
	cipher := srv.encrypt(t, "Strata's first note")
	resp, body = srv.send(t, "strata-create-note", map[string]string{"NOTEBOOK": id(nb.ID), "TEXT": cipher})
	var n noteItem
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if n.ID <= 0 || n.ContentText != cipher || !n.Microblog.IsEncrypted || n.Microblog.IsShared || n.Microblog.NotebookID != nb.ID {
		t.Fatalf("created %+v", n)
	}

	// Sharing sends is_sharing=true and the plain text; unsharing is_unsharing=true and the
	// ciphertext again.
	resp, body = srv.send(t, "strata-share-note", map[string]string{"NOTEBOOK": id(nb.ID), "NOTE": id(n.ID), "TEXT": "Shared from Strata"})
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if !n.Microblog.IsShared || n.Microblog.IsEncrypted || !strings.HasPrefix(n.Microblog.SharedURL, srv.base+"s/") {
		t.Fatalf("shared %+v", n)
	}
	if resp, page := srv.get(n.Microblog.SharedURL, ""); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Shared from Strata")) {
		t.Fatalf("shared page: %d %s", resp.StatusCode, page)
	}
	sharedURL := n.Microblog.SharedURL
	// Saving the shared note sends its plain text, still without is_encrypted: the post follows.
	resp, body = srv.send(t, "strata-save-note", map[string]string{"NOTEBOOK": id(nb.ID), "NOTE": id(n.ID), "TEXT": "Shared from Strata, edited"})
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if !n.Microblog.IsShared || n.Microblog.SharedURL != sharedURL || n.ContentText != "Shared from Strata, edited" {
		t.Fatalf("saved shared %+v", n)
	}
	if _, page := srv.get(sharedURL, ""); !bytes.Contains(page, []byte("Shared from Strata, edited")) {
		t.Error("saving the shared note did not update its page")
	}
	// Ciphertext for a shared note without unsharing is ambiguous: refused, nothing changed.
	resp, body = srv.send(t, "strata-save-note", map[string]string{"NOTEBOOK": id(nb.ID), "NOTE": id(n.ID), "TEXT": cipher})
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	resp, body = srv.send(t, "strata-unshare-note", map[string]string{"NOTEBOOK": id(nb.ID), "NOTE": id(n.ID), "TEXT": cipher})
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if n.Microblog.IsShared || !n.Microblog.IsEncrypted || n.Microblog.SharedURL != "" || n.ContentText != cipher {
		t.Fatalf("unshared %+v", n)
	}
	if resp, _ := srv.get(sharedURL, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("the unshared page answers %d, want 410", resp.StatusCode)
	}

	resp, body = srv.send(t, "strata-fetch-notes", map[string]string{"NOTEBOOK": id(nb.ID)})
	var f jsonFeed[noteItem]
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &f)
	if len(f.Items) != 1 || f.Items[0].ID != n.ID {
		t.Errorf("notebook lists %+v", f.Items)
	}

	// Deletes carry Content-Type: application/json and no body, and must answer JSON.
	for _, c := range []struct{ fixture, key, value string }{
		{"strata-delete-note", "NOTE", id(n.ID)},
		{"strata-delete-notebook", "NOTEBOOK", id(nb.ID)},
	} {
		resp, body := srv.send(t, c.fixture, map[string]string{c.key: c.value})
		var ok struct {
			Success bool `json:"success"`
		}
		decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &ok)
		if !ok.Success || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %s %s", c.fixture, resp.Header.Get("Content-Type"), body)
		}
	}
	resp, body = srv.call(t, http.MethodGet, "notes/notebooks/"+id(nb.ID), nil)
	wantError(t, resp, body, http.StatusNotFound, "not_found")
}

func TestNotes_MacAppRequests(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Mac notes")

	cipher := srv.encrypt(t, "typed on a Mac: 100% + more & more")
	resp, body := srv.send(t, "macapp-create-note", map[string]string{"NOTEBOOK": id(nb.ID), "TEXT": url.QueryEscape(cipher)})
	var n noteItem
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if n.ContentText != cipher || !n.Microblog.IsEncrypted {
		t.Fatalf("created %+v", n)
	}

	// Sharing with is_sharing=1 and is_encrypted=0.
	resp, body = srv.send(t, "macapp-share-note", map[string]string{"NOTEBOOK": id(nb.ID), "NOTE": id(n.ID), "TEXT": url.QueryEscape("Shared from the Mac & more")})
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if !n.Microblog.IsShared || n.ContentText != "Shared from the Mac & more" || !strings.Contains(n.ContentHTML, "Shared from the Mac &amp; more") {
		t.Fatalf("shared %+v", n)
	}

	// Book notes have an ISBN and no notebook: they go to a reading notebook made on first use.
	var readingID int64
	for i, title := range []string{"a first book note", "a second book note"} {
		resp, body := srv.send(t, "macapp-book-note", map[string]string{"TEXT": url.QueryEscape(srv.encrypt(t, title))})
		var b noteItem
		decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &b)
		if b.Microblog.AttachedBookISBN != "9780547928227" || b.Microblog.AttachedBookTitle != "The Hobbit, or There and Back Again" {
			t.Errorf("book note %d: %+v", i, b.Microblog)
		}
		if i == 0 {
			readingID = b.Microblog.NotebookID
		} else if b.Microblog.NotebookID != readingID {
			t.Errorf("the second book note went to notebook %d, the first to %d", b.Microblog.NotebookID, readingID)
		}
	}
	var all jsonFeed[notebookItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks", nil), &all)
	if len(all.Items) != 2 || all.Items[1].ID != readingID || all.Items[1].Microblog.Type != "reading" {
		t.Errorf("notebooks: %+v", all.Items)
	}

	resp, body = srv.send(t, "macapp-delete-note", map[string]string{"NOTE": id(n.ID)})
	if mustStatus(t, resp, body, http.StatusOK); !json.Valid(body) {
		t.Errorf("delete answered %s", body)
	}
}

func TestNotes_LillihubRequests(t *testing.T) {
	srv := newNotesServer(t)
	resp, body := srv.send(t, "lillihub-create-notebook", nil)
	var nb notebookItem
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &nb)
	if nb.Name != "Reading list 📚" {
		t.Errorf("name %q", nb.Name)
	}
	resp, body = srv.send(t, "lillihub-rename-notebook", map[string]string{"NOTEBOOK": id(nb.ID)})
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &nb)
	if nb.Name != "Books" {
		t.Errorf("renamed to %q", nb.Name)
	}

	// No is_encrypted at all: the text is ciphertext and stored as such.
	cipher := srv.encrypt(t, "from Lillihub")
	resp, body = srv.send(t, "lillihub-create-note", map[string]string{"NOTEBOOK": id(nb.ID), "TEXT": url.QueryEscape(cipher)})
	var n noteItem
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if !n.Microblog.IsEncrypted || n.ContentText != cipher {
		t.Fatalf("created %+v", n)
	}
	cipher2 := srv.encrypt(t, "from Lillihub, edited")
	resp, body = srv.send(t, "lillihub-save-note", map[string]string{"NOTEBOOK": id(nb.ID), "NOTE": id(n.ID), "TEXT": url.QueryEscape(cipher2)})
	decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &n)
	if n.ContentText != cipher2 || srv.decrypt(t, n.ContentText) != "from Lillihub, edited" {
		t.Errorf("saved %+v", n)
	}
	// Plain text without is_encrypted is not a note's ciphertext: refused, nothing stored.
	resp, body = srv.send(t, "lillihub-create-note", map[string]string{"NOTEBOOK": id(nb.ID), "TEXT": "plain+words"})
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	if got := srv.listNotes(t, nb.ID, ""); len(got) != 1 {
		t.Errorf("%d notes after a refused save, want 1", len(got))
	}

	resp, body = srv.send(t, "lillihub-delete-notebook", map[string]string{"NOTEBOOK": id(nb.ID)})
	mustStatus(t, resp, body, http.StatusOK)
}

func TestNotes_AnswersAreJSONFeedsWithTypedFields(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Typed")
	n := srv.newNote(t, nb.ID, "typed")

	var nbs jsonFeed[notebookItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks", nil), &nbs)
	if nbs.Version != "https://jsonfeed.org/version/1.1" || nbs.HomePageURL != srv.base || nbs.FeedURL != srv.base+"notes/notebooks" {
		t.Errorf("feed head %+v", nbs)
	}
	if len(nbs.Items) != 1 || nbs.Items[0].URL != srv.base+"notes/notebooks/"+id(nb.ID) {
		t.Errorf("items %+v", nbs.Items)
	}
	var list jsonFeed[noteItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks/"+id(nb.ID), nil), &list)
	var meta struct {
		Notebook struct {
			ID     int64  `json:"id"`
			Name   string `json:"name"`
			Colors struct{ Light, Dark string }
			Type   string `json:"type"`
		} `json:"notebook"`
	}
	if err := json.Unmarshal(list.Microblog, &meta); err != nil || meta.Notebook.ID != nb.ID || meta.Notebook.Name != "Typed" || meta.Notebook.Colors.Light == "" {
		t.Errorf("_microblog %s (%v)", list.Microblog, err)
	}
	item := list.Items[0]
	if item.ID != n.ID || item.Title != "" || item.ContentHTML != "" || item.URL != srv.base+"notes/"+id(n.ID) ||
		item.Microblog.SharedURL != "" || item.Microblog.IsShared {
		t.Errorf("item %+v", item)
	}
	for _, d := range []string{item.DatePublished, item.DateModified, nbs.Items[0].DatePublished, nbs.Items[0].DateModified} {
		if !apiDate.MatchString(d) {
			t.Errorf("date %q is not like 2024-01-10T17:04:26.000+00:00", d)
		}
	}
	// Ids are numbers and flags booleans on the wire, not strings.
	raw := string(srv.callOK(t, http.MethodGet, "notes/"+id(n.ID), nil))
	for _, want := range []string{`"id":` + id(n.ID) + `,`, `"is_encrypted":true`, `"is_shared":false`, `"shared_url":""`} {
		if !strings.Contains(raw, want) {
			t.Errorf("note JSON lacks %s: %s", want, raw)
		}
	}
}

// TestNotes_PagingWithCountAndOffsetReachesTheEnd pages through 250 notes as the Mac app does:
// count=100 and offset+=100 until a page is short.
func TestNotes_PagingWithCountAndOffsetReachesTheEnd(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Many")
	cipher := srv.encrypt(t, "one of many")
	for range 250 {
		srv.saveNote(t, url.Values{"notebook_id": {id(nb.ID)}, "text": {cipher}, "is_encrypted": {"1"}})
	}
	seen := map[int64]bool{}
	var last string
	pages := 0
	for offset := 0; pages < 10; offset += 100 {
		resp, body := srv.send(t, "macapp-fetch-page", map[string]string{"NOTEBOOK": id(nb.ID), "OFFSET": id(int64(offset))})
		var f jsonFeed[noteItem]
		decodeStrict(t, mustStatus(t, resp, body, http.StatusOK), &f)
		pages++
		for _, n := range f.Items {
			if seen[n.ID] {
				t.Fatalf("note %d came twice", n.ID)
			}
			seen[n.ID] = true
			if last != "" && n.DateModified > last {
				t.Fatalf("not newest-modified first: %s after %s", n.DateModified, last)
			}
			last = n.DateModified
		}
		if len(f.Items) < 100 {
			break
		}
	}
	if len(seen) != 250 || pages != 3 {
		t.Errorf("saw %d notes in %d pages, want 250 in 3", len(seen), pages)
	}
	if got := srv.listNotes(t, nb.ID, ""); len(got) != 100 {
		t.Errorf("default count gave %d notes, want 100", len(got))
	}
	if got := srv.listNotes(t, nb.ID, "?count=5000"); len(got) != 250 {
		t.Errorf("count=5000 gave %d notes, want all 250 (at most 1,000)", len(got))
	}
	tooMany := "?ids=" + strings.Repeat("1,", 1001) + "1"
	for _, bad := range []string{"?count=0", "?count=x", "?offset=-1", "?sort=name", "?modified_after=yesterday", tooMany} {
		resp, body := srv.call(t, http.MethodGet, "notes/notebooks/"+id(nb.ID)+bad, nil)
		wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	}
}

func TestNotes_FiltersAndSortsNeedNoPlainText(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Filters")
	a := srv.newNote(t, nb.ID, "a")
	srv.clock.Advance(24 * 60 * 60e9)
	b := srv.newNote(t, nb.ID, "b")
	c := srv.newNote(t, nb.ID, "c")
	srv.saveNote(t, url.Values{"id": {id(a.ID)}, "text": {"shared a"}, "is_sharing": {"true"}}) // a is now the newest modified
	ids := func(items []noteItem) []int64 {
		var out []int64
		for _, n := range items {
			out = append(out, n.ID)
		}
		return out
	}
	cut := b.DatePublished[:len("2026-03-15T00:00:00")] // b and c were made after it, a before
	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"", []int64{a.ID, c.ID, b.ID}},
		{"?sort=created", []int64{c.ID, b.ID, a.ID}},
		{"?sort=position", []int64{c.ID, b.ID, a.ID}}, // new notes go first
		{"?ids=" + id(a.ID) + "," + id(c.ID), []int64{a.ID, c.ID}},
		{"?ids=" + id(b.ID) + "&ids=" + id(c.ID), []int64{c.ID, b.ID}},
		{"?shared=1", []int64{a.ID}},
		{"?created_after=" + url.QueryEscape(b.DatePublished[:10]+"T00:00:00Z"), []int64{c.ID, b.ID}},
		{"?created_before=" + url.QueryEscape(cut[:10]), []int64{a.ID}},
		{"?modified_after=" + url.QueryEscape(c.DateModified), []int64{a.ID}},
		{"?modified_before=" + url.QueryEscape(c.DateModified), []int64{b.ID}},
	} {
		if got := ids(srv.listNotes(t, nb.ID, tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
}

func TestNotes_VersionsNewestFirstAndPruned(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Versions")
	n := srv.newNote(t, nb.ID, "v1")
	for _, text := range []string{"v2", "v3"} {
		srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {srv.encrypt(t, text)}})
	}
	type version struct {
		ID            int64  `json:"id"`
		ContentText   string `json:"content_text"`
		DatePublished string `json:"date_published"`
		Microblog     struct {
			IsEncrypted  bool   `json:"is_encrypted"`
			DateReplaced string `json:"date_replaced"`
		} `json:"_microblog"`
	}
	versions := func() []version {
		var f jsonFeed[version]
		decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/"+id(n.ID)+"/versions", nil), &f)
		return f.Items
	}
	vs := versions()
	if len(vs) != 2 || srv.decrypt(t, vs[0].ContentText) != "v2" || srv.decrypt(t, vs[1].ContentText) != "v1" {
		t.Fatalf("versions %+v", vs)
	}
	if !apiDate.MatchString(vs[0].DatePublished) || vs[0].DatePublished <= vs[1].DatePublished || !vs[0].Microblog.IsEncrypted {
		t.Errorf("versions %+v", vs)
	}
	// Restoring is saving a version's text again.
	srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {vs[1].ContentText}})
	if got := srv.decrypt(t, srv.note(t, n.ID).ContentText); got != "v1" {
		t.Errorf("restored %q", got)
	}
	// 61 days on, what was replaced before 60 days ago is no longer listed, and a save prunes it.
	srv.clock.Advance(61 * 24 * 60 * 60e9)
	if vs := versions(); len(vs) != 0 {
		t.Errorf("after 61 days: %d versions listed, want 0", len(vs))
	}
	srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {srv.encrypt(t, "v5")}})
	var kept int
	srv.sqlFile(t).QueryRow(`SELECT count(*) FROM note_versions`).Scan(&kept)
	if kept != 1 {
		t.Errorf("%d versions stored after the save, want the 1 just replaced", kept)
	}
	if vs := versions(); len(vs) != 1 || srv.decrypt(t, vs[0].ContentText) != "v1" {
		t.Errorf("after 61 days: %d versions, want only the one just replaced", len(vs))
	}
	resp, body := srv.call(t, http.MethodGet, "notes/999/versions", nil)
	wantError(t, resp, body, http.StatusNotFound, "not_found")
}

func TestNotes_ReorderMoveAndBulkDelete(t *testing.T) {
	srv := newNotesServer(t)
	one, two := srv.newNotebook(t, "One"), srv.newNotebook(t, "Two")
	a, b, c := srv.newNote(t, one.ID, "a"), srv.newNote(t, one.ID, "b"), srv.newNote(t, one.ID, "c")
	other := srv.newNote(t, two.ID, "other")
	order := func(nb int64) []int64 {
		var out []int64
		for _, n := range srv.listNotes(t, nb, "?sort=position") {
			out = append(out, n.ID)
		}
		return out
	}
	if got := order(one.ID); !slices.Equal(got, []int64{c.ID, b.ID, a.ID}) {
		t.Fatalf("new notes first: %v", got)
	}
	srv.callOK(t, http.MethodPost, "notes/reorder", map[string]any{"notebook_id": one.ID,
		"positions": map[string]string{id(a.ID): "b", id(b.ID): "c", id(c.ID): "d"}})
	if got := order(one.ID); !slices.Equal(got, []int64{a.ID, b.ID, c.ID}) {
		t.Errorf("after reorder: %v", got)
	}
	// Form-encoded works too; a key past 8 characters makes the notebook's keys respaced.
	srv.callOK(t, http.MethodPost, "notes/reorder", url.Values{"notebook_id": {id(one.ID)}, "positions[" + id(c.ID) + "]": {"bzzzzzzzzzz"}})
	items := srv.listNotes(t, one.ID, "?sort=position")
	if got := []int64{items[0].ID, items[1].ID, items[2].ID}; !slices.Equal(got, []int64{a.ID, c.ID, b.ID}) {
		t.Errorf("after the long key: %v", got)
	}
	for _, n := range items {
		if len(n.Microblog.Position) > 8 {
			t.Errorf("position %q was not respaced", n.Microblog.Position)
		}
	}
	for _, bad := range []any{
		map[string]any{"notebook_id": one.ID, "positions": map[string]string{id(other.ID): "b"}}, // another notebook's note
		map[string]any{"notebook_id": one.ID, "positions": map[string]string{id(a.ID): "B"}},
		map[string]any{"notebook_id": one.ID, "positions": map[string]string{id(a.ID): "ba"}},
		map[string]any{"positions": map[string]string{id(a.ID): "b"}},
		map[string]any{"notebook_id": one.ID},
	} {
		resp, body := srv.call(t, http.MethodPost, "notes/reorder", bad)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: %d %s", bad, resp.StatusCode, body)
		}
	}
	if got := order(one.ID); !slices.Equal(got, []int64{a.ID, c.ID, b.ID}) {
		t.Errorf("refused reorders changed the order: %v", got)
	}
	srv.callOK(t, http.MethodPost, "notes/reorder", map[string]any{"type": "notebooks",
		"positions": map[string]string{id(one.ID): "x", id(two.ID): "c"}})
	var nbs jsonFeed[notebookItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks", nil), &nbs)
	if nbs.Items[0].ID != two.ID {
		t.Errorf("notebooks not reordered: %+v", nbs.Items)
	}

	// Moving is all or none.
	resp, body := srv.call(t, http.MethodPost, "notes/move", url.Values{"id": {id(a.ID), "999"}, "notebook_id": {id(two.ID)}})
	wantError(t, resp, body, http.StatusNotFound, "not_found")
	if len(srv.listNotes(t, two.ID, "")) != 1 {
		t.Error("a refused move moved notes")
	}
	srv.callOK(t, http.MethodPost, "notes/move", map[string]any{"id": []int64{a.ID, b.ID}, "notebook_id": two.ID})
	if got := len(srv.listNotes(t, two.ID, "")); got != 3 {
		t.Errorf("notebook two has %d notes after the move, want 3", got)
	}

	// Deleting is all or none; a shared note is unshared first.
	shared := srv.saveNote(t, url.Values{"id": {id(a.ID)}, "text": {"bulk shared"}, "is_sharing": {"1"}, "is_encrypted": {"0"}})
	resp, body = srv.call(t, http.MethodPost, "notes/delete", url.Values{"id": {id(a.ID), "999"}})
	wantError(t, resp, body, http.StatusNotFound, "not_found")
	if resp, _ := srv.get(shared.Microblog.SharedURL, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("a refused delete took the shared page down: %d", resp.StatusCode)
	}
	srv.callOK(t, http.MethodPost, "notes/delete", url.Values{"id": {id(a.ID), id(b.ID)}})
	if got := len(srv.listNotes(t, two.ID, "")); got != 1 {
		t.Errorf("%d notes left, want 1", got)
	}
	if resp, _ := srv.get(shared.Microblog.SharedURL, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("the deleted shared note's page answers %d, want 410", resp.StatusCode)
	}
}

func TestNotes_DeletingANotebookUnsharesItsNotes(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Doomed")
	n := srv.newNote(t, nb.ID, "x")
	shared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {"Doomed-notebook-text-4471"}, "is_sharing": {"true"}})
	if !bytes.Contains(srv.fileBytes(t), []byte("Doomed-notebook-text-4471")) {
		t.Fatal("the shared text is not in the database files: the scan below would prove nothing")
	}
	srv.callOK(t, http.MethodDelete, "notes/notebooks/"+id(nb.ID), nil)
	if resp, _ := srv.get(shared.Microblog.SharedURL, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("shared page answers %d, want 410", resp.StatusCode)
	}
	resp, body := srv.call(t, http.MethodGet, "notes/"+id(n.ID), nil)
	wantError(t, resp, body, http.StatusNotFound, "not_found")
	if bytes.Contains(srv.fileBytes(t), []byte("Doomed-notebook-text-4471")) {
		t.Error("the shared text is still in the database files")
	}
}

func TestNotes_BadInputChangesNothing(t *testing.T) {
	srv := newNotesServer(t)
	nb, other := srv.newNotebook(t, "Mine"), srv.newNotebook(t, "Other")
	n := srv.newNote(t, nb.ID, "kept as it is")
	cipher := srv.encrypt(t, "new text")
	before := srv.callOK(t, http.MethodGet, "notes/notebooks/"+id(nb.ID), nil)

	type req struct {
		name, contentType, body, token string
		status                         int
		code                           string
	}
	form := "application/x-www-form-urlencoded"
	enc := url.QueryEscape(cipher)
	for _, c := range []req{
		{"unknown notebook", form, "notebook_id=999&text=" + enc, "", 404, "not_found"},
		{"unknown note", form, "id=999&text=" + enc, "", 404, "not_found"},
		{"note of another notebook", form, "id=" + id(n.ID) + "&notebook_id=" + id(other.ID) + "&text=" + enc, "", 400, "invalid_request"},
		{"no notebook", form, "text=" + enc, "", 400, "invalid_request"},
		{"no text", form, "id=" + id(n.ID), "", 400, "invalid_request"},
		{"malformed ciphertext", form, "id=" + id(n.ID) + "&text=bm90IGEgbm90ZQ%3D%3D&is_encrypted=true", "", 400, "invalid_request"},
		{"not base64", form, "id=" + id(n.ID) + "&text=hello+world&is_encrypted=1", "", 400, "invalid_request"},
		{"plain text not shared", form, "id=" + id(n.ID) + "&text=hello&is_encrypted=false", "", 400, "invalid_request"},
		{"sharing encrypted text", form, "id=" + id(n.ID) + "&text=" + enc + "&is_sharing=1&is_encrypted=1", "", 400, "invalid_request"},
		{"sharing and unsharing", form, "id=" + id(n.ID) + "&text=x&is_sharing=1&is_unsharing=1", "", 400, "invalid_request"},
		{"sharing nothing", form, "id=" + id(n.ID) + "&text=+&is_sharing=1", "", 400, "invalid_request"},
		{"bad flag", form, "id=" + id(n.ID) + "&text=" + enc + "&is_encrypted=maybe", "", 400, "invalid_request"},
		{"bad id", form, "id=abc&text=" + enc, "", 400, "invalid_request"},
		{"bad JSON", "application/json", `{"id": `, "", 400, "invalid_request"},
		{"a file", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"text\"; filename=\"a.txt\"\r\n\r\nhi\r\n--XX--\r\n", "", 400, "invalid_request"},
		{"unsupported type", "application/xml", "<note/>", "", 415, "unsupported_media_type"},
		{"oversize text", form, "id=" + id(n.ID) + "&text=" + strings.Repeat("A", notes.MaxText+4), "", 413, "request_too_large"},
		{"oversize body", form, "id=" + id(n.ID) + "&text=" + enc + "&pad=" + strings.Repeat("A", 2<<20), "", 413, "request_too_large"},
		{"missing token", form, "id=" + id(n.ID) + "&text=" + enc, "-", 401, "unauthorized"},
		{"token without notes", form, "id=" + id(n.ID) + "&text=" + enc, srv.token, 403, "insufficient_scope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := srv.notesToken
			switch c.token {
			case "-":
				token = ""
			case "":
			default:
				token = c.token
			}
			resp, body := srv.post(c.contentType, c.body, token, "notes")
			wantError(t, resp, body, c.status, c.code)
		})
	}
	for _, bad := range []url.Values{
		{"name": {""}}, {"name": {strings.Repeat("n", 201)}}, {"name": {"x"}, "color_light": {"red; background: url(x)"}},
		{"id": {"999"}, "name": {"x"}}, {"name": {"x"}, "type": {"secret"}},
	} {
		resp, body := srv.call(t, http.MethodPost, "notes/notebooks", bad)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
			t.Errorf("notebook %v: %d %s", bad, resp.StatusCode, body)
		}
	}
	after := srv.callOK(t, http.MethodGet, "notes/notebooks/"+id(nb.ID), nil)
	if !bytes.Equal(before, after) {
		t.Errorf("refused requests changed the notebook:\n%s\n%s", before, after)
	}
	var nbs jsonFeed[notebookItem]
	decodeStrict(t, srv.callOK(t, http.MethodGet, "notes/notebooks", nil), &nbs)
	if len(nbs.Items) != 2 {
		t.Errorf("%d notebooks, want 2", len(nbs.Items))
	}
}

// mustStatus fails unless resp has status and returns its body.
func mustStatus(t *testing.T, resp *http.Response, body []byte, status int) []byte {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
	return body
}

// The notes API answers paths it does not route in JSON: 404 for what is not there (an id that
// is not a number among them), 405 with the methods a routed path takes.
func TestNotesRoutes_UnroutedAnswersInJSON(t *testing.T) {
	srv := newTestServer(t)
	token := srv.mint("notes")
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodGet, "notes/notebooks", http.StatusOK, ""},
		{http.MethodGet, "notes/abc", http.StatusNotFound, ""},
		{http.MethodGet, "notes/1/other", http.StatusNotFound, ""},
		{http.MethodDelete, "notes/reorder", http.StatusNotFound, ""},
		{http.MethodGet, "notes/no/such/path", http.StatusNotFound, ""},
		{http.MethodPut, "notes/notebooks", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPut, "notes/5", http.StatusMethodNotAllowed, "GET, HEAD, DELETE"},
		{http.MethodPatch, "notes", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.base+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, body := srv.do(req)
		if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s /%s: %d %q Allow %q, want %d JSON Allow %q: %s", tt.method, tt.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), tt.status, tt.allow, body)
		}
	}
}
