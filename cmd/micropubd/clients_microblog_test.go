package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// axiosParam encodes a query parameter as axios does: encodeURIComponent, with ':', '$', ',',
// '[' and ']' put back and a space as '+'.
func axiosParam(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_.!~*'():$,[]", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// microblogVars are the placeholders of the Micro.blog app's requests: its destination is the
// blog's URL, as the app makes it when q=config names none.
func (s *testServer) microblogVars(more map[string]string) map[string]string {
	vars := map[string]string{"DEST": axiosParam(s.base), "DEST_PLAIN": s.base}
	for k, v := range more {
		vars[k] = v
	}
	return vars
}

func TestClientMicroBlog_PostsListingGivesNumericUIDAndPermalink(t *testing.T) {
	srv := newTestServer(t)
	notes := []string{srv.create("content=first"), srv.create("content=second&name=A+title")}
	venue := srv.create("h=card&name=Ford+Food&url=http://www.fordfoodanddrink.com/")
	resp, body := srv.sendRaw("microblog-app-posts", srv.token, srv.microblogVars(nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("q=source: %d %s", resp.StatusCode, body)
	}
	// What the app keeps (Destination.set_posts): items whose uid[0] parses as a positive
	// integer and that have a url.
	var kept []string
	seen := map[int64]bool{}
	for _, it := range decodeJSON(t, body)["items"].([]any) {
		props := it.(map[string]any)["properties"].(map[string]any)
		uids, _ := props["uid"].([]any)
		n, ok := uids[0].(json.Number)
		id, err := n.Int64()
		if !ok || err != nil || id <= 0 || seen[id] {
			t.Errorf("uid = %#v, want a distinct positive JSON number", props["uid"])
			continue
		}
		seen[id] = true
		if urls, _ := props["url"].([]any); len(urls) > 0 {
			kept = append(kept, urls[0].(string))
		}
	}
	if diff := cmp.Diff([]string{venue, notes[1], notes[0]}, kept); diff != "" {
		t.Errorf("posts the app shows, by url[0] (-want +got):\n%s", diff)
	}
	// The venue keeps its own website after the permalink.
	if !strings.Contains(string(body), `"url":["`+venue+`","http://www.fordfoodanddrink.com/"]`) {
		t.Errorf("the venue's urls are not [permalink, website]: %s", body)
	}
	// The single-post q=source and the page are unchanged: no numeric uid, u-uid the permalink.
	if props := srv.source(notes[0])["properties"].(map[string]any); props["uid"] != nil || props["url"] != nil {
		t.Errorf("q=source&url= gained uid/url: %v", props)
	}
	_, page := srv.get(notes[0], "")
	if uid := pageItem(t, page, notes[0])["properties"].(map[string]any)["uid"]; !cmp.Equal(uid, []any{notes[0]}) {
		t.Errorf("page u-uid = %v, want the permalink", uid)
	}
}

func TestClientMicroBlog_MediaLibraryWithACreateToken(t *testing.T) {
	srv := newTestServer(t)
	app := srv.mint("create") // the app signs in with scope=create only
	upload := func() string {
		t.Helper()
		resp, body := srv.sendRaw("microblog-app-media-upload", app, srv.microblogVars(nil))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("Location")
	}
	setAlt := func(file, alt string) {
		t.Helper()
		resp, body := srv.sendRaw("microblog-app-media-alt", app, srv.microblogVars(map[string]string{"FILE": axiosParam(file), "ALT": axiosParam(alt)}))
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("alt: %d %s", resp.StatusCode, body)
		}
	}
	deleteFile := func(file string) (*http.Response, []byte) {
		return srv.sendRaw("microblog-app-media-delete", app, srv.microblogVars(map[string]string{"FILE": axiosParam(file)}))
	}

	file := upload()
	setAlt(file, "A grey square, two pixels wide")
	resp, body := srv.sendRaw("microblog-app-media-source", app, srv.microblogVars(nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("media q=source: %d %s", resp.StatusCode, body)
	}
	items := decodeJSON(t, body)["items"].([]any)
	want := map[string]any{"url": file, "alt": "A grey square, two pixels wide", "width": json.Number("2"), "height": json.Number("2")}
	got := map[string]any{}
	for k := range want {
		got[k] = items[0].(map[string]any)[k]
	}
	if diff := cmp.Diff(want, got); diff != "" || len(items) != 1 || items[0].(map[string]any)["published"] == nil {
		t.Errorf("media q=source item (-want +got):\n%s\n%s", diff, body)
	}

	// An unused upload is deleted with the create token, the action in the query string.
	if resp, body := deleteFile(file); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, _ := srv.get(file, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET the deleted file: %d", resp.StatusCode)
	}

	// A post that shows the upload without alt text of its own uses the library's.
	file = upload()
	setAlt(file, "Grey")
	post := srv.create("content=look&photo=" + url.QueryEscape(file))
	_, page := srv.get(post, "")
	photo := pageItem(t, page, post)["properties"].(map[string]any)["photo"]
	if diff := cmp.Diff([]any{map[string]any{"value": file, "alt": "Grey"}}, photo); diff != "" {
		t.Errorf("page photo (-want +got):\n%s", diff)
	}
	resp, body = deleteFile(file)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	if !strings.Contains(string(body), post) {
		t.Errorf("the refusal does not name the post using the file: %s", body)
	}

	// Deleting posts still takes the delete scope, with the action in the query string too.
	vars := srv.microblogVars(map[string]string{"URL": axiosParam(post)})
	resp, body = srv.sendRaw("query-action-delete-post", app, vars)
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
	if resp, body := srv.sendRaw("query-action-delete-post", srv.token, vars); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete post with the action in the query string: %d %s", resp.StatusCode, body)
	}
	if resp, _ := srv.get(post, ""); resp.StatusCode != http.StatusGone {
		t.Errorf("GET the deleted post: %d", resp.StatusCode)
	}
}
