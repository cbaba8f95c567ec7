package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/micropubd/micropubd/indieauth"
)

// sharedURLPattern is a shared note's address: /s/ and 32 characters of a random token.
var sharedURLPattern = regexp.MustCompile(`/s/[A-Za-z0-9]{32}$`)

// TestNotes_ShareEditUnshareShareCycle follows one note through sharing, editing, unsharing
// and sharing again, checking the page (parsed as microformats2), q=source, the headers, the
// tombstone, and the database files.
func TestNotes_ShareEditUnshareShareCycle(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Travel")
	secret := "Zanzibar-ferry-timetable-8812"
	n := srv.newNote(t, nb.ID, "# Trip\n\n"+secret)

	text := "# Trip to Zanzibar\n\nTake the " + secret + " ferry. #travel #islands\n\n- [x] book\n- [ ] pack\n\n| day | place |\n|---|---|\n| 1 | Stone Town |\n\n~~cancelled~~ see https://example.org/ferry"
	shared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "notebook_id": {id(nb.ID)}, "text": {text}, "is_encrypted": {"false"}, "is_sharing": {"true"}})
	link := shared.Microblog.SharedURL
	if !shared.Microblog.IsShared || shared.Microblog.IsEncrypted || !strings.HasPrefix(link, srv.base) || !sharedURLPattern.MatchString(link) {
		t.Fatalf("shared %+v", shared.Microblog)
	}
	if shared.ContentText != text || !strings.Contains(shared.ContentHTML, "<table>") {
		t.Errorf("shared item: content_text %q, content_html %q", shared.ContentText, shared.ContentHTML)
	}

	resp, page := srv.get(link, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("shared page: %d", resp.StatusCode)
	}
	for h, want := range map[string]string{"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows more than it should", csp)
	}
	item := pageItem(t, page, link)
	props := item["properties"].(map[string]any)
	if diff := cmp.Diff([]any{"h-entry"}, item["type"]); diff != "" {
		t.Errorf("type (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"Trip to Zanzibar"}, props["name"]); diff != "" {
		t.Errorf("name (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{"travel", "islands"}, props["category"]); diff != "" {
		t.Errorf("category (-want +got):\n%s", diff)
	}
	html := props["content"].([]any)[0].(map[string]any)["html"].(string)
	for _, want := range []string{secret, `type="checkbox"`, "checked", "<table>", "<del>cancelled</del>", `href="https://example.org/ferry"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page content lacks %s:\n%s", want, html)
		}
	}
	// Unlisted: not on the homepage.
	if _, home := srv.get(srv.base, ""); bytes.Contains(home, []byte(secret)) {
		t.Error("the shared note is on the homepage")
	}
	source := srv.source(link)["properties"].(map[string]any)
	if diff := cmp.Diff([]any{"unlisted"}, source["visibility"]); diff != "" {
		t.Errorf("visibility (-want +got):\n%s", diff)
	}
	if v := source["content"].([]any)[0].(map[string]any)["value"]; !strings.HasPrefix(v.(string), "Take the") {
		t.Errorf("q=source content value %q, want the Markdown", v)
	}

	// Sharing again returns the same URL.
	again := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {text}, "is_sharing": {"1"}, "is_encrypted": {"0"}})
	if again.Microblog.SharedURL != link {
		t.Errorf("sharing again gave %s, want %s", again.Microblog.SharedURL, link)
	}

	// Saving the shared note updates the post at the same address.
	edited := "Edited: " + secret + " moved to Thursday #travel"
	saved := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {edited}, "is_encrypted": {"false"}})
	if saved.Microblog.SharedURL != link || saved.ContentText != edited {
		t.Errorf("saved %+v", saved)
	}
	_, page = srv.get(link, "")
	props = pageItem(t, page, link)["properties"].(map[string]any)
	if _, ok := props["name"]; ok {
		t.Errorf("the heading is gone, so is the name: %v", props["name"])
	}
	if !strings.Contains(props["content"].([]any)[0].(map[string]any)["html"].(string), "moved to Thursday") {
		t.Errorf("the page was not updated: %v", props["content"])
	}
	if bytes.Contains(srv.fileBytes(t), []byte(secret)) == false {
		t.Fatal("the shared text is not in the database files: the scan below would prove nothing")
	}

	// Unsharing takes the page down (410) and leaves no plain text behind.
	cipher := srv.encrypt(t, edited)
	unshared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {cipher}, "is_unsharing": {"true"}, "is_encrypted": {"true"}})
	if unshared.Microblog.IsShared || !unshared.Microblog.IsEncrypted || unshared.Microblog.SharedURL != "" || unshared.ContentText != cipher || unshared.ContentHTML != "" {
		t.Errorf("unshared %+v", unshared)
	}
	if resp, _ := srv.get(link, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("the unshared address answers %d, want 410", resp.StatusCode)
	}
	tomb := srv.source(link)
	if p := tomb["properties"].(map[string]any); len(p) != 0 {
		t.Errorf("the tombstone keeps properties: %v", p)
	}
	var vs jsonFeed[struct {
		ID          int64  `json:"id"`
		ContentText string `json:"content_text"`
	}]
	if err := json.Unmarshal(srv.callOK(t, http.MethodGet, "notes/"+id(n.ID)+"/versions", nil), &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Items {
		if strings.Contains(v.ContentText, secret) {
			t.Errorf("version %d keeps the plain text", v.ID)
		}
	}
	if files := srv.fileBytes(t); bytes.Contains(files, []byte(secret)) || bytes.Contains(files, []byte("Stone Town")) {
		t.Error("the unshared plain text is still in the database or its write-ahead log")
	}
	if strings.Contains(srv.logs.String(), secret) {
		t.Error("the plain text is in the log")
	}
	resp, body := srv.postJSON(`{"action": "undelete", "url": "` + link + `"}`)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")

	// Sharing again gives a new address; the old one stays gone.
	reshared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {"Back again"}, "is_sharing": {"true"}})
	if reshared.Microblog.SharedURL == link || !sharedURLPattern.MatchString(reshared.Microblog.SharedURL) {
		t.Errorf("reshared at %s", reshared.Microblog.SharedURL)
	}
	if resp, page := srv.get(reshared.Microblog.SharedURL, ""); resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("Back again")) {
		t.Errorf("reshared page: %d", resp.StatusCode)
	}
	if resp, _ := srv.get(link, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("the first address answers %d, want 410", resp.StatusCode)
	}
}

func TestNotes_PromotedPostStaysPublic(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Drafts")
	n := srv.newNote(t, nb.ID, "x")
	shared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {"Worth a public post"}, "is_sharing": {"true"}})
	resp, body := srv.postJSON(`{"action": "update", "url": "` + shared.Microblog.SharedURL + `", "replace": {"visibility": ["public"]}}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("promote: %d %s", resp.StatusCode, body)
	}
	srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {"Worth a public post, revised"}, "is_encrypted": {"false"}})
	if _, home := srv.get(srv.base, ""); !bytes.Contains(home, []byte("Worth a public post, revised")) {
		t.Error("the promoted post is not on the homepage after the note was saved")
	}
	if got := srv.note(t, n.ID).Microblog.SharedURL; got != shared.Microblog.SharedURL {
		t.Errorf("the note points at %s, want %s", got, shared.Microblog.SharedURL)
	}
}

// TestNotes_SharingIsAtomicWithThePost makes the database refuse the post and checks that the
// note is unchanged, then that a refused take-down leaves the note shared.
func TestNotes_SharingIsAtomicWithThePost(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Atomic")
	cipher := srv.encrypt(t, "atomic")
	n := srv.saveNote(t, url.Values{"notebook_id": {id(nb.ID)}, "text": {cipher}})
	db := srv.sqlFile(t)
	if _, err := db.Exec(`CREATE TRIGGER refuse_posts BEFORE INSERT ON posts BEGIN SELECT RAISE(ABORT, 'no more posts'); END`); err != nil {
		t.Fatal(err)
	}
	resp, body := srv.call(t, http.MethodPost, "notes", url.Values{"id": {id(n.ID)}, "text": {"Atomic-plain-5530"}, "is_sharing": {"true"}})
	wantError(t, resp, body, http.StatusInternalServerError, "server_error")
	if got := srv.note(t, n.ID); got.ContentText != cipher || got.Microblog.IsShared || !got.Microblog.IsEncrypted || got.DateModified != n.DateModified {
		t.Errorf("a failed share changed the note: %+v", got)
	}
	// A new note shared at once is not stored either.
	resp, body = srv.call(t, http.MethodPost, "notes", url.Values{"notebook_id": {id(nb.ID)}, "text": {"Atomic-plain-5530"}, "is_sharing": {"true"}})
	wantError(t, resp, body, http.StatusInternalServerError, "server_error")
	if got := srv.listNotes(t, nb.ID, ""); len(got) != 1 {
		t.Errorf("%d notes after a failed share of a new note, want 1", len(got))
	}
	var posts int
	db.QueryRow(`SELECT count(*) FROM posts`).Scan(&posts)
	if _, err := db.Exec(`DROP TRIGGER refuse_posts`); err != nil || posts != 0 {
		t.Fatalf("posts: %d, %v", posts, err)
	}

	shared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {"Atomic-plain-5530"}, "is_sharing": {"true"}})
	if _, err := db.Exec(`CREATE TRIGGER keep_posts BEFORE UPDATE ON posts BEGIN SELECT RAISE(ABORT, 'posts are frozen'); END`); err != nil {
		t.Fatal(err)
	}
	resp, body = srv.call(t, http.MethodPost, "notes", url.Values{"id": {id(n.ID)}, "text": {cipher}, "is_unsharing": {"true"}})
	wantError(t, resp, body, http.StatusInternalServerError, "server_error")
	if got := srv.note(t, n.ID); !got.Microblog.IsShared || got.ContentText != "Atomic-plain-5530" {
		t.Errorf("a failed unshare changed the note: %+v", got.Microblog)
	}
	if resp, _ := srv.get(shared.Microblog.SharedURL, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("a failed unshare took the page down: %d", resp.StatusCode)
	}
}

// TestNotes_EncryptedTextAppearsOnlyInItsOwnNote looks for a note's ciphertext in every page,
// feed, listing, query answer and log line other than the note's own item.
func TestNotes_EncryptedTextAppearsOnlyInItsOwnNote(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Private")
	cipher := srv.encrypt(t, "the most private thought")
	n := srv.saveNote(t, url.Values{"notebook_id": {id(nb.ID)}, "text": {cipher}})
	other := srv.newNote(t, nb.ID, "another")
	shared := srv.saveNote(t, url.Values{"id": {id(other.ID)}, "text": {"A shared neighbour #tag"}, "is_sharing": {"true"}})
	srv.create("h=entry&content=A+public+post&category=tag")
	// Sharing a note's versions keep the ciphertext it had: a version is the note's own.
	for _, u := range []string{
		srv.base, shared.Microblog.SharedURL, srv.base + "notes/" + id(other.ID),
		srv.base + "notes/notebooks", srv.base + "notes/" + id(other.ID) + "/versions",
		srv.base + "micropub?q=source", srv.base + "micropub?q=category", srv.base + "micropub?q=config",
		srv.base + "micropub?q=source&url=" + url.QueryEscape(shared.Microblog.SharedURL),
	} {
		token := srv.token
		if strings.Contains(u, "/notes") {
			token = srv.notesToken
		}
		resp, body := srv.get(u, token)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", u, resp.StatusCode)
		}
		if bytes.Contains(body, []byte(cipher)) {
			t.Errorf("%s shows the ciphertext of note %d", u, n.ID)
		}
	}
	// The notebook listing has it only inside the note's own item.
	for _, it := range srv.listNotes(t, nb.ID, "") {
		if it.ID != n.ID && strings.Contains(it.ContentText+it.ContentHTML, cipher) {
			t.Errorf("note %d's item carries note %d's text", it.ID, n.ID)
		}
	}
	if strings.Contains(srv.logs.String(), cipher) || strings.Contains(srv.logs.String(), "most private") {
		t.Error("the note's text is in the log")
	}
}

func TestNotes_SignedInBrowserNeedsCSRFAndSameOrigin(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b := newBrowser(t)
	b.signIn(srv.base+"auth/tokens", ownerPassword)
	resp, page := b.get(srv.base + "auth/tokens")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tokens page: %d", resp.StatusCode)
	}
	csrf := findForm(t, page, "/auth/logout").fields.Get("csrf")

	resp, body := b.get(srv.base + "notes/notebooks")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("signed-in read: %d %s", resp.StatusCode, body)
	}
	write := func(headers map[string]string, fields url.Values) int {
		req, _ := http.NewRequest(http.MethodPost, srv.base+"notes/notebooks", strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	origin := strings.TrimSuffix(srv.base, "/")
	for _, c := range []struct {
		name    string
		headers map[string]string
		fields  url.Values
		status  int
	}{
		{"no CSRF token", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": origin}, url.Values{"name": {"a"}}, 403},
		{"wrong CSRF token", map[string]string{"X-CSRF-Token": "forged", "Origin": origin}, url.Values{"name": {"a"}}, 403},
		{"cross-site", map[string]string{"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}, url.Values{"name": {"a"}}, 403},
		{"other origin", map[string]string{"X-CSRF-Token": csrf, "Origin": "https://evil.example"}, url.Values{"name": {"a"}}, 403},
		{"header token", map[string]string{"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-origin", "Origin": origin}, url.Values{"name": {"From the app"}}, 200},
		{"form token", map[string]string{"Origin": origin}, url.Values{"name": {"From a form"}, "csrf": {csrf}}, 200},
	} {
		if got := write(c.headers, c.fields); got != c.status {
			t.Errorf("%s: %d, want %d", c.name, got, c.status)
		}
	}
	var f jsonFeed[notebookItem]
	_, body = b.get(srv.base + "notes/notebooks")
	decodeStrict(t, body, &f)
	if len(f.Items) != 2 {
		t.Errorf("%d notebooks, want the 2 allowed writes", len(f.Items))
	}
	// Signed out, the cookie is worth nothing.
	anon := newBrowser(t)
	resp, body = anon.get(srv.base + "notes/notebooks")
	wantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
}

func TestNotes_ConsentPageAndTokenCommandKnowTheNotesScope(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	_, page := newBrowser(t).signIn(authURL(srv.base+"auth", map[string]string{"response_type": "code",
		"client_id": "https://notes.example/", "redirect_uri": "https://notes.example/cb", "state": "s",
		"scope": "notes"}), ownerPassword)
	if !bytes.Contains(page, []byte("read, write and share your private notes")) {
		t.Errorf("the consent page does not describe the notes scope:\n%s", page)
	}
	_, meta := srv.get(srv.base+".well-known/oauth-authorization-server", "")
	if !bytes.Contains(meta, []byte(`"notes"`)) {
		t.Errorf("the metadata does not list the notes scope: %s", meta)
	}

	dir := servedDataDir(t, "http://localhost:8080/")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"token", "--data", dir, "--scope", "notes"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if !strings.Contains(out.String(), `scope "notes"`) || len(lines[len(lines)-1]) < 20 {
		t.Errorf("token --scope notes printed %q", out.String())
	}
}

// TestNotes_UnshareWithAReaderOpenFinishesAndLaterLeavesNoText holds a read transaction open
// (another program reading the file, a backup) while a note is unshared: the answer does not
// wait for the reader, and once the reader is gone the plain text leaves the log too.
func TestNotes_UnshareWithAReaderOpenFinishesAndLaterLeavesNoText(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Busy")
	n := srv.newNote(t, nb.ID, "x")
	secret := "Reader-held-secret-9042"
	srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {secret}, "is_sharing": {"true"}})

	reader, err := srv.sqlFile(t).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := reader.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var count int
	if err := tx.QueryRow(`SELECT count(*) FROM notes`).Scan(&count); err != nil { // the snapshot is taken
		t.Fatal(err)
	}
	start := time.Now()
	srv.saveNote(t, url.Values{"id": {id(n.ID)}, "text": {srv.encrypt(t, secret)}, "is_unsharing": {"true"}})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("unsharing with a reader open took %v", took)
	}
	if !bytes.Contains(srv.fileBytes(t), []byte(secret)) {
		t.Log("the log was emptied at once (the reader did not hold it)")
	}
	tx.Rollback()
	reader.Close()
	deadline := time.Now().Add(15 * time.Second)
	for bytes.Contains(srv.fileBytes(t), []byte(secret)) {
		if time.Now().After(deadline) {
			t.Fatal("the unshared plain text is still in the files 15 s after the reader finished")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNotesApp_PageNeedsSignInAndHasAStrictCSP(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b := newBrowser(t)
	resp, _ := b.get(srv.base + "notes")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != srv.base+"auth/login?next=%2Fnotes" {
		t.Fatalf("signed out: %d to %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`name="next" value="/notes"`)) {
		t.Fatalf("sign-in page: %d\n%s", resp.StatusCode, page)
	}
	b.signIn(srv.base+"auth/login?next=%2Fnotes", ownerPassword)
	resp, page = b.get(srv.base + "notes")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || bytes.Contains(page, []byte("<script>")) || bytes.Contains(page, []byte("<style>")) || bytes.Contains(page, []byte(" style=")) {
		t.Errorf("inline script or style on the page, or allowed by the CSP %q", csp)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || !bytes.Contains(page, []byte(`data-csrf="`)) {
		t.Error("the app page is cacheable or carries no CSRF token")
	}
	// Its scripts are served from the site itself, versioned and cached for good.
	scripts := regexp.MustCompile(`src="([^"]+)"`).FindAllSubmatch(page, -1)
	if len(scripts) != 3 {
		t.Fatalf("%d scripts on the page, want marked, DOMPurify and the app", len(scripts))
	}
	for _, m := range scripts {
		src := strings.ReplaceAll(string(m[1]), "&amp;", "&")
		if !strings.HasPrefix(src, srv.base+"static/") {
			t.Errorf("script %s is not the site's own", src)
		}
		resp, body := srv.get(src, "")
		if resp.StatusCode != http.StatusOK || len(body) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
			!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %s %q", src, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
		req, _ := http.NewRequest(http.MethodGet, src, nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		if resp, _ := srv.do(req); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s again with its ETag: %d, want 304", src, resp.StatusCode)
		}
	}
	if resp, _ := srv.get(srv.base+"static/nothing.js", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown static file: %d", resp.StatusCode)
	}
}

// TestLogin_NextMustBeAPathOnThisSite tries the family of addresses browsers turn into
// another site's: each must come back to the default page, not to it.
func TestLogin_NextMustBeAPathOnThisSite(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	for _, next := range []string{
		"//evil.example/phish", "/\t/evil.example/phish", "/\n/evil.example", "/\\evil.example", "/\\/evil.example",
		"\\\\evil.example", "/ /evil.example", "https://evil.example/", "/%09/evil.example/phish\x00", "/\u2028/evil.example",
	} {
		b := newBrowser(t)
		_, page := b.get(srv.base + "auth/login?next=" + url.QueryEscape(next))
		f := findForm(t, page, "/auth/login")
		if got := f.fields.Get("next"); got != "/auth/tokens" {
			t.Errorf("next=%q became %q in the form", next, got)
		}
		f.fields.Set("password", ownerPassword)
		f.fields.Set("next", next)
		resp, _ := b.submit(f.action, f.fields)
		if loc := resp.Header.Get("Location"); loc != "/auth/tokens" {
			t.Errorf("next=%q: signed in, sent to %q", next, loc)
		}
	}
}

// The page of a shared note lets no form post (form-action 'none', and no Origin under
// no-referrer), so the owner's bar there keeps its links and offers no form that would fail.
func TestNotes_SharedPageShowsTheOwnerNoFormThatCannotPost(t *testing.T) {
	srv := newNotesServer(t)
	nb := srv.newNotebook(t, "Work")
	n := srv.newNote(t, nb.ID, "draft")
	shared := srv.saveNote(t, url.Values{"id": {id(n.ID)}, "notebook_id": {id(nb.ID)}, "text": {"Shared plan"}, "is_encrypted": {"false"}, "is_sharing": {"true"}})
	link := shared.Microblog.SharedURL

	if err := indieauth.SetPassword(context.Background(), srv.db, ownerPassword, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	b, _ := ownerBrowser(t, srv.testServer)
	resp, page := b.get(link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("shared page: %d", resp.StatusCode)
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'none'") {
		t.Fatalf("CSP %q: the test assumes forms cannot post here", resp.Header.Get("Content-Security-Policy"))
	}
	if bytes.Contains(page, []byte("<form")) {
		t.Errorf("the shared page offers a form its policy refuses:\n%s", page)
	}
	if !bytes.Contains(page, []byte(`class="ownerbar"`)) || !bytes.Contains(page, []byte("admin/edit?url=")) {
		t.Errorf("the owner's bar with its links is missing:\n%s", page)
	}
	// On an ordinary page the bar still signs out.
	if _, home := b.get(srv.base); !bytes.Contains(home, []byte("auth/logout")) {
		t.Error("the homepage's bar has no Sign out")
	}
}
