package main

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestCreate_MultipartWithoutATokenStoresNothing(t *testing.T) {
	srv := newTestServer(t)
	tmpdir := t.TempDir()
	t.Setenv("TMPDIR", tmpdir)
	big := fakeMP4(2 << 20)
	for _, token := range []string{"", "mpd_wrong"} {
		ct, body := multipartBody(t, map[string]string{"content": "no token"}, "video", "v.mp4", big)
		resp, out := srv.post(ct, body, token)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: %d %s", token, resp.StatusCode, out)
		}
	}
	// A token after the file comes too late: the file is refused before it is stored.
	var buf bytes.Buffer
	buf.WriteString("--b\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n\r\n")
	buf.Write(big)
	buf.WriteString("\r\n--b\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n" + srv.token + "\r\n--b--\r\n")
	resp, out := srv.post("multipart/form-data; boundary=b", buf.String(), "")
	wantError(t, resp, out, http.StatusUnauthorized, "unauthorized")
	for _, dir := range []string{srv.dataDir(t, "tmp"), srv.dataDir(t, "media"), tmpdir} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%d files left in %s", len(entries), dir)
		}
	}
}

func TestCreate_InvalidPostWithFilesStoresNoFile(t *testing.T) {
	srv := newTestServer(t)
	png := readFixture(t, fixtureDir+"/media/pixel.png")
	for _, fields := range []map[string]string{
		{"content": "x", "post-status": "bogus"},
		{"content": "x", "published": "3000-01-01T00:00:00Z"},
		{"content": "x", "mp-syndicate-to": "https://nowhere.example/"},
	} {
		ct, body := multipartBody(t, fields, "photo", "p.png", png)
		resp, out := srv.post(ct, body, srv.token)
		wantError(t, resp, out, http.StatusBadRequest, "invalid_request")
	}
	for _, dir := range []string{"media", "tmp"} {
		if entries, _ := os.ReadDir(srv.dataDir(t, dir)); len(entries) != 0 {
			t.Errorf("%d files left in %s", len(entries), dir)
		}
	}
}

func TestCreate_PublishedOutOfRangeIsRefused(t *testing.T) {
	srv := newTestServer(t)
	for _, p := range []string{"1600-01-01T00:00:00Z", "2300-01-01T00:00:00Z"} {
		resp, body := srv.postForm("content=x&published=" + p)
		wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	}
}

func TestCreate_EmptyFormFieldsAreNotValues(t *testing.T) {
	srv := newTestServer(t)
	loc := srv.create("content=empties&in-reply-to=&photo=&category=&category=kept&published=")
	props := srv.source(loc)["properties"].(map[string]any)
	for _, name := range []string{"in-reply-to", "photo"} {
		if _, ok := props[name]; ok {
			t.Errorf("%s stored: %v", name, props[name])
		}
	}
	if got := props["category"].([]any); len(got) != 1 || got[0] != "kept" {
		t.Errorf("category = %v", got)
	}
	_, page := srv.get(loc, "")
	if bytes.Contains(page, []byte(`src=""`)) {
		t.Error("the page has an empty src")
	}
}

func TestUpdate_SlugCanGoBackToAnEarlierOne(t *testing.T) {
	srv := newTestServer(t)
	first := srv.create("content=x&mp-slug=first")
	resp, body := srv.postJSON(`{"action":"update","url":"` + first + `","replace":{"mp-slug":["second"]}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = srv.postJSON(`{"action":"update","url":"` + resp.Header.Get("Location") + `","replace":{"mp-slug":["first"]}}`)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != first {
		t.Fatalf("back to first: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	other := srv.create("content=y&mp-slug=other")
	resp, body = srv.postJSON(`{"action":"update","url":"` + other + `","replace":{"mp-slug":["second"]}}`)
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request") // another post's former URL
}

func TestScopes_ReadingAndDeletingFilesTakeTheirOwnScopes(t *testing.T) {
	srv := newTestServer(t)
	private := srv.create("content=secret&visibility=private")
	mediaOnly := srv.mint("media")
	resp, body := srv.get(srv.base+"micropub?q=source&url="+url.QueryEscape(private), mediaOnly)
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
	resp, body = srv.get(srv.base+"micropub?q=category", mediaOnly)
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
	if resp, _ := srv.get(private, mediaOnly); resp.StatusCode != http.StatusNotFound {
		t.Errorf("private page with a media-only token: %d", resp.StatusCode)
	}
	if resp, _ := srv.get(private, srv.mint("update")); resp.StatusCode != http.StatusOK {
		t.Errorf("private page with an update token: %d", resp.StatusCode)
	}

	resp, _ = srv.upload(srv.token, "a.png", "image/png", readFixture(t, fixtureDir+"/media/pixel.png"), nil)
	file := resp.Header.Get("Location")
	resp, body = srv.post("application/x-www-form-urlencoded", "action=delete&url="+url.QueryEscape(file), srv.mint("update"), "micropub/media")
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
	if resp, _ := srv.get(file, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("an update-only token deleted a file")
	}

	ct, mp := multipartBody(t, map[string]string{"content": "draft with a photo"}, "photo", "b.gif", readFixture(t, fixtureDir+"/media/pixel.gif"))
	resp, body = srv.post(ct, mp, srv.mint("draft"))
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
}

func TestMedia_ExtendedXMPWithGPSIsBlanked(t *testing.T) {
	srv := newTestServer(t)
	jpg := readFixture(t, fixtureDir+"/media/pixel.jpg")
	xmp := []byte("http://ns.adobe.com/xmp/extension/\x00" + strings.Repeat("0", 32) + "\x00\x00\x01\x00\x00\x00\x00\x00" +
		`<x:xmpmeta><rdf:Description exif:GPSLatitude="48,51.4N" exif:GPSLongitude="2,21.1E"/></x:xmpmeta>`)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(xmp)+2))
	withXMP := append(append(append([]byte{}, jpg[:2]...), append(seg, xmp...)...), jpg[2:]...)
	resp, body := srv.upload(srv.token, "x.jpg", "image/jpeg", withXMP, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	_, stored := srv.get(resp.Header.Get("Location"), "")
	if bytes.Contains(stored, []byte("GPSLatitude")) || len(stored) != len(withXMP) {
		t.Errorf("the extended XMP kept its GPS (or the file changed size: %d vs %d)", len(stored), len(withXMP))
	}
}
