package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/micropubd/micropubd/notes/notesclient"
)

// screenshotDir is where browser tests leave pictures of the pages for people to look at;
// git ignores it.
const screenshotDir = "../../screenshots"

// tab is one browser tab in a test.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser, %s: %v", what, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		b.t.Logf("browser, %s took %v", what, took)
	}
}

// waitJS waits until a JavaScript expression is true.
// waitJS waits until a JavaScript expression is true, across a navigation if one happens.
func (b tab) waitJS(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("browser, waiting for %s (%s): %v", what, expr, err)
		}
		time.Sleep(50 * time.Millisecond) // the page was navigating: poll the next one
	}
}

func evalJS[T any](b tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser, evaluating %s: %v", expr, err)
	}
	return v
}

// checkNames fails the test for each visible control a screen reader could not name.
func (b tab) checkNames(page string) {
	b.t.Helper()
	unnamed := evalJS[[]string](b, `[...document.querySelectorAll('button, input, select, textarea, a[href]')].filter(e => {
		if (e.closest('[hidden], dialog:not([open])') || e.type === 'hidden') return false;
		const label = e.getAttribute('aria-label') || (e.labels && e.labels.length && e.labels[0].textContent) || e.textContent || e.getAttribute('title') || e.value;
		return !label || !label.trim();
	}).map(e => e.outerHTML.slice(0, 80))`)
	if len(unnamed) > 0 {
		b.t.Errorf("%s: controls without an accessible name: %q", page, unnamed)
	}
}

// shot writes a screenshot of the whole page to the screenshot folder.
func (b tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser, screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b tab) viewport(w, h int64, mobile bool) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.do("viewport", chromedp.EmulateViewport(w, h, opts...))
}

// offline cuts the tab off the network (requests fail, navigator.onLine is false) or restores it.
func (b tab) offline(off bool) {
	b.t.Helper()
	b.do("network", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		rules := []*network.Conditions{}
		if off {
			rules = append(rules, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// consoleProblems collects the page's exceptions, errors and CSP refusals from now on; the
// returned func lists them. Failed requests while the test has cut the network are expected.
func (b tab) consoleProblems() func() []string {
	var (
		mu  sync.Mutex
		out []string
	)
	ctx, cancel := context.WithCancel(b.ctx)
	b.t.Cleanup(cancel)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleException && m.Type != "error" && !strings.Contains(m.Text, "Content Security Policy") {
				continue
			}
			if strings.Contains(m.Text, "ERR_INTERNET_DISCONNECTED") || strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			mu.Lock()
			out = append(out, string(m.Type)+": "+m.Text+" ("+m.URL+")")
			mu.Unlock()
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(out)
	}
}

// slow delays every request of the tab by latency (0 restores the network).
func (b tab) slow(latency time.Duration) {
	b.t.Helper()
	b.do("network latency", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		rules := []*network.Conditions{}
		if latency > 0 {
			rules = append(rules, &network.Conditions{Latency: float64(latency.Milliseconds()), DownloadThroughput: -1, UploadThroughput: -1})
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules})
		return err
	}))
}

// storedNote reads a note's text and flag from the SQLite file, as the server keeps them.
func storedNote(t *testing.T, db *sql.DB, title string, key notesclient.Key) (cipher, plain string) {
	t.Helper()
	rows, err := db.Query(`SELECT text FROM notes WHERE is_encrypted = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		rows.Scan(&cipher)
		if p, err := notesclient.Decrypt(key, cipher); err == nil && strings.Contains(p, title) {
			return cipher, p
		}
	}
	t.Fatalf("no stored ciphertext decrypts to a note with %q", title)
	return "", ""
}

// TestBrowser_NotesApp uses the notes app as its owner would, in headless Chromium: sign in,
// make a key, a notebook and notes; reload; tick a task; search; share and unshare; a wrong
// key; the keyboard alone; and the network dropping while typing.
func TestBrowser_NotesApp(t *testing.T) {
	chrome := chromiumPath(t)
	srv := newAuthServer(t, &fakeWeb{})
	db := (&notesServer{testServer: srv}).sqlFile(t)
	b := tab{t: t, ctx: newChrome(t, chrome, 3*time.Minute)}
	b.viewport(1280, 800, false)
	problems := b.consoleProblems()
	defer func() {
		for _, p := range problems() {
			t.Errorf("browser console: %s", p)
		}
	}()

	// Signed out, /notes sends the owner to sign in and back.
	b.do("signing in",
		chromedp.Navigate(srv.base+"notes"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), ownerPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("key-dialog")),
	)
	if u := evalJS[string](b, `location.pathname`); u != "/notes" {
		t.Fatalf("after signing in the browser is at %s, want /notes", u)
	}
	b.shot("notes-key-desktop")

	// A new key, shown once, to be saved before it is used.
	b.do("making a key", chromedp.Click(chromedp.ID("key-generate")), chromedp.WaitVisible(chromedp.ID("key-generated")))
	if evalJS[bool](b, `document.getElementById('key-use').disabled`) != true {
		t.Error("the key can be used before the owner says it is saved")
	}
	keyString := evalJS[string](b, `document.getElementById('key-generated').value`)
	key, err := notesclient.ParseKey(keyString)
	if err != nil {
		t.Fatalf("the app made the key %q: %v", keyString, err)
	}
	b.shot("notes-newkey-desktop")
	b.do("using the key", chromedp.Click(chromedp.ID("key-saved")), chromedp.Click(chromedp.ID("key-use")))
	b.waitJS("the key dialog to close", `!document.getElementById('key-dialog').open`)

	// A notebook and a note.
	b.do("a notebook",
		chromedp.Click(chromedp.ID("new-notebook")),
		chromedp.SendKeys(chromedp.ID("notebook-name"), "Home"),
		chromedp.Click(chromedp.CSS(`#notebook-dialog button[value=save]`)),
	)
	b.waitJS("the notebook", `[...document.querySelectorAll('#notebooks .name')].some(e => e.textContent === 'Home')`)
	typed := "# Groceries\n\n- [ ] milk\n- [ ] bread\n\nFor the weekend #shopping"
	b.do("a note", chromedp.Click(chromedp.ID("new-note")), chromedp.SendKeys(chromedp.ID("text"), typed))
	b.waitJS("the note to be saved", `document.getElementById('status').textContent === 'Saved'`)

	// Reloaded, the key is kept and the note reads back.
	b.do("reloading", chromedp.Reload())
	b.waitJS("the list", `[...document.querySelectorAll('#notes .title')].some(e => e.textContent.startsWith('Groceries'))`)
	if evalJS[bool](b, `document.getElementById('key-dialog').open`) {
		t.Error("the key was not kept in the browser")
	}
	b.do("opening the note", chromedp.Click(chromedp.CSS(`#notes .open`)))
	if got := evalJS[string](b, `document.getElementById('text').value`); got != typed {
		t.Errorf("the note reads back as %q, want %q", got, typed)
	}
	cipher, plain := storedNote(t, db, "Groceries", key)
	if plain != typed || strings.Contains(cipher, "Groceries") {
		t.Errorf("stored %q, decrypting to %q; want ciphertext of what was typed", cipher, plain)
	}
	b.shot("notes-editor-desktop")

	// Ticking a task in the preview saves the note.
	b.do("the preview", chromedp.Click(chromedp.ID("preview-toggle")), chromedp.WaitVisible(chromedp.CSS(`#preview input[type=checkbox]`)))
	b.do("ticking milk", chromedp.Click(chromedp.CSS(`#preview input[data-task="0"]`)))
	b.waitJS("the ticked note to be saved", `document.getElementById('status').textContent === 'Saved' && document.getElementById('text').value.includes('- [x] milk')`)
	if _, plain := storedNote(t, db, "Groceries", key); !strings.Contains(plain, "- [x] milk\n- [ ] bread") {
		t.Errorf("after ticking, the stored note is %q", plain)
	}
	b.shot("notes-preview-desktop")

	// The history shows the earlier text; restoring it saves it again.
	b.do("the history", chromedp.Click(chromedp.ID("history")), chromedp.WaitVisible(chromedp.CSS(`#versions button`)))
	b.do("an earlier version", chromedp.Click(chromedp.CSS(`#versions li:first-child button`)))
	b.waitJS("its preview", `document.querySelector('#version-preview input[type=checkbox]') !== null && !document.getElementById('version-restore').disabled`)
	b.shot("notes-history-desktop")
	b.do("restoring it", chromedp.Click(chromedp.ID("version-restore")))
	b.waitJS("the restored text saved", `document.getElementById('status').textContent === 'Saved' && document.getElementById('text').value.includes('- [ ] milk')`)
	if _, plain := storedNote(t, db, "Groceries", key); plain != typed {
		t.Errorf("after restoring, the stored note is %q, want %q", plain, typed)
	}

	// Search and tags run over the decrypted text.
	b.do("a second note", chromedp.Click(chromedp.ID("new-note")), chromedp.SendKeys(chromedp.ID("text"), "Call the plumber #house"))
	b.waitJS("the second note to be saved", `document.getElementById('status').textContent === 'Saved'`)
	b.do("searching", chromedp.SendKeys(chromedp.ID("search"), "bread"))
	b.waitJS("one search result", `document.querySelectorAll('#notes li').length === 1 && document.querySelector('#notes .title').textContent.startsWith('Groceries')`)
	b.shot("notes-search-desktop")
	b.do("clearing the search", chromedp.Focus(chromedp.ID("search")), chromedp.KeyEvent(kb.Escape))
	b.waitJS("the search cleared", `document.getElementById('search').value === ''`)
	b.do("the house tag", chromedp.Click(chromedp.CSS(`#tags button[aria-label^="Tag house"]`)))
	b.waitJS("the tag's notes", `document.querySelectorAll('#notes li').length === 1 && document.querySelector('#notes .title').textContent.startsWith('Call the plumber')`)

	// Share, open the page, unshare.
	b.do("opening Groceries", chromedp.Click(chromedp.CSS(`#notebooks .nb`)), chromedp.Click(chromedp.CSS(`#notes li:last-child .open`)))
	b.waitJS("Groceries open", `document.getElementById('text').value.startsWith('# Groceries')`)
	b.do("sharing", chromedp.Click(chromedp.ID("share")), chromedp.WaitVisible(chromedp.ID("confirm-ok")), chromedp.Click(chromedp.ID("confirm-ok")))
	b.waitJS("the shared address", `document.getElementById('share-dialog').open && document.getElementById('share-url').value.includes('/s/')`)
	b.shot("notes-share-desktop")
	shared := evalJS[string](b, `document.getElementById('share-url').value`)
	resp, page := srv.get(shared, "")
	if resp.StatusCode != 200 {
		t.Fatalf("the shared page answers %d", resp.StatusCode)
	}
	props := pageItem(t, page, shared)["properties"].(map[string]any)
	if props["name"].([]any)[0] != "Groceries" || !strings.Contains(props["content"].([]any)[0].(map[string]any)["html"].(string), "bread") {
		t.Errorf("the shared page's h-entry is %v", props)
	}
	b.do("closing the share dialog", chromedp.Click(chromedp.CSS(`#share-dialog button[value=close]`)))
	b.do("unsharing", chromedp.Click(chromedp.ID("share")), chromedp.WaitVisible(chromedp.ID("confirm-ok")), chromedp.Click(chromedp.ID("confirm-ok")))
	b.waitJS("unshared", `document.getElementById('status').textContent === 'Unshared'`)
	if resp, _ := srv.get(shared, ""); resp.StatusCode != 410 {
		t.Errorf("after unsharing the page answers %d, want 410", resp.StatusCode)
	}

	// The keyboard alone: Alt+N makes a note, Ctrl+S saves it, / goes to the search.
	b.do("keyboard: new note", chromedp.KeyEvent("n", chromedp.KeyModifiers(chromedp.ModifierAlt)))
	b.waitJS("an empty editor", `document.activeElement.id === 'text' && document.getElementById('text').value === ''`)
	b.do("keyboard: typing", chromedp.KeyEvent("Typed with keys only"))
	b.do("keyboard: save", chromedp.KeyEvent("s", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	b.waitJS("the keyboard note saved", `document.getElementById('status').textContent === 'Saved'`)
	storedNote(t, db, "Typed with keys only", key)
	b.do("keyboard: search", chromedp.Click(chromedp.CSS(`#list-title`)), chromedp.KeyEvent("/"))
	if evalJS[string](b, `document.activeElement.id`) != "search" {
		t.Error("/ does not go to the search")
	}
	// Every control has a name a screen reader can say, and the focus is visible.
	b.checkNames("the notes app")
	b.do("tabbing", chromedp.KeyEvent(kb.Tab))
	if outline := evalJS[string](b, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("the focused control shows no outline")
	}

	// The network drops while typing: the text stays, is kept in the browser, and is saved when
	// it comes back.
	b.do("a note to type offline", chromedp.Click(chromedp.ID("new-note")), chromedp.SendKeys(chromedp.ID("text"), "Written "))
	b.waitJS("saved before going offline", `document.getElementById('status').textContent === 'Saved'`)
	b.offline(true)
	b.do("typing offline", chromedp.SendKeys(chromedp.ID("text"), "on a train"))
	b.waitJS("the offline state", `document.getElementById('status').classList.contains('offline')`)
	if pending := evalJS[string](b, `localStorage.getItem('micropubd.notes.pending') || ''`); !strings.Contains(pending, `"is_encrypted":true`) {
		t.Errorf("nothing kept in the browser while offline: %q", pending)
	}
	b.shot("notes-offline-desktop")
	b.offline(false)
	b.waitJS("saved once back online", `document.getElementById('status').textContent === 'Saved'`)
	storedNote(t, db, "Written on a train", key)

	// A slow network: text typed while a save is on its way, then another note opened at
	// once, is saved too.
	b.slow(800 * time.Millisecond)
	b.do("a note on a slow line", chromedp.Click(chromedp.ID("new-note")), chromedp.SendKeys(chromedp.ID("text"), "Slow "))
	b.waitJS("its save under way", `document.getElementById('status').textContent === 'Saving…'`)
	b.do("typing more, then leaving", chromedp.SendKeys(chromedp.ID("text"), "but sure"), chromedp.Click(chromedp.CSS(`#notes li:last-child .open`)))
	b.slow(0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, _ := db.Query(`SELECT text FROM notes WHERE is_encrypted = 1`)
		found := false
		for rows.Next() {
			var c string
			rows.Scan(&c)
			if p, err := notesclient.Decrypt(key, c); err == nil && p == "Slow but sure" {
				found = true
			}
		}
		rows.Close()
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the text typed while a save was under way was never saved")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Search stays fast with 2,000 notes: decrypted once, searched in memory.
	seedNotes(t, srv, key, 2000)
	b.do("reloading with 2,000 more notes", chromedp.Reload())
	b.waitJS("2,000 notes loaded", `document.querySelectorAll('#notebooks .nb').length === 2`)
	ms := evalJS[float64](b, `(() => {
		const s = document.getElementById('search');
		const t0 = performance.now();
		s.value = 'needle-1999';
		s.dispatchEvent(new Event('input'));
		const found = document.querySelectorAll('#notes li').length;
		return found === 1 ? performance.now() - t0 : -found;
	})()`)
	if ms < 0 || ms > 500 {
		t.Errorf("searching 2,000 notes took %.0f ms (negative: %.0f results instead of 1)", ms, -ms)
	}
	t.Logf("search over 2,000 notes: %.1f ms", ms)
	b.do("clearing the search again", chromedp.Focus(chromedp.ID("search")), chromedp.KeyEvent(kb.Escape), chromedp.Click(chromedp.CSS(`#notebooks li:first-child .nb`)))

	// Several notes at once: two of Home's notes move to the archive.
	homeCount := evalJS[float64](b, `document.querySelectorAll('#notes li').length`)
	b.do("selecting two notes",
		chromedp.Click(chromedp.CSS(`#notes li:nth-child(1) input[type=checkbox]`)),
		chromedp.Click(chromedp.CSS(`#notes li:nth-child(2) input[type=checkbox]`)),
		chromedp.WaitVisible(chromedp.ID("bulk-move")),
	)
	b.shot("notes-bulk-desktop")
	b.do("moving them", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('bulk-target'); s.value = s.options[1].value; })()`),
		chromedp.Click(chromedp.ID("bulk-move")))
	b.waitJS("two notes moved", `document.querySelectorAll('#notes li').length === `+fmt.Sprint(homeCount-2))
	var archived int
	db.QueryRow(`SELECT count(*) FROM notes n JOIN notebooks b ON b.id = n.notebook_id WHERE b.name = 'Archive'`).Scan(&archived)
	if archived != 2002 {
		t.Errorf("the archive holds %d notes, want 2,002", archived)
	}
	// Notebooks reorder (here with the keyboard-friendly Move up; dragging sends the same).
	b.do("moving the archive up", chromedp.Click(chromedp.CSS(`#notebooks li:nth-child(2) .edit`)), chromedp.Click(chromedp.ID("notebook-up")))
	b.waitJS("the archive first", `document.querySelector('#notebooks li:first-child .name').textContent === 'Archive'`)
	var firstNotebook string
	db.QueryRow(`SELECT name FROM notebooks ORDER BY position, id LIMIT 1`).Scan(&firstNotebook)
	if firstNotebook != "Archive" {
		t.Errorf("the first notebook stored is %q, want Archive", firstNotebook)
	}
	// And by dragging: Home dropped on the archive goes before it.
	b.do("dragging Home up", chromedp.DragAndDrop(chromedp.CSS(`#notebooks li:nth-child(2) .nb`), chromedp.CSS(`#notebooks li:nth-child(1) .nb`)))
	b.waitJS("Home first again", `document.querySelector('#notebooks li:first-child .name').textContent === 'Home'`)
	db.QueryRow(`SELECT name FROM notebooks ORDER BY position, id LIMIT 1`).Scan(&firstNotebook)
	if firstNotebook != "Home" {
		t.Errorf("after dragging, the first notebook stored is %q, want Home", firstNotebook)
	}
	// Renamed and recoloured, then deleted with its notes after a confirmation.
	b.do("renaming the archive",
		chromedp.Click(chromedp.CSS(`#notebooks li:nth-child(2) .edit`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('notebook-name').value = 'Old stuff'; document.getElementById('notebook-light').value = '#ffd0d0'`),
		chromedp.Click(chromedp.CSS(`#notebook-dialog button[value=save]`)),
	)
	b.waitJS("the new name", `[...document.querySelectorAll('#notebooks .name')].some(e => e.textContent === 'Old stuff')`)
	var light string
	db.QueryRow(`SELECT color_light FROM notebooks WHERE name = 'Old stuff'`).Scan(&light)
	if light != "#ffd0d0" {
		t.Errorf("the light colour stored is %q", light)
	}
	b.do("deleting it", chromedp.Click(chromedp.CSS(`#notebooks li:nth-child(2) .edit`)), chromedp.Click(chromedp.ID("notebook-delete")),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")))
	if text := evalJS[string](b, `document.getElementById('confirm-text').textContent`); !strings.Contains(text, "2002 notes") {
		t.Errorf("the confirmation says %q; it should count the notes", text)
	}
	b.do("confirming", chromedp.Click(chromedp.ID("confirm-ok")))
	b.waitJS("one notebook left", `document.querySelectorAll('#notebooks li').length === 1`)
	var left int
	db.QueryRow(`SELECT count(*) FROM notes`).Scan(&left)
	if left != 3 {
		t.Errorf("%d notes left after deleting the notebook, want Home's 3", left)
	}
	b.do("back to Home", chromedp.Click(chromedp.CSS(`#notebooks li:nth-child(1) .nb`)))

	// Phone-sized screens.
	b.viewport(390, 844, true)
	b.waitJS("the phone list", `document.getElementById('list-pane').offsetParent !== null`)
	b.shot("notes-list-phone")
	b.do("a note on the phone", chromedp.Click(chromedp.CSS(`#notes .open`)))
	b.shot("notes-editor-phone")
	b.do("the notebooks on the phone", chromedp.Click(chromedp.ID("back")), chromedp.Click(chromedp.ID("toggle-sidebar")))
	b.shot("notes-notebooks-phone")
	if w := evalJS[float64](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the phone page scrolls sideways: %v px wide", w)
	}

	// A wrong key is reported in words and changes nothing.
	b.viewport(1280, 800, false)
	before := dumpNotes(t, db)
	other, _ := notesclient.GenerateKey()
	b.do("a wrong key", chromedp.Evaluate[chromedp.Void](`localStorage.setItem('micropubd.notes.key', '`+other.String()+`')`), chromedp.Reload())
	b.waitJS("the wrong-key message", `document.getElementById('key-dialog').open && document.getElementById('key-error').textContent.includes('does not decrypt')`)
	b.shot("notes-wrongkey-desktop")
	b.do("pasting another wrong key", chromedp.SendKeys(chromedp.ID("key-input"), other.String()), chromedp.Click(chromedp.ID("key-use")))
	b.waitJS("the key refused", `document.getElementById('key-dialog').open && document.getElementById('key-error').textContent.includes('does not decrypt')`)
	if after := dumpNotes(t, db); after != before {
		t.Errorf("a wrong key changed the stored notes:\n%s\n%s", before, after)
	}
	b.do("the right key", chromedp.Evaluate[chromedp.Void](`document.getElementById('key-input').value = ''`), chromedp.SendKeys(chromedp.ID("key-input"), keyString), chromedp.Click(chromedp.ID("key-use")))
	b.waitJS("the notes readable again", `!document.getElementById('key-dialog').open && document.querySelectorAll('#notes .title').length > 0 && ![...document.querySelectorAll('#notes .title')].some(e => e.textContent.startsWith('Locked'))`)

	// The key can be forgotten on this device, from the menu.
	b.do("forgetting the key", chromedp.Click(chromedp.CSS(`.menu summary`)), chromedp.Click(chromedp.ID("forget-key")),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")), chromedp.Click(chromedp.ID("confirm-ok")))
	b.waitJS("asked for the key again", `document.getElementById('key-dialog').open && localStorage.getItem('micropubd.notes.key') === null`)
}

// dumpNotes returns every stored note row, to compare before and after.
func dumpNotes(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT id, text, is_encrypted, modified_at FROM notes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var (
			id, mod int64
			text    string
			enc     bool
		)
		rows.Scan(&id, &text, &enc, &mod)
		out = append(out, []any{id, text, enc, mod})
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// seedNotes stores n notes encrypted with key in a new notebook, through the API.
func seedNotes(t *testing.T, srv *testServer, key notesclient.Key, n int) {
	t.Helper()
	ns := &notesServer{testServer: srv, notesToken: srv.mint("notes"), key: key}
	nb := ns.newNotebook(t, "Archive")
	for i := range n {
		ns.saveNote(t, url.Values{"notebook_id": {id(nb.ID)}, "text": {ns.encrypt(t, fmt.Sprintf("Archived note %d\n\nneedle-%d in a haystack #archive", i, i))}})
	}
}
