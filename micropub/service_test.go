package micropub

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/micropubd/micropubd"
)

func TestDiscoverPostType(t *testing.T) {
	tests := []struct {
		typ   string
		props string
		want  string
	}{
		{"entry", `{"content":["hi"]}`, "note"},
		{"entry", `{"name":["Title"],"content":["Body text"]}`, "article"},
		{"entry", `{"name":["Hello world"],"content":["Hello world, and more"]}`, "note"},
		{"entry", `{"photo":["https://a/1.jpg"],"content":["x"]}`, "photo"},
		{"entry", `{"video":["v"],"photo":["p"]}`, "video"},
		{"entry", `{"audio":["a"]}`, "audio"},
		{"entry", `{"in-reply-to":["u"],"content":["x"]}`, "reply"},
		{"entry", `{"in-reply-to":["u"],"rsvp":["yes"]}`, "rsvp"},
		{"entry", `{"like-of":["u"]}`, "like"},
		{"entry", `{"repost-of":["u"],"like-of":["u"]}`, "repost"},
		{"entry", `{"bookmark-of":["u"],"name":["N"]}`, "bookmark"},
		{"entry", `{"checkin":[{"type":["h-card"],"properties":{}}]}`, "checkin"},
		{"event", `{"name":["E"]}`, "event"},
		{"card", `{"name":["V"]}`, "venue"},
		{"cite", `{"name":["C"]}`, "cite"},
	}
	for _, tt := range tests {
		props, err := micropubd.DecodeProperties([]byte(tt.props))
		if err != nil {
			t.Fatal(err)
		}
		if got := DiscoverPostType(tt.typ, props); got != tt.want {
			t.Errorf("%s %s = %s, want %s", tt.typ, tt.props, got, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct{ in, want string }{
		{"2026-01-15T10:30:00+02:00", "2026-01-15T10:30:00+02:00"},
		{"2026-01-15T10:30:00.123Z", "2026-01-15T10:30:00Z"},
		{"2026-01-15T10:30:00-0800", "2026-01-15T10:30:00-08:00"},
		{"2026-01-15T10:30+01:00", "2026-01-15T10:30:00+01:00"},
		{"2026-01-15 10:30:00 -0700", "2026-01-15T10:30:00-07:00"},
		{"2026-07-15T10:30:00", "2026-07-15T10:30:00-04:00"},
		{"2026-01-15 10:30", "2026-01-15T10:30:00-05:00"},
		{"2026-01-15", "2026-01-15T00:00:00-05:00"},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, ny)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if s := got.Format(time.RFC3339); s != tt.want {
			t.Errorf("%s = %s, want %s", tt.in, s, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-13-01", "15/01/2026", "2026-01-15T25:00:00Z"} {
		if _, err := ParseTime(bad, ny); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDetectType(t *testing.T) {
	tests := []struct {
		head []byte
		want string
	}{
		{[]byte("\xFF\xD8\xFF\xE0\x00\x10JFIF"), "image/jpeg"},
		{[]byte("\x89PNG\r\n\x1a\n"), "image/png"},
		{[]byte("GIF89a"), "image/gif"},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp"},
		{[]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic"},
		{[]byte("\x00\x00\x00\x18ftypavif\x00\x00\x00\x00"), "image/avif"},
		{[]byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"), "video/mp4"},
		{[]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), "video/quicktime"},
		{[]byte("\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00"), "audio/mp4"},
		{[]byte("ID3\x03\x00"), "audio/mpeg"},
		{[]byte("\xFF\xFB\x90\x00"), "audio/mpeg"},
		{[]byte("fLaC\x00"), "audio/flac"},
		{[]byte("<!DOCTYPE html><html>"), "text/html"},
		{[]byte(`<svg xmlns="http://www.w3.org/2000/svg">`), "image/svg+xml"},
		{[]byte(`<?xml version="1.0"?><svg>`), "image/svg+xml"},
		{[]byte("\xef\xbb\xbf  <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\"><svg>"), "image/svg+xml"},
		{[]byte(`<?xml version="1.0"?><feed>`), "text/xml"},
	}
	for _, tt := range tests {
		if got := DetectType(tt.head); got != tt.want {
			t.Errorf("%q = %s, want %s", tt.head, got, tt.want)
		}
		refused := strings.HasPrefix(tt.want, "text/") || tt.want == "image/svg+xml"
		if _, ok := mediaTypes[DetectType(tt.head)]; ok == refused {
			t.Errorf("%q: accepted = %v", tt.head, ok)
		}
	}
}

func TestApplyPhotoAlt(t *testing.T) {
	props := micropubd.Properties{"photo": {"https://a/1.jpg", map[string]any{"value": "https://a/2.jpg"}, "https://a/3.jpg"}}
	if err := applyPhotoAlt(props, []any{"one", "two"}); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(props["photo"])
	want := `[{"alt":"one","value":"https://a/1.jpg"},{"alt":"two","value":"https://a/2.jpg"},"https://a/3.jpg"]`
	if string(got) != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestSlugFor(t *testing.T) {
	tests := []struct{ slug, name, want string }{
		{"Hello World", "", "hello-world"},
		{"", "Ünïcödé Title: Part 2", "unicode-title-part-2"},
		{"", "", ""},
		{"!!!", "", ""},
		{"", strings.Repeat("word ", 40), strings.TrimSuffix(strings.Repeat("word-", 16), "-")},
	}
	for _, tt := range tests {
		props := micropubd.Properties{}
		if tt.name != "" {
			props["name"] = []any{tt.name}
		}
		if got := slugFor(tt.slug, props); got != tt.want {
			t.Errorf("slugFor(%q, %q) = %q, want %q", tt.slug, tt.name, got, tt.want)
		}
	}
}

func FuzzStripJPEGLocation(f *testing.F) {
	f.Add([]byte("\xFF\xD8\xFF\xE1\x00\x10Exif\x00\x00II*\x00\x08\x00\x00\x00\xFF\xD9"))
	f.Add([]byte("\xFF\xD8\xFF\xDA"))
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := &memFile{b: append([]byte(nil), data...)}
		stripJPEGLocation(buf, int64(len(data))) // must not panic or grow the file
		if len(buf.b) != len(data) {
			t.Fatalf("size changed from %d to %d", len(data), len(buf.b))
		}
	})
}

func TestStripJPEGLocation_FillBytesAreCheap(t *testing.T) {
	// 20 MB of 0xFF fill bytes once kept the server busy for half a minute.
	data := append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF}, 20<<20)...)
	start := time.Now()
	if _, err := stripJPEGLocation(&memFile{b: data}, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// memFile is an in-memory file that never grows past writes in place.
type memFile struct{ b []byte }

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}
