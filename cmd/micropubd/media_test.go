package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd/micropub"
)

// upload sends one file to the media endpoint as the part "file", with extra fields.
func (s *testServer) upload(token, filename, claimedType string, data []byte, fields map[string]string) (*http.Response, []byte) {
	s.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", claimedType)
	part, _ := w.CreatePart(h)
	part.Write(data)
	w.Close()
	return s.post(w.FormDataContentType(), buf.String(), token, "micropub/media")
}

// bigGIF is a real GIF of noise, over 2 MB.
func bigGIF(t *testing.T) []byte {
	rng := rand.New(rand.NewSource(1))
	pal := color.Palette{}
	for i := 0; i < 256; i++ {
		pal = append(pal, color.RGBA{uint8(i), uint8(255 - i), uint8(i * 7), 255})
	}
	img := image.NewPaletted(image.Rect(0, 0, 1600, 1400), pal)
	rng.Read(img.Pix)
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	if buf.Len() < 2<<20 {
		t.Fatalf("the GIF is only %d bytes", buf.Len())
	}
	return buf.Bytes()
}

// fakeMP4 is an ISO media file: an ftyp box and an mdat box of data, as a video starts.
func fakeMP4(size int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0, 0x20})
	b.WriteString("ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
	mdat := make([]byte, size)
	rand.New(rand.NewSource(2)).Read(mdat)
	binary.Write(&b, binary.BigEndian, uint32(len(mdat)+8))
	b.WriteString("mdat")
	b.Write(mdat)
	return b.Bytes()
}

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMedia_UploadsComeBackByteForByteWithTheirType(t *testing.T) {
	srv := newTestServer(t)
	createOnly := srv.mint("create")
	tests := []struct {
		name, filename, claimed, wantType string
		data                              []byte
		width, height                     int
	}{
		{"jpeg", "pixel.jpg", "image/jpeg", "image/jpeg", readFixture(t, fixtureDir+"/media/pixel.jpg"), 1, 1},
		{"png claimed as jpeg", "photo.jpg", "image/jpeg", "image/png", readFixture(t, fixtureDir+"/media/pixel.png"), 2, 2},
		{"gif over 2 MB", "noise.gif", "image/gif", "image/gif", bigGIF(t), 1600, 1400},
		{"mp4", "clip.mp4", "video/mp4", "video/mp4", fakeMP4(300 << 10), 0, 0},
		{"quicktime", "clip.mov", "application/octet-stream", "video/quicktime", append([]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "), bytes.Repeat([]byte{1}, 100)...), 0, 0},
		{"mp3", "song.mp3", "audio/mpeg", "audio/mpeg", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x00}, 100)...), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A token with only the create scope may upload: clients rely on it.
			resp, body := srv.upload(createOnly, tt.filename, tt.claimed, tt.data, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload: %d %s", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, srv.base+"media/") || strings.Contains(loc, strings.TrimSuffix(tt.filename, ".jpg")) {
				t.Errorf("Location %s: want an unguessable URL under %smedia/", loc, srv.base)
			}
			item := decodeJSON(t, body)
			if item["url"] != loc || item["mime_type"] != tt.wantType {
				t.Errorf("upload answer = %v", item)
			}
			if tt.width > 0 && (item["width"] != json.Number(fmt.Sprint(tt.width)) || item["height"] != json.Number(fmt.Sprint(tt.height))) {
				t.Errorf("width/height = %v/%v, want %d/%d", item["width"], item["height"], tt.width, tt.height)
			}
			resp, got := srv.get(loc, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", loc, resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.wantType {
				t.Errorf("Content-Type = %q, want exactly %q", ct, tt.wantType)
			}
			if !bytes.Equal(got, tt.data) {
				t.Errorf("GET returned %d bytes that differ from the %d uploaded", len(got), len(tt.data))
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("Cache-Control = %q", cc)
			}
			if resp.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
}

func TestMedia_RangeAndConditionalRequests(t *testing.T) {
	srv := newTestServer(t)
	video := fakeMP4(100 << 10)
	resp, body := srv.upload(srv.token, "clip.mp4", "video/mp4", video, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	req, _ := http.NewRequest(http.MethodGet, loc, nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, got := srv.do(req)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, video[1000:2000]) {
		t.Errorf("Range: %d, %d bytes", resp.StatusCode, len(got))
	}
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 1000-1999/%d", len(video)) {
		t.Errorf("Content-Range = %q", cr)
	}
	req, _ = http.NewRequest(http.MethodGet, loc, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, _ := srv.do(req); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
}

func TestMedia_AuthErrors(t *testing.T) {
	srv := newTestServer(t)
	png := readFixture(t, fixtureDir+"/media/pixel.png")
	resp, body := srv.upload("", "a.png", "image/png", png, nil)
	wantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
	resp, body = srv.upload("mpd_unknown", "a.png", "image/png", png, nil)
	wantError(t, resp, body, http.StatusUnauthorized, "invalid_token")
	resp, body = srv.upload(srv.mint("update delete"), "a.png", "image/png", png, nil)
	wantError(t, resp, body, http.StatusForbidden, "insufficient_scope")
	// The token may come in the body, as a multipart field, after the file even.
	resp, body = srv.upload("", "a.png", "image/png", png, map[string]string{"access_token": srv.mint("media")})
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("token in the body: %d %s", resp.StatusCode, body)
	}
	resp, body = srv.get(srv.base+"micropub/media?q=source", "")
	wantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
}

// exifTags returns the tags of IFD0 and of the GPS IFD of a JPEG's Exif segment, parsed
// independently of the code under test.
func exifTags(t *testing.T, jpg []byte) (ifd0, gps map[uint16][]byte) {
	t.Helper()
	i := bytes.Index(jpg, []byte("Exif\x00\x00"))
	if i < 0 {
		t.Fatal("no Exif segment")
	}
	tiff := jpg[i+6:]
	order := binary.ByteOrder(binary.LittleEndian)
	if string(tiff[:2]) == "MM" {
		order = binary.BigEndian
	}
	read := func(off uint32) map[uint16][]byte {
		tags := map[uint16][]byte{}
		n := order.Uint16(tiff[off:])
		for k := uint32(0); k < uint32(n); k++ {
			e := tiff[off+2+12*k:]
			tags[order.Uint16(e)] = e[8:12]
		}
		return tags
	}
	ifd0 = read(order.Uint32(tiff[4:]))
	if p, ok := ifd0[0x8825]; ok {
		gps = read(order.Uint32(p))
	}
	return ifd0, gps
}

func TestMedia_GPSIsRemovedFromJPEGs(t *testing.T) {
	original := readFixture(t, "../../testdata/media/gps.jpg")
	if _, gps := exifTags(t, original); len(gps) != 5 {
		t.Fatalf("the fixture should carry 5 GPS tags, has %d", len(gps))
	}
	check := func(t *testing.T, srv *testServer, send func() string) []byte {
		t.Helper()
		loc := send()
		_, stored := srv.get(loc, "")
		ifd0, _ := exifTags(t, stored)
		if v := ifd0[0x0112]; v == nil || binary.LittleEndian.Uint16(v) != 6 {
			t.Errorf("orientation lost: %v", v)
		}
		if len(stored) != len(original) {
			t.Errorf("stored %d bytes, uploaded %d: the file was rewritten, not edited in place", len(stored), len(original))
		}
		if _, _, err := image.Decode(bytes.NewReader(stored)); err != nil {
			t.Errorf("the stored JPEG does not decode: %v", err)
		}
		return stored
	}
	t.Run("media endpoint", func(t *testing.T) {
		srv := newTestServer(t)
		stored := check(t, srv, func() string {
			resp, body := srv.upload(srv.token, "gps.jpg", "image/jpeg", original, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			return resp.Header.Get("Location")
		})
		if _, gps := exifTags(t, stored); len(gps) != 0 {
			t.Errorf("GPS tags left: %v", gps)
		}
		// The rationals of 51°30'26" must be gone from the bytes as well.
		if bytes.Contains(stored, []byte{51, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0, 1, 0, 0, 0}) {
			t.Error("the latitude is still in the file")
		}
	})
	t.Run("multipart create", func(t *testing.T) {
		srv := newTestServer(t)
		stored := check(t, srv, func() string {
			ct, body := multipartBody(t, map[string]string{"content": "where?"}, "photo", "gps.jpg", original)
			resp, out := srv.post(ct, body, srv.token)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, out)
			}
			return srv.source(resp.Header.Get("Location"))["properties"].(map[string]any)["photo"].([]any)[0].(string)
		})
		if _, gps := exifTags(t, stored); len(gps) != 0 {
			t.Errorf("GPS tags left: %v", gps)
		}
	})
	t.Run("kept when the owner asks", func(t *testing.T) {
		srv := newTestServer(t, func(c *serverConfig) { c.KeepLocation = true })
		resp, _ := srv.upload(srv.token, "gps.jpg", "image/jpeg", original, nil)
		_, stored := srv.get(resp.Header.Get("Location"), "")
		if !bytes.Equal(stored, original) {
			t.Error("with KeepLocation the file changed")
		}
	})
}

func TestMedia_SameBytesAreStoredOnce(t *testing.T) {
	srv := newTestServer(t)
	png := readFixture(t, fixtureDir+"/media/pixel.png")
	resp1, _ := srv.upload(srv.token, "a.png", "image/png", png, nil)
	resp2, body := srv.upload(srv.token, "b.png", "image/png", png, map[string]string{"alt": "two pixels"})
	if resp1.Header.Get("Location") != resp2.Header.Get("Location") {
		t.Errorf("two URLs for the same bytes: %s, %s", resp1.Header.Get("Location"), resp2.Header.Get("Location"))
	}
	if decodeJSON(t, body)["alt"] != "two pixels" {
		t.Errorf("alt of the second upload = %s", body)
	}
	// A post that uses the file with alt text gives the library that text.
	srv.postJSON(`{"type":["h-entry"],"properties":{"photo":[{"value":"` + resp1.Header.Get("Location") + `","alt":"from the post"}]}}`)
	_, body = srv.get(srv.base+"micropub/media?q=source&url="+url.QueryEscape(resp1.Header.Get("Location")), srv.token)
	if decodeJSON(t, body)["alt"] != "from the post" {
		t.Errorf("alt after a post used the file = %s", body)
	}
	entries, _ := os.ReadDir(srv.dataDir(t, "media"))
	if len(entries) != 1 {
		t.Errorf("%d files in the media folder, want 1", len(entries))
	}
}

func TestMedia_ListingPagingAndLast(t *testing.T) {
	var clock = testNow
	srv := newTestServer(t, func(c *serverConfig) {
		c.Now = func() time.Time { return clock }
	})
	var urls []string // newest first
	for i := 0; i < 5; i++ {
		clock = testNow.Add(time.Duration(i) * time.Minute)
		resp, body := srv.upload(srv.token, "f.mp4", "video/mp4", fakeMP4(100+i), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		urls = append([]string{resp.Header.Get("Location")}, urls...)
	}
	list := func(params url.Values) []string {
		resp, body := srv.get(srv.base+"micropub/media?"+params.Encode(), srv.token)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", params.Encode(), resp.StatusCode, body)
		}
		var got []string
		for _, it := range decodeJSON(t, body)["items"].([]any) {
			m := it.(map[string]any)
			if m["mime_type"] != "video/mp4" || m["published"] == nil {
				t.Errorf("item %v", m)
			}
			got = append(got, m["url"].(string))
		}
		return got
	}
	if diff := cmp.Diff(urls, list(url.Values{"q": {"source"}})); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(urls[2:4], list(url.Values{"q": {"source"}, "limit": {"2"}, "offset": {"2"}})); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
	resp, body := srv.get(srv.base+"micropub/media?q=source&url="+url.QueryEscape(urls[1]), srv.token)
	if resp.StatusCode != http.StatusOK || decodeJSON(t, body)["url"] != urls[1] {
		t.Errorf("q=source&url: %d %s", resp.StatusCode, body)
	}
	resp, body = srv.get(srv.base+"micropub/media?q=last", srv.token)
	if decodeJSON(t, body)["url"] != urls[0] {
		t.Errorf("q=last = %s, want %s", body, urls[0])
	}
	clock = clock.Add(time.Hour)
	resp, body = srv.get(srv.base+"micropub/media?q=last", srv.token)
	if string(bytes.TrimSpace(body)) != "{}" {
		t.Errorf("q=last an hour later = %s, want {}", body)
	}
	resp, body = srv.get(srv.base+"micropub/media?q=config", srv.token)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("q=config: %d", resp.StatusCode)
	}
}

func TestMedia_DeleteOnlyUnusedFiles(t *testing.T) {
	srv := newTestServer(t)
	resp, _ := srv.upload(srv.token, "a.png", "image/png", readFixture(t, fixtureDir+"/media/pixel.png"), nil)
	used := resp.Header.Get("Location")
	resp, _ = srv.upload(srv.token, "a.gif", "image/gif", readFixture(t, fixtureDir+"/media/pixel.gif"), nil)
	unused := resp.Header.Get("Location")
	post := srv.create("content=look&photo=" + url.QueryEscape(used))

	resp, body := srv.post("application/x-www-form-urlencoded", "action=delete&url="+url.QueryEscape(used), srv.token, "micropub/media")
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	if !strings.Contains(string(body), post) {
		t.Errorf("the error does not name the post %s: %s", post, body)
	}
	if resp, _ := srv.get(used, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the used file is gone: %d", resp.StatusCode)
	}

	resp, body = srv.post("application/json", `{"action":"delete","url":"`+unused+`"}`, srv.token, "micropub/media")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete unused: %d %s", resp.StatusCode, body)
	}
	if resp, _ := srv.get(unused, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET deleted file: %d", resp.StatusCode)
	}
	entries, _ := os.ReadDir(srv.dataDir(t, "media"))
	if len(entries) != 1 {
		t.Errorf("%d files left in the media folder, want 1", len(entries))
	}
	resp, body = srv.post("application/x-www-form-urlencoded", "action=delete&url="+url.QueryEscape(unused), srv.token, "micropub/media")
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
}

func TestMedia_RefusedUploadsLeaveNothingBehind(t *testing.T) {
	srv := newTestServer(t, func(c *serverConfig) { c.Limits = micropub.Limits{Upload: 64 << 10} })
	tests := []struct {
		name, filename, claimed string
		data                    []byte
		status                  int
		code                    string
	}{
		{"over the limit", "big.mp4", "video/mp4", fakeMP4(80 << 10), 413, "request_too_large"},
		{"html", "page.jpg", "image/jpeg", []byte("<!doctype html><script>alert(document.cookie)</script>"), 415, "unsupported_media_type"},
		{"svg", "logo.svg", "image/svg+xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`), 415, "unsupported_media_type"},
		{"pdf", "doc.pdf", "application/pdf", []byte("%PDF-1.7\n1 0 obj\n"), 415, "unsupported_media_type"},
		{"empty", "empty.png", "image/png", nil, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := srv.upload(srv.token, tt.filename, tt.claimed, tt.data, nil)
			wantError(t, resp, body, tt.status, tt.code)
		})
	}
	resp, body := srv.post("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nno file\r\n--x--\r\n", srv.token, "micropub/media")
	wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
	for _, dir := range []string{"media", "tmp"} {
		if entries, _ := os.ReadDir(srv.dataDir(t, dir)); len(entries) != 0 {
			t.Errorf("%d files left in %s", len(entries), dir)
		}
	}
	if resp, body := srv.get(srv.base+"micropub/media?q=source", srv.token); !strings.Contains(string(body), `"items":[]`) {
		t.Errorf("refused uploads are listed: %d %s", resp.StatusCode, body)
	}
}
