package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPageCache_VisitorsNeverSeeAStalePageAndTheOwnerNeverSeesTheirs checks the cache of
// rendered pages from outside: every write shows at once, and a page for the owner (a session,
// a token) is never the visitors' copy, nor the other way round.
func TestPageCache_VisitorsNeverSeeAStalePageAndTheOwnerNeverSeesTheirs(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	first := srv.create("h=entry&content=The+first+post&category=cats")
	visit := func(u string) (int, string) {
		resp, body := srv.get(u, "")
		return resp.StatusCode, string(body)
	}
	for range 2 { // the second time from the cache
		if _, home := visit(srv.base); !strings.Contains(home, "The first post") {
			t.Fatal("the homepage lacks the first post")
		}
	}
	second := srv.create("h=entry&content=A+second+post&category=cats")
	if _, home := visit(srv.base); !strings.Contains(home, "A second post") {
		t.Error("a post created after the homepage was cached is not on it")
	}
	if _, tag := visit(srv.base + "tags/cats"); !strings.Contains(tag, "A second post") {
		t.Error("the tag page lacks the new post")
	}
	visit(first)
	srv.postJSON(`{"action":"update","url":"` + first + `","replace":{"content":["The first post, edited"]}}`)
	if _, page := visit(first); !strings.Contains(page, "The first post, edited") {
		t.Error("the permalink shows the post as it was before the update")
	}
	srv.postForm("action=delete&url=" + url.QueryEscape(second))
	if status, _ := visit(second); status != http.StatusGone {
		t.Errorf("the deleted post answers %d from the cache, want 410", status)
	}
	// A draft is 404 to a visitor, cached as such, and shows once published.
	resp, _ := srv.postForm("h=entry&content=Drafted&post-status=draft")
	draft := resp.Header.Get("Location")
	if status, _ := visit(draft); status != http.StatusNotFound {
		t.Fatalf("a visitor gets %d for a draft", status)
	}
	if resp, body := srv.get(draft, srv.token); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Drafted")) {
		t.Errorf("the owner's token gets %d for the draft: the visitors' copy?", resp.StatusCode)
	}
	srv.postJSON(`{"action":"update","url":"` + draft + `","replace":{"post-status":["published"]}}`)
	if status, _ := visit(draft); status != http.StatusOK {
		t.Errorf("the published draft still answers %d", status)
	}
	// The owner signed in gets the owner's bar; visitors, before and after, never do.
	b := newBrowser(t)
	b.signIn(srv.base+"auth/login?next=%2F", ownerPassword)
	if _, home := b.get(srv.base); !bytes.Contains(home, []byte(`class="ownerbar"`)) {
		t.Error("the owner is served the visitors' homepage")
	}
	if _, home := visit(srv.base); strings.Contains(home, "ownerbar") {
		t.Error("a visitor is served the owner's homepage")
	}
	req, _ := http.NewRequest(http.MethodHead, srv.base, nil)
	if resp, body := srv.do(req); resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") == "" {
		t.Errorf("HEAD from the cache: %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
}

// TestPageCache_FeedsFromTheCacheAnswerConditionalRequests checks the site's and a tag's
// feeds served from the cache: a HEAD first does not leave an empty feed behind, a reader's
// If-None-Match still gets 304, and a new post changes the answer.
func TestPageCache_FeedsFromTheCacheAnswerConditionalRequests(t *testing.T) {
	srv := newAuthServer(t, &fakeWeb{})
	srv.create("h=entry&content=The+first+post&category=cats")
	for _, feed := range []string{srv.base + "feed.xml", srv.base + "tags/cats/feed.atom"} {
		head, _ := http.NewRequest(http.MethodHead, feed, nil)
		headResp, _ := srv.do(head)
		if headResp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD %s: %d", feed, headResp.StatusCode)
		}
		var etag string
		for range 2 { // the second time from the cache
			resp, body := srv.get(feed, "")
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("The first post")) {
				t.Fatalf("GET %s after a HEAD: %d, %q", feed, resp.StatusCode, body)
			}
			if headResp.ContentLength != int64(len(body)) {
				t.Errorf("HEAD %s said Content-Length %d; the feed has %d bytes", feed, headResp.ContentLength, len(body))
			}
			etag = resp.Header.Get("ETag")
		}
		cond, _ := http.NewRequest(http.MethodGet, feed, nil)
		cond.Header.Set("If-None-Match", etag)
		if resp, body := srv.do(cond); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s with If-None-Match %s from the cache: %d, %d bytes; want 304", feed, etag, resp.StatusCode, len(body))
		}
	}
	srv.create("h=entry&content=A+second+post&category=cats")
	for _, feed := range []string{srv.base + "feed.xml", srv.base + "tags/cats/feed.atom"} {
		if resp, body := srv.get(feed, ""); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("A second post")) {
			t.Errorf("GET %s after a new post: %d, the new post missing", feed, resp.StatusCode)
		}
	}
}
