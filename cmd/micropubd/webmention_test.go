package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/outbound"
	"github.com/micropubd/micropubd/webmention"
)

// newWebmentionServer is a test server named name whose own fetches may reach loopback (the
// other test servers: --allow-private-addresses) and whose queues retry within milliseconds.
func newWebmentionServer(t *testing.T, name string, opts ...func(*serverConfig)) *testServer {
	t.Helper()
	return newTestServer(t, append([]func(*serverConfig){func(c *serverConfig) {
		c.Name = name
		c.Outbound = outbound.Policy{AllowPrivate: true}
		c.Webmentions = webmention.Config{Retry: 50 * time.Millisecond, Poll: 200 * time.Millisecond, FetchTimeout: 5 * time.Second}
	}}, opts...)...)
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// responses parses a post's page and returns its response properties (comment, like, ...),
// each value the parsed h-cite's properties.
func responses(t *testing.T, srv *testServer, postURL string) map[string][]map[string]any {
	t.Helper()
	resp, page := srv.get(postURL, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", postURL, resp.StatusCode)
	}
	props := pageItem(t, page, postURL)["properties"].(map[string]any)
	out := map[string][]map[string]any{}
	for _, name := range []string{"comment", "like", "repost", "bookmark", "mention"} {
		vals, _ := props[name].([]any)
		for _, v := range vals {
			item, _ := v.(map[string]any)
			if !cmp.Equal(item["type"], []any{"h-cite"}) {
				t.Errorf("%s value is not an h-cite: %v", name, v)
				continue
			}
			out[name] = append(out[name], item["properties"].(map[string]any))
		}
	}
	return out
}

// first returns the first text value of a parsed property.
func firstOf(props map[string]any, name string) string {
	vals, _ := props[name].([]any)
	if len(vals) == 0 {
		return ""
	}
	switch v := vals[0].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["value"].(string)
		return s
	}
	return fmt.Sprint(vals[0])
}

func TestWebmention_RepliesLikesEditsAndDeletesPropagateBetweenTwoSites(t *testing.T) {
	alice := newWebmentionServer(t, "Alice", func(c *serverConfig) { c.Photo = "https://photos.example/alice.jpg" })
	bob := newWebmentionServer(t, "Bob")
	post := bob.create("name=Why+webmentions&content=" + url.QueryEscape("Because sites talk to each other."))

	reply := alice.create("in-reply-to=" + url.QueryEscape(post) + "&content=" + url.QueryEscape("Great post, I agree."))
	like := alice.create("like-of=" + url.QueryEscape(post))

	var got map[string][]map[string]any
	eventually(t, "the reply and the like on Bob's post", 10*time.Second, func() bool {
		got = responses(t, bob, post)
		return len(got["comment"]) == 1 && len(got["like"]) == 1
	})
	comment := got["comment"][0]
	author := comment["author"].([]any)[0].(map[string]any)["properties"].(map[string]any)
	if firstOf(comment, "url") != reply || !strings.Contains(firstOf(comment, "content"), "Great post, I agree.") ||
		firstOf(author, "name") != "Alice" || firstOf(author, "url") != alice.base || firstOf(author, "photo") != "https://photos.example/alice.jpg" ||
		firstOf(comment, "published") != testNow.Format(time.RFC3339) {
		t.Errorf("comment on Bob's post = %v, author %v", comment, author)
	}
	if firstOf(got["like"][0], "url") != like {
		t.Errorf("like = %v, want %s", got["like"][0], like)
	}
	source := bob.source(post)["properties"].(map[string]any)
	if c, _ := source["comment"].([]any); len(c) != 1 || !strings.Contains(fmt.Sprint(c[0]), reply) {
		t.Errorf("q=source comment = %v", source["comment"])
	}
	if l, _ := source["like"].([]any); len(l) != 1 {
		t.Errorf("q=source like = %v", source["like"])
	}
	if u := source["updated"]; u != nil {
		t.Errorf("receiving webmentions set the post's updated: %v", u)
	}

	// Alice's page shows her, signed in, what was sent; her post shows Bob's title.
	_, page := alice.get(reply, alice.token)
	if !strings.Contains(string(page), "Webmentions sent") || !strings.Contains(string(page), "202 Accepted") {
		t.Errorf("Alice's reply page does not show the webmention sent:\n%s", page)
	}
	if !strings.Contains(string(page), `>Why webmentions · Bob</a>`) {
		t.Errorf("Alice's reply does not show the title of Bob's post")
	}
	if !strings.Contains(alice.logs.String(), "webmention sent") {
		t.Error("the log does not say the webmention was sent")
	}

	// An edit propagates.
	if resp, body := alice.postJSON(`{"action":"update","url":"` + reply + `","replace":{"content":["Great post, edited."]}}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	eventually(t, "the edit on Bob's post", 10*time.Second, func() bool {
		got = responses(t, bob, post)
		return len(got["comment"]) == 1 && strings.Contains(firstOf(got["comment"][0], "content"), "Great post, edited.")
	})

	// A deletion propagates: the source answers 410.
	if resp, body := alice.postForm("action=delete&url=" + url.QueryEscape(reply)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	eventually(t, "the reply gone from Bob's post", 10*time.Second, func() bool {
		got = responses(t, bob, post)
		return len(got["comment"]) == 0 && len(got["like"]) == 1
	})
	m, err := bob.db.WebmentionBySource(context.Background(), reply, postID(t, bob, post))
	if err != nil || m.Status != micropubd.MentionGone {
		t.Errorf("Bob's record of the deleted reply: %+v %v", m, err)
	}
}

// postID is the id of a post of srv.
func postID(t *testing.T, srv *testServer, postURL string) int64 {
	t.Helper()
	p, err := srv.db.PostByPath(context.Background(), strings.TrimPrefix(postURL, srv.base))
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// sendWebmention posts source and target to an endpoint.
func sendWebmention(t *testing.T, endpoint, source, target string) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(endpoint, url.Values{"source": {source}, "target": {target}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestWebmention_ForgedAndInvalidMentionsAreRefused(t *testing.T) {
	bob := newWebmentionServer(t, "Bob")
	post := bob.create("content=target")
	draft := bob.create("content=draft&post-status=draft")
	forger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/no-link":
			fmt.Fprint(w, `<div class="h-entry"><p class="e-content">I say I reply, but there is no link.</p></div>`)
		case "/text-only":
			fmt.Fprintf(w, `<p>The URL %s written as text is not a link in HTML.</p>`, "<!-- "+post+" -->")
		case "/gone":
			w.WriteHeader(http.StatusGone)
		default:
			http.NotFound(w, r)
		}
	}))
	defer forger.Close()

	// Refused at once, with a JSON error.
	tests := []struct {
		name, source, target, code string
	}{
		{"no source", "", post, "invalid_source"},
		{"a source that is not http", "javascript:alert(1)", post, "invalid_source"},
		{"a target elsewhere", forger.URL + "/no-link", "https://elsewhere.example/post", "invalid_target"},
		{"a target that is no post", forger.URL + "/no-link", bob.base + "2020/01/none", "invalid_target"},
		{"a draft", forger.URL + "/no-link", draft, "invalid_target"},
		{"the homepage", forger.URL + "/no-link", bob.base, "invalid_target"},
		{"source and target the same", post, post, "invalid_source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := sendWebmention(t, bob.base+"webmention", tt.source, tt.target)
			if resp.StatusCode != http.StatusBadRequest || body["error"] != tt.code || body["error_description"] == "" {
				t.Errorf("%d %v, want 400 %s", resp.StatusCode, body, tt.code)
			}
		})
	}
	if resp, err := http.Get(bob.base + "webmention"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /webmention: %v %v", resp.StatusCode, err)
	}

	// Accepted for verification, then refused: the source does not link to the target.
	for _, path := range []string{"/no-link", "/text-only", "/gone"} {
		resp, _ := sendWebmention(t, bob.base+"webmention", forger.URL+path, post)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %d, want 202", path, resp.StatusCode)
		}
	}
	id := postID(t, bob, post)
	for path, want := range map[string]string{"/no-link": micropubd.MentionRejected, "/text-only": micropubd.MentionRejected, "/gone": micropubd.MentionGone} {
		eventually(t, path+" verified", 10*time.Second, func() bool {
			m, err := bob.db.WebmentionBySource(context.Background(), forger.URL+path, id)
			return err == nil && m.Status != micropubd.MentionPending
		})
		m, _ := bob.db.WebmentionBySource(context.Background(), forger.URL+path, id)
		if m.Status != want {
			t.Errorf("%s: status %s (%s), want %s", path, m.Status, m.Error, want)
		}
	}
	if got := responses(t, bob, post); len(got) != 0 {
		t.Errorf("forged mentions are on the page: %v", got)
	}
}

func TestWebmention_SourcesAtPrivateAddressesAreNeverFetchedWithoutTheFlag(t *testing.T) {
	var hits atomic.Int32
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer source.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Link", `<`+source.URL+`/endpoint>; rel="webmention"`)
	}))
	defer target.Close()
	srv := newTestServer(t, func(c *serverConfig) { c.Webmentions = webmention.Config{Poll: 100 * time.Millisecond} })
	post := srv.create("content=target")
	if resp, _ := sendWebmention(t, srv.base+"webmention", source.URL+"/page", post); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%d", resp.StatusCode)
	}
	sent := srv.create("in-reply-to=" + url.QueryEscape(target.URL+"/post") + "&content=hi")
	id := postID(t, srv, post)
	eventually(t, "the source refused", 10*time.Second, func() bool {
		m, err := srv.db.WebmentionBySource(context.Background(), source.URL+"/page", id)
		return err == nil && m.Status == micropubd.MentionRejected && strings.Contains(m.Error, "public address")
	})
	eventually(t, "the send refused", 10*time.Second, func() bool {
		list, _ := srv.db.SentWebmentions(context.Background(), postID(t, srv, sent))
		return len(list) == 1 && list[0].Status == micropubd.SendFailed && strings.Contains(list[0].Result, "not at a public address")
	})
	if hits.Load() != 0 {
		t.Errorf("private addresses were reached %d times", hits.Load())
	}
}

func TestWebmention_SenderRetriesWithBackoffAndNeverSendsAnUnchangedPostTwice(t *testing.T) {
	var (
		mu       sync.Mutex
		received []url.Values
		fail     atomic.Int32
	)
	fail.Store(2)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/post":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><title>The target post</title><link rel="webmention" href="/endpoint?x=1"></head></html>`)
		case "/endpoint":
			r.ParseForm()
			if fail.Add(-1) >= 0 {
				http.Error(w, "try later", http.StatusServiceUnavailable)
				return
			}
			mu.Lock()
			received = append(received, r.PostForm)
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer target.Close()
	srv := newWebmentionServer(t, "Alice")
	post := srv.create("content=" + url.QueryEscape("See "+target.URL+"/post and this site "+srv.base+" too"))
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(received)
	}
	eventually(t, "the webmention delivered after two failures", 10*time.Second, func() bool { return count() == 1 })
	list, _ := srv.db.SentWebmentions(context.Background(), postID(t, srv, post))
	if len(list) != 1 || list[0].Attempts != 3 || list[0].Endpoint != target.URL+"/endpoint?x=1" || list[0].Title != "The target post" {
		t.Fatalf("sent = %+v", list)
	}
	if got := received[0]; got.Get("source") != post || got.Get("target") != target.URL+"/post" {
		t.Errorf("received %v", got)
	}

	// An update that changes nothing sends nothing; one that changes the post sends once.
	srv.postJSON(`{"action":"update","url":"` + post + `","replace":{"content":["` + "See " + target.URL + "/post and this site " + srv.base + " too" + `"]}}`)
	srv.postJSON(`{"action":"update","url":"` + post + `","add":{"category":["news"]}}`)
	eventually(t, "the update sent", 10*time.Second, func() bool { return count() == 2 })
	time.Sleep(500 * time.Millisecond)
	if n := count(); n != 2 {
		t.Errorf("%d webmentions received, want 2 (sent, then once for the one real change)", n)
	}
}

func TestWebmention_PerSourceHostRateLimit(t *testing.T) {
	bob := newWebmentionServer(t, "Bob", func(c *serverConfig) { c.Webmentions.PerHostPerMinute = 3 })
	post := bob.create("content=popular")
	for i := 1; i <= 4; i++ {
		resp, body := sendWebmention(t, bob.base+"webmention", fmt.Sprintf("http://spam.example/%d", i), post)
		want := http.StatusAccepted
		if i == 4 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Errorf("webmention %d: %d %v, want %d", i, resp.StatusCode, body, want)
		}
		if i == 4 && (body["error"] != "rate_limited" || resp.Header.Get("Retry-After") == "") {
			t.Errorf("the refusal: %v, Retry-After %q", body, resp.Header.Get("Retry-After"))
		}
	}
	if resp, _ := sendWebmention(t, bob.base+"webmention", "http://other.example/1", post); resp.StatusCode != http.StatusAccepted {
		t.Errorf("another host is limited too: %d", resp.StatusCode)
	}
}

func TestWebmention_OwnerDeletesAMentionAndItStaysDeleted(t *testing.T) {
	alice := newWebmentionServer(t, "Alice")
	bob := newWebmentionServer(t, "Bob", func(c *serverConfig) { c.Clients = (&fakeWeb{}).fetcher() })
	if err := setOwnerPassword(bob); err != nil {
		t.Fatal(err)
	}
	post := bob.create("content=target")
	reply := alice.create("in-reply-to=" + url.QueryEscape(post) + "&content=spam")
	eventually(t, "the reply on Bob's post", 10*time.Second, func() bool { return len(responses(t, bob, post)["comment"]) == 1 })

	// A visitor sees no delete button, and cannot post the form.
	if _, page := bob.get(post, ""); strings.Contains(string(page), "webmention/delete") {
		t.Error("a visitor sees the delete button")
	}
	if resp, _ := sendWebmentionForm(t, bob.base+"webmention/delete", url.Values{"source": {reply}, "target": {post}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a visitor's delete: %d, want 403", resp.StatusCode)
	}

	b := newBrowser(t)
	b.signIn(bob.base+"auth/login?next="+url.QueryEscape(strings.TrimPrefix(post, strings.TrimSuffix(bob.base, "/"))), ownerPassword)
	_, page := b.get(post)
	del := findForm(t, page, "webmention/delete")
	if code := b.resubmit(del, map[string]string{"csrf": "forged"}, map[string]string{"Origin": strings.TrimSuffix(bob.base, "/")}); code != http.StatusForbidden {
		t.Errorf("a delete with a forged token: %d, want 403", code)
	}
	resp, _ := b.submit(del.action, del.fields)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), post) {
		t.Fatalf("delete: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := responses(t, bob, post); len(got["comment"]) != 0 {
		t.Errorf("the deleted mention is still shown: %v", got)
	}
	// Sent again (Alice edits her reply), it stays deleted.
	sent := func() *micropubd.WebmentionSend {
		list, _ := alice.db.SentWebmentions(context.Background(), postID(t, alice, reply))
		return list[0]
	}
	before := sent().Version
	alice.postJSON(`{"action":"update","url":"` + reply + `","replace":{"content":["spam again"]}}`)
	eventually(t, "Alice's second webmention sent", 10*time.Second, func() bool {
		s := sent()
		return s.Version != before && s.Status == micropubd.SendSent
	})
	time.Sleep(300 * time.Millisecond)
	if got := responses(t, bob, post); len(got["comment"]) != 0 {
		t.Errorf("the deleted mention came back: %v", got)
	}
}

// setOwnerPassword lets the owner of srv sign in with ownerPassword.
func setOwnerPassword(srv *testServer) error {
	return indieauth.SetPassword(context.Background(), srv.db, ownerPassword, bcrypt.MinCost)
}

func sendWebmentionForm(t *testing.T, endpoint string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, nil
}

func TestWebmention_ListsCountTheResponsesOfEachPost(t *testing.T) {
	alice := newWebmentionServer(t, "Alice")
	bob := newWebmentionServer(t, "Bob")
	post := bob.create("content=counted")
	alice.create("in-reply-to=" + url.QueryEscape(post) + "&content=one")
	alice.create("like-of=" + url.QueryEscape(post))
	alice.create("like-of=" + url.QueryEscape(post) + "&content=also")
	eventually(t, "the responses", 10*time.Second, func() bool {
		r := responses(t, bob, post)
		return len(r["comment"]) == 1 && len(r["like"]) == 2
	})
	if _, home := bob.get(bob.base, ""); !strings.Contains(string(home), `<a href="`+post+`#responses">1 reply, 2 likes</a>`) {
		t.Error("the homepage does not count the post's responses")
	}
}
