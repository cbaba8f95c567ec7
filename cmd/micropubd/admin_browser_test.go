package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// pageProps fetches a post's page as a visitor and returns its h-entry's properties.
func pageProps(t *testing.T, srv *testServer, postURL string) map[string]any {
	t.Helper()
	resp, page := srv.get(postURL, "")
	if resp.StatusCode != 200 {
		t.Fatalf("%s answers %d", postURL, resp.StatusCode)
	}
	return pageItem(t, page, postURL)["properties"].(map[string]any)
}

// contentValue is the text of a page's e-content.
func contentValue(props map[string]any) string {
	c, _ := props["content"].([]any)
	if len(c) == 0 {
		return ""
	}
	m, _ := c[0].(map[string]any)
	v, _ := m["value"].(string)
	return strings.TrimSpace(v)
}

func firstHTML(props map[string]any) string {
	c, _ := props["content"].([]any)
	if len(c) == 0 {
		return ""
	}
	if m, ok := c[0].(map[string]any); ok {
		return m["html"].(string)
	}
	return ""
}

// publish submits the compose or edit form and waits for the post's page.
func (b tab) publish(what string) string {
	b.t.Helper()
	b.do(what, chromedp.Click(chromedp.CSS(`form.post-form button[type=submit]`)))
	b.waitJS(what+": the post's page", `!location.pathname.startsWith('/admin/') && document.querySelector('.h-entry, .h-event') !== null`)
	return evalJS[string](b, `location.href`)
}

// TestBrowser_OwnerWritesInTheBrowser writes, edits, deletes and undeletes posts and manages
// uploads through the owner's pages alone, in headless Chromium, and checks each result on the
// public page parsed as microformats2.
func TestBrowser_OwnerWritesInTheBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	srv := newAuthServer(t, &fakeWeb{})
	b := tab{t: t, ctx: newChrome(t, chrome, 3*time.Minute)}
	b.viewport(1280, 900, false)
	problems := b.consoleProblems()
	defer func() {
		for _, p := range problems() {
			t.Errorf("browser console: %s", p)
		}
	}()
	b.do("signing in from the compose page",
		chromedp.Navigate(srv.base+"admin/new"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), ownerPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("content")),
	)
	b.shot("admin-compose-desktop")

	// A note.
	b.do("a note", chromedp.SendKeys(chromedp.ID("content"), "Written in the browser, no app needed."))
	note := b.publish("publishing the note")
	if got := contentValue(pageProps(t, srv, note)); got != "Written in the browser, no app needed." {
		t.Errorf("the note's content is %v", got)
	}

	// An article in Markdown.
	b.do("an article",
		chromedp.Navigate(srv.base+"admin/new?type=article"),
		chromedp.SendKeys(chromedp.ID("name"), "On writing"),
		chromedp.SendKeys(chromedp.ID("content"), "It starts with **one** word.\n\n- and a list\n- of two"),
	)
	b.waitJS("the Markdown preview", `document.querySelector('#md-preview strong') !== null`)
	b.shot("admin-article-desktop")
	article := b.publish("publishing the article")
	props := pageProps(t, srv, article)
	if props["name"].([]any)[0] != "On writing" || !strings.Contains(firstHTML(props), "<strong>one</strong>") || !strings.Contains(firstHTML(props), "<li>of two</li>") {
		t.Errorf("the article's page: %v", props)
	}

	// A photo with its alt text.
	b.do("a photo post",
		chromedp.Navigate(srv.base+"admin/new?type=photo"),
		chromedp.SetUploadFiles(chromedp.CSS(`input[type=file][name=photo]`), []string{mustAbs(t, "../../testdata/media/gps.jpg")}),
		chromedp.SendKeys(chromedp.CSS(`input[name=mp-photo-alt]`), "A grey test card"),
		chromedp.SendKeys(chromedp.ID("content"), "Today's view"),
	)
	photo := b.publish("publishing the photo")
	photos := pageProps(t, srv, photo)["photo"].([]any)
	if p, ok := photos[0].(map[string]any); !ok || p["alt"] != "A grey test card" || !strings.HasPrefix(p["value"].(string), srv.base+"media/") {
		t.Errorf("the photo on the page: %v", photos)
	}

	// A reply.
	b.do("a reply",
		chromedp.Navigate(srv.base+"admin/new?type=reply"),
		chromedp.SendKeys(chromedp.ID("target"), "https://other.example/post/1"),
		chromedp.SendKeys(chromedp.ID("content"), "I agree!"),
	)
	reply := b.publish("publishing the reply")
	if got := pageProps(t, srv, reply)["in-reply-to"].([]any)[0]; got != "https://other.example/post/1" {
		t.Errorf("in-reply-to is %v", got)
	}

	// A draft: only the owner sees it.
	b.do("a draft",
		chromedp.Navigate(srv.base+"admin/new"),
		chromedp.SendKeys(chromedp.ID("content"), "Not ready yet"),
		chromedp.Click(chromedp.CSS(`details.more summary`)),
		chromedp.SetValue(chromedp.ID("status"), "draft"),
	)
	draft := b.publish("saving the draft")
	if resp, _ := srv.get(draft, ""); resp.StatusCode != 404 {
		t.Errorf("a visitor sees the draft: %d", resp.StatusCode)
	}

	// Editing the article, from the owner's bar on its page.
	b.do("editing the article",
		chromedp.Navigate(article),
		chromedp.Click(chromedp.CSS(`.ownerbar .this-post a`)),
		chromedp.WaitVisible(chromedp.ID("name")),
	)
	b.shot("admin-edit-desktop")
	b.do("retitling", chromedp.SetValue(chromedp.ID("name"), "On writing, again"))
	if again := b.publish("saving the edit"); again != article {
		t.Errorf("after the edit the browser is at %s, want %s", again, article)
	}
	if got := pageProps(t, srv, article)["name"].([]any)[0]; got != "On writing, again" {
		t.Errorf("the edited title is %v", got)
	}

	// Deleting asks first, then offers an undo.
	b.do("deleting the reply",
		chromedp.Navigate(reply),
		chromedp.Click(chromedp.CSS(`.ownerbar .this-post a:last-child`)),
		chromedp.WaitVisible(chromedp.CSS(`button.danger-button`)),
		chromedp.Click(chromedp.CSS(`button.danger-button`)),
		chromedp.WaitVisible(chromedp.CSS(`.message.notice button`)),
	)
	if resp, _ := srv.get(reply, ""); resp.StatusCode != 410 {
		t.Errorf("the deleted reply answers %d", resp.StatusCode)
	}
	b.shot("admin-posts-desktop")
	b.do("undoing", chromedp.Click(chromedp.CSS(`.message.notice button`)))
	b.waitJS("the reply back", `location.href === '`+reply+`'`)
	if resp, _ := srv.get(reply, ""); resp.StatusCode != 200 {
		t.Errorf("the undeleted reply answers %d", resp.StatusCode)
	}

	// The media library: upload, alt text.
	b.do("uploading",
		chromedp.Navigate(srv.base+"admin/media"),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{mustAbs(t, "../../testdata/media/gps.jpg")}),
		chromedp.SendKeys(chromedp.ID("alt"), "Uploaded alone"),
		chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)),
	)
	b.waitJS("the upload listed", `document.querySelector('.message.notice') !== null && document.querySelectorAll('.media-list li').length === 1`)
	b.do("setting alt text",
		chromedp.SetValue(chromedp.CSS(`.alt-form input[name=alt]`), "A better description"),
		chromedp.Click(chromedp.CSS(`.alt-form button`)),
	)
	b.waitJS("the alt text saved", `(document.querySelector('.message.notice') || {}).textContent === 'Alt text saved.' && document.querySelector('.alt-form input[name=alt]').value === 'A better description'`)
	b.shot("admin-media-desktop")

	// Phones: nothing wider than the screen on the owner's pages and the apps page.
	b.viewport(390, 844, true)
	for _, p := range []struct{ path, shot string }{
		{"admin/new?type=article", "admin-compose-phone"}, {"admin/edit?url=" + article, "admin-edit-phone"},
		{"admin/posts", "admin-posts-phone"}, {"admin/media", "admin-media-phone"}, {"auth/tokens", "tokens-phone"},
	} {
		b.do("the phone page "+p.path, chromedp.Navigate(srv.base+p.path))
		if w := evalJS[float64](b, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("%s on a phone is %v px wide: it scrolls sideways", p.path, w)
		}
		b.checkNames(p.path)
		b.shot(p.shot)
	}
}

// TestBrowser_OwnerWritesANoteWithoutJavaScript writes a note with scripts switched off: the
// pages are plain forms.
func TestBrowser_OwnerWritesANoteWithoutJavaScript(t *testing.T) {
	chrome := chromiumPath(t)
	srv := newAuthServer(t, &fakeWeb{})
	b := tab{t: t, ctx: newChrome(t, chrome, time.Minute)}
	b.do("switching scripts off", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	b.do("signing in",
		chromedp.Navigate(srv.base+"admin/new"),
		chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), ownerPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("content")),
	)
	if evalJS[bool](b, `typeof window.marked !== 'undefined'`) {
		t.Fatal("scripts ran: the test does not prove the page works without them")
	}
	b.do("a note", chromedp.SendKeys(chromedp.ID("content"), "No scripts were harmed."))
	note := b.publish("publishing without scripts")
	if got := contentValue(pageProps(t, srv, note)); got != "No scripts were harmed." {
		t.Errorf("the note's content is %v", got)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
