package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ownerBrowser signs the owner in and returns the browser and the CSRF token the owner's pages
// carry.
func ownerBrowser(t *testing.T, srv *testServer) (*browser, string) {
	t.Helper()
	b := newBrowser(t)
	if resp, _ := b.signIn(srv.base+"auth/login?next=%2Fadmin%2Fnew", ownerPassword); resp.StatusCode != http.StatusOK {
		t.Fatalf("signing in: %d", resp.StatusCode)
	}
	_, page := b.get(srv.base + "admin/new")
	return b, findForm(t, page, "/micropub").fields.Get("csrf")
}

// formPost posts a form as the owner's page does (or as a forger would, by the headers).
func (b *browser) formPost(t *testing.T, endpoint, contentType string, body io.Reader, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, body)
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// postCount counts the posts, through the Micropub listing.
func postCount(t *testing.T, srv *testServer) int {
	t.Helper()
	items, _ := srv.query(url.Values{"q": {"source"}, "limit": {"1000"}})["items"].([]any)
	return len(items)
}

func TestAdmin_PagesNeedTheOwner(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	for _, p := range []string{"admin/new", "admin/new?type=article", "admin/posts", "admin/media", "admin/edit?url=x", "admin/"} {
		resp, _ := newBrowser(t).get(srv.base + p)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, srv.base+"auth/login?next=") {
			t.Errorf("%s signed out: %d to %q, want 303 to the sign-in page", p, resp.StatusCode, loc)
		}
	}
	b, _ := ownerBrowser(t, srv)
	for _, p := range []string{"admin/new", "admin/new?type=photo", "admin/posts", "admin/posts?status=deleted", "admin/media"} {
		resp, page := b.get(srv.base + p)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: %d, CSP %q", p, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
		if bytes.Contains(page, []byte("<script>")) || bytes.Contains(page, []byte(" style=")) {
			t.Errorf("%s has inline script or style", p)
		}
	}
	// Signed in, the site's pages carry the owner's bar; visitors see none.
	_, home := b.get(srv.base)
	if !bytes.Contains(home, []byte(`class="ownerbar"`)) || !bytes.Contains(home, []byte("admin/new")) {
		t.Error("the homepage has no owner's bar for the signed-in owner")
	}
	if _, anon := newBrowser(t).get(srv.base); bytes.Contains(anon, []byte("ownerbar")) {
		t.Error("a visitor sees the owner's bar")
	}
}

// TestAdmin_SessionPostsNeedCSRFAndSameOrigin tries every way a page elsewhere could make the
// owner's browser post: each is refused with nothing written.
func TestAdmin_SessionPostsNeedCSRFAndSameOrigin(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b, csrf := ownerBrowser(t, srv)
	if csrf == "" {
		t.Fatal("the compose form carries no CSRF token")
	}
	origin := strings.TrimSuffix(srv.base, "/")
	form := "application/x-www-form-urlencoded"
	for _, c := range []struct {
		name, contentType, body string
		headers                 map[string]string
		status                  int
	}{
		{"no CSRF token", form, "content=forged", map[string]string{"Origin": origin}, 403},
		{"a wrong CSRF token", form, "content=forged&csrf=nope", map[string]string{"Origin": origin}, 403},
		{"cross-site", form, "content=forged&csrf=" + csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site but not same-origin", form, "content=forged&csrf=" + csrf, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"another origin", form, "content=forged&csrf=" + csrf, map[string]string{"Origin": "https://evil.example"}, 403},
		{"Origin null", form, "content=forged&csrf=" + csrf, map[string]string{"Origin": "null"}, 403},
		{"a JSON body", "application/json", `{"type":["h-entry"],"properties":{"content":["forged"]},"csrf":"` + csrf + `"}`, map[string]string{"Origin": origin}, 401},
		{"a delete without a token", form, "action=delete&url=" + url.QueryEscape(srv.base+"2026/03/x"), map[string]string{"Origin": origin}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.formPost(t, srv.base+"micropub", c.contentType, strings.NewReader(c.body), c.headers)
			wantError(t, resp, body, c.status, map[int]string{401: "unauthorized", 403: "forbidden"}[c.status])
		})
	}
	// A file sent before the form's CSRF token is refused before a byte is stored.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("photo", "p.jpg")
	fw.Write(bytes.Repeat([]byte{0xff}, 2048))
	mw.WriteField("csrf", csrf)
	mw.Close()
	resp, body := b.formPost(t, srv.base+"micropub", mw.FormDataContentType(), &buf, map[string]string{"Origin": origin})
	wantError(t, resp, body, http.StatusForbidden, "forbidden")
	if n := postCount(t, srv); n != 0 {
		t.Errorf("%d posts after refused requests, want 0", n)
	}
	for _, dir := range []string{"media", "tmp"} {
		if entries, _ := os.ReadDir(filepath.Join(srv.db.Dir(), dir)); len(entries) != 0 {
			t.Errorf("%s holds %d files after refused uploads", dir, len(entries))
		}
	}

	// The real thing: same-origin with the token. A browser asking for HTML is sent to the post.
	resp, _ = b.formPost(t, srv.base+"micropub", form, strings.NewReader("h=entry&content=From+the+owner%27s+page&csrf="+csrf),
		map[string]string{"Origin": origin, "Sec-Fetch-Site": "same-origin", "Accept": "text/html"})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), srv.base+"20") {
		t.Fatalf("a good form post: %d to %q, want 303 to the post", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Without asking for HTML, it answers as Micropub does.
	resp, _ = b.formPost(t, srv.base+"micropub", form, strings.NewReader("h=entry&content=Second&csrf="+csrf), map[string]string{"Origin": origin})
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("a form post without Accept: text/html: %d, want 201", resp.StatusCode)
	}
	// A session is no token: the queries still need one.
	if resp, _ := b.get(srv.base + "micropub?q=source"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("q=source with only a session: %d, want 401", resp.StatusCode)
	}
}

func TestAdmin_ArticleInMarkdownRoundTripsAndEditsAsAFormUpdate(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b, csrf := ownerBrowser(t, srv)
	html := map[string]string{"Origin": strings.TrimSuffix(srv.base, "/"), "Accept": "text/html"}
	md := "Some **bold** words.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
	resp, _ := b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(url.Values{
		"csrf": {csrf}, "h": {"entry"}, "name": {"A Markdown article"}, "content[markdown]": {md}, "category": {"writing", ""},
		"post-status": {"published"}, "visibility": {"public"}, "mp-slug": {""}, "published": {""},
	}.Encode()), html)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, page := srv.get(loc, "")
	props := pageItem(t, page, loc)["properties"].(map[string]any)
	content := props["content"].([]any)[0].(map[string]any)["html"].(string)
	if !strings.Contains(content, "<strong>bold</strong>") || !strings.Contains(content, "<table>") {
		t.Errorf("the Markdown was not rendered: %s", content)
	}
	source := srv.source(loc)["properties"].(map[string]any)
	if diff := cmp.Diff([]any{map[string]any{"markdown": md, "html": source["content"].([]any)[0].(map[string]any)["html"]}}, source["content"]); diff != "" {
		t.Errorf("q=source does not give the Markdown back (-want +got):\n%s", diff)
	}

	// The edit page shows the Markdown; saving it is a form update.
	_, edit := b.get(srv.base + "admin/edit?url=" + url.QueryEscape(loc))
	f := findForm(t, edit, "/micropub")
	if f.fields.Get("action") != "update" || f.fields.Get("url") != loc || f.fields.Get("replace[name]") != "A Markdown article" {
		t.Fatalf("edit form fields: %v", f.fields)
	}
	if !bytes.Contains(edit, []byte("Some **bold** words.")) {
		t.Error("the edit page does not show the Markdown")
	}
	f.fields.Set("replace[content][markdown]", "Rewritten *gently*.")
	f.fields.Set("replace[name]", "A retitled article")
	f.fields.Set("replace[category]", "editing")
	resp, _ = b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(f.fields.Encode()), html)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != loc {
		t.Fatalf("update: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = srv.get(loc, "")
	props = pageItem(t, page, loc)["properties"].(map[string]any)
	if props["name"].([]any)[0] != "A retitled article" || !strings.Contains(props["content"].([]any)[0].(map[string]any)["html"].(string), "<em>gently</em>") {
		t.Errorf("after the edit the page is %v", props)
	}
	if diff := cmp.Diff([]any{"editing"}, props["category"]); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}

	// A mistake shows the form again with what was typed and the error in words.
	f.fields.Set("replace[published]", "next tuesday")
	f.fields.Set("replace[name]", "Typed but refused")
	resp, again := b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(f.fields.Encode()), html)
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("a bad update: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Not saved.", "next tuesday", "Typed but refused", "Rewritten *gently*."} {
		if !bytes.Contains(again, []byte(want)) {
			t.Errorf("the form shown again lacks %q", want)
		}
	}
	if name := srv.source(loc)["properties"].(map[string]any)["name"]; name.([]any)[0] != "A retitled article" {
		t.Errorf("a refused update changed the name to %v", name)
	}
}

func TestAdmin_DeleteUndeleteAndTheListsOfPosts(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b, csrf := ownerBrowser(t, srv)
	html := map[string]string{"Origin": strings.TrimSuffix(srv.base, "/"), "Accept": "text/html"}
	post := func(fields url.Values) *http.Response {
		fields.Set("csrf", csrf)
		resp, _ := b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(fields.Encode()), html)
		return resp
	}
	draft := post(url.Values{"content": {"A draft about zebras"}, "post-status": {"draft"}}).Header.Get("Location")
	secret := post(url.Values{"content": {"Private thoughts"}, "visibility": {"private"}}).Header.Get("Location")
	public := post(url.Values{"content": {"Hello zebras"}}).Header.Get("Location")

	_, list := b.get(srv.base + "admin/posts")
	for _, want := range []string{"A draft about zebras", ">draft<", "Private thoughts", ">private<", "Hello zebras"} {
		if !bytes.Contains(list, []byte(want)) {
			t.Errorf("the posts list lacks %q", want)
		}
	}
	post(url.Values{"content": {"Q&A about <b> tags"}})
	_, qa := b.get(srv.base + "admin/posts?q=" + url.QueryEscape("q&a about <b>"))
	if !bytes.Contains(qa, []byte("Q&amp;A about &lt;b&gt; tags")) {
		t.Error("searching for text with & and < finds nothing")
	}
	_, found := b.get(srv.base + "admin/posts?q=ZEBRAS")
	if !bytes.Contains(found, []byte("A draft about zebras")) || !bytes.Contains(found, []byte("Hello zebras")) || bytes.Contains(found, []byte("Private thoughts")) {
		t.Error("searching for zebras did not find both zebra posts only")
	}
	_, drafts := b.get(srv.base + "admin/posts?status=draft")
	if !bytes.Contains(drafts, []byte("A draft about zebras")) || bytes.Contains(drafts, []byte("Hello zebras")) {
		t.Error("the drafts filter is wrong")
	}
	if resp, _ := srv.get(draft, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a visitor sees the draft: %d", resp.StatusCode)
	}
	if resp, _ := b.get(secret); resp.StatusCode != http.StatusOK {
		t.Errorf("the owner cannot see the private post: %d", resp.StatusCode)
	}

	// Delete asks first (a page, no script), then goes back to the list with an undo.
	_, confirm := b.get(srv.base + "admin/delete?url=" + url.QueryEscape(public))
	f := findForm(t, confirm, "/micropub")
	if f.fields.Get("action") != "delete" || f.fields.Get("url") != public {
		t.Fatalf("the confirmation form: %v", f.fields)
	}
	resp := post(f.fields)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "admin/posts?deleted=") {
		t.Fatalf("delete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := srv.get(public, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("the deleted post answers %d", resp.StatusCode)
	}
	_, deleted := b.get(srv.base + "admin/posts?status=deleted")
	undo := findForm(t, deleted, "/micropub")
	if undo.fields.Get("action") != "undelete" || undo.fields.Get("url") != public {
		t.Fatalf("the deleted list's form: %v", undo.fields)
	}
	if resp := post(undo.fields); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != public {
		t.Fatalf("undelete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := srv.get(public, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the undeleted post answers %d", resp.StatusCode)
	}
	// Paging with cursors: 29 more posts make two pages.
	for i := range 29 {
		post(url.Values{"content": {"filler " + id(int64(i))}})
	}
	_, first := b.get(srv.base + "admin/posts")
	older := regexpFind(t, first, `href="([^"]+)" rel="next"`)
	_, second := b.get(strings.ReplaceAll(older, "&amp;", "&"))
	if !bytes.Contains(second, []byte("A draft about zebras")) || bytes.Contains(second, []byte("filler 28")) || !bytes.Contains(second, []byte(`rel="prev"`)) {
		t.Errorf("the second page is wrong:\n%s", second)
	}
}

func TestAdmin_MediaLibraryUploadAltAndDelete(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b, csrf := ownerBrowser(t, srv)
	html := map[string]string{"Origin": strings.TrimSuffix(srv.base, "/"), "Accept": "text/html"}
	jpeg, err := os.ReadFile(filepath.Join("..", "..", "testdata", "media", "gps.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", "holiday.jpg")
	fw.Write(jpeg)
	mw.WriteField("alt", "A grey square")
	mw.Close()
	resp, _ := b.formPost(t, srv.base+"micropub/media", mw.FormDataContentType(), &buf, html)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != srv.base+"admin/media?done=upload" {
		t.Fatalf("upload: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, lib := b.get(srv.base + "admin/media")
	fileURL := regexpFind(t, lib, `<input readonly value="([^"]+)"`)
	if !strings.HasPrefix(fileURL, srv.base+"media/") || !bytes.Contains(lib, []byte("A grey square")) || !bytes.Contains(lib, []byte("Not used by any post")) {
		t.Fatalf("the library after the upload:\n%s", lib)
	}
	resp, _ = b.formPost(t, srv.base+"micropub/media", "application/x-www-form-urlencoded", strings.NewReader(url.Values{
		"csrf": {csrf}, "action": {"update"}, "url": {fileURL}, "alt": {"A lighthouse at dusk"}}.Encode()), html)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("alt text: %d", resp.StatusCode)
	}
	var item map[string]any
	_, src := srv.get(srv.base+"micropub/media?q=source&url="+url.QueryEscape(fileURL), srv.token)
	json.Unmarshal(src, &item)
	if item["alt"] != "A lighthouse at dusk" {
		t.Errorf("the media q=source alt is %v", item["alt"])
	}
	// Used by a post, it shows where and cannot be deleted; unused, it can.
	post := srv.create("h=entry&content=With+a+photo&photo=" + url.QueryEscape(fileURL))
	_, lib = b.get(srv.base + "admin/media")
	if !bytes.Contains(lib, []byte("Used by <a href=\""+post)) || bytes.Contains(lib, []byte("Delete file")) {
		t.Errorf("the library does not say the file is used by %s", post)
	}
	srv.postForm("action=delete&url=" + url.QueryEscape(post))
	resp, _ = b.formPost(t, srv.base+"micropub/media", "application/x-www-form-urlencoded", strings.NewReader(url.Values{
		"csrf": {csrf}, "action": {"delete"}, "url": {fileURL}}.Encode()), html)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("deleting a file a deleted post still uses: %d, want 400 (the post may come back)", resp.StatusCode)
	}
}

func regexpFind(t *testing.T, page []byte, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, page)
	}
	return string(m[1])
}

// TestAdmin_EveryKindPublishes fills each compose form as its page gives it and checks the
// post on its page, parsed as microformats2.
func TestAdmin_EveryKindPublishes(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.SyndicateTo = testTargets })
	b, _ := ownerBrowser(t, srv)
	html := map[string]string{"Origin": strings.TrimSuffix(srv.base, "/"), "Accept": "text/html"}
	for _, c := range []struct {
		kind string
		set  map[string]string
		want map[string]any
		h    string
	}{
		{"like", map[string]string{"like-of": "https://other.example/a"}, map[string]any{"like-of": []any{"https://other.example/a"}}, "h-entry"},
		{"repost", map[string]string{"repost-of": "https://other.example/b", "content": "Worth reading"}, map[string]any{"repost-of": []any{"https://other.example/b"}}, "h-entry"},
		{"bookmark", map[string]string{"bookmark-of": "https://other.example/c", "name": "A page to keep"}, map[string]any{"bookmark-of": []any{"https://other.example/c"}, "name": []any{"A page to keep"}}, "h-entry"},
		{"event", map[string]string{"name": "Launch party", "start": "2026-12-24T18:00", "location": "The harbour"},
			map[string]any{"name": []any{"Launch party"}, "location": []any{"The harbour"}}, "h-event"},
		{"note", map[string]string{"content": "Tagged and syndicated", "category": "tests", "mp-syndicate-to": testTargets[0].UID, "mp-slug": "my-own-slug"},
			map[string]any{"category": []any{"tests"}}, "h-entry"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			_, page := b.get(srv.base + "admin/new?type=" + c.kind)
			f := findForm(t, page, "/micropub")
			for k, v := range c.set {
				if _, ok := f.fields[k]; !ok && k != "mp-syndicate-to" {
					t.Fatalf("the %s form has no field %q: %v", c.kind, k, f.fields)
				}
				f.fields.Set(k, v)
			}
			resp, body := b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(f.fields.Encode()), html)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%d: %s", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			_, post := srv.get(loc, "")
			item := pageItem(t, post, loc)
			if diff := cmp.Diff([]any{c.h}, item["type"]); diff != "" {
				t.Errorf("type (-want +got):\n%s", diff)
			}
			props := item["properties"].(map[string]any)
			for k, v := range c.want {
				if diff := cmp.Diff(v, props[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			if c.kind == "note" {
				if !strings.HasSuffix(loc, "/my-own-slug") {
					t.Errorf("the slug was not used: %s", loc)
				}
				p, err := srv.db.PostByPath(t.Context(), strings.TrimPrefix(loc, srv.base))
				if err != nil || !cmp.Equal([]string{testTargets[0].UID}, p.SyndicateTo) {
					t.Errorf("the syndication targets stored: %v, %v", p, err)
				}
			}
		})
	}
}

// TestAdmin_SavingAnEditUnchangedChangesNothing saves the edit form of posts as the browser
// sends it (text areas with CR LF line ends), untouched: nothing may change, not even updated.
func TestAdmin_SavingAnEditUnchangedChangesNothing(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{}, func(c *serverConfig) { c.SyndicateTo = testTargets })
	b, _ := ownerBrowser(t, srv)
	html := map[string]string{"Origin": strings.TrimSuffix(srv.base, "/"), "Accept": "text/html"}
	create := func(body string) string {
		resp, out := srv.postJSON(body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, out)
		}
		return resp.Header.Get("Location")
	}
	long := strings.Repeat("word-", 16) + "end"
	posts := []string{
		create(`{"type":["h-entry"],"properties":{"content":["Line one\nLine two"],"published":["2026-03-01T10:00:00+05:30"],
			"category":["topic",{"type":["h-card"],"properties":{"name":["Ann"],"url":["https://ann.example/"]}}],
			"location":[{"type":["h-card"],"properties":{"name":["Cafe"],"latitude":["45.5"],"longitude":["-122.6"]}}]},
			"mp-syndicate-to":["` + testTargets[1].UID + `"]}`),
		create(`{"type":["h-event"],"properties":{"name":["Meetup"],"start":["2026-04-01T19:00:00-07:00"],"content":["Bring snacks"]}}`),
		create(`{"type":["h-entry"],"properties":{"content":[{"html":"<p>Posted <b>as HTML</b></p>"}]}}`),
		create(`{"type":["h-entry"],"properties":{"name":["` + long + `"],"content":["first"]}}`),
		create(`{"type":["h-entry"],"properties":{"name":["` + long + `"],"content":["second, whose slug has -2"]}}`),
	}
	for _, post := range posts {
		before := srv.source(post)
		stored, _ := srv.db.PostByPath(t.Context(), strings.TrimPrefix(post, srv.base))
		_, page := b.get(srv.base + "admin/edit?url=" + url.QueryEscape(post))
		f := findForm(t, page, "/micropub")
		for k, vs := range f.fields {
			for i, v := range vs {
				f.fields[k][i] = strings.ReplaceAll(v, "\n", "\r\n") // as browsers send text areas
			}
		}
		resp, out := b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(f.fields.Encode()), html)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != post {
			t.Fatalf("%s: saving unchanged: %d to %q\n%s", post, resp.StatusCode, resp.Header.Get("Location"), out)
		}
		if diff := cmp.Diff(before, srv.source(post)); diff != "" {
			t.Errorf("%s: saving the edit form unchanged changed the post (-before +after):\n%s", post, diff)
		}
		after, _ := srv.db.PostByPath(t.Context(), strings.TrimPrefix(post, srv.base))
		if !cmp.Equal(stored.SyndicateTo, after.SyndicateTo) || !after.Updated.IsZero() {
			t.Errorf("%s: targets %v became %v, updated %v", post, stored.SyndicateTo, after.SyndicateTo, after.Updated)
		}
	}
}

// TestAdmin_AFailedEditShownAgainKeepsWhatTheFormDoesNotShow fixes a mistake on the edit
// form of a post with people tagged and a venue: they survive the second save.
func TestAdmin_AFailedEditShownAgainKeepsWhatTheFormDoesNotShow(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	b, _ := ownerBrowser(t, srv)
	html := map[string]string{"Origin": strings.TrimSuffix(srv.base, "/"), "Accept": "text/html"}
	resp, _ := srv.postJSON(`{"type":["h-event"],"properties":{"name":["Picnic"],"start":["2026-06-01T12:00:00Z"],
		"category":[{"type":["h-card"],"properties":{"name":["Bo"],"url":["https://bo.example/"]}}],
		"location":[{"type":["h-card"],"properties":{"name":["The park"]}}]}}`)
	post := resp.Header.Get("Location")
	_, page := b.get(srv.base + "admin/edit?url=" + url.QueryEscape(post))
	f := findForm(t, page, "/micropub")
	f.fields.Set("replace[published]", "not a date")
	f.fields.Set("replace[name]", "Picnic in June")
	resp, again := b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(f.fields.Encode()), html)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the bad save: %d", resp.StatusCode)
	}
	f = findForm(t, again, "/micropub")
	if f.fields.Get("replace[name]") != "Picnic in June" {
		t.Errorf("the typed name was not kept: %v", f.fields)
	}
	f.fields.Set("replace[published]", "")
	resp, _ = b.formPost(t, srv.base+"micropub", "application/x-www-form-urlencoded", strings.NewReader(f.fields.Encode()), html)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the corrected save: %d", resp.StatusCode)
	}
	props := srv.source(post)["properties"].(map[string]any)
	if props["name"].([]any)[0] != "Picnic in June" || len(props["category"].([]any)) != 1 || len(props["location"].([]any)) != 1 {
		t.Errorf("after the corrected save: %v", props)
	}
}
