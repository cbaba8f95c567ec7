package micropub

import (
	"encoding/json"
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
		// The shapes read without the pattern.
		{"2026-01-15T10:30:00Z", "2026-01-15T10:30:00Z"},
		{"2026-01-15T10:30:00-07:00", "2026-01-15T10:30:00-07:00"},
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
	for _, bad := range []string{"", "yesterday", "2026-13-01", "15/01/2026", "2026-01-15T25:00:00Z",
		"2026-02-30T10:00:00Z", "2026-01-15T10:30:00+07:0x", "2026-01-15T10:30:00+0700Z"} {
		_, err := ParseTime(bad, ny)
		if err == nil {
			t.Errorf("%q parsed", bad)
		} else if !strings.Contains(err.Error(), "is not a date-time") {
			t.Errorf("%q: %v, want the message that names the forms", bad, err)
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

func TestShortID_SortsAsItsTimeAndTellsPostsApart(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{start, start.Add(time.Millisecond), start.Add(31 * time.Millisecond),
		start.Add(32 * time.Millisecond), start.Add(time.Second), start.Add(10 * 24 * time.Hour),
		time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC)}
	prev := ""
	for _, tm := range times {
		id := shortID(tm)
		if len(id) != 12 || strings.Trim(id, idAlphabet) != "" {
			t.Fatalf("shortID(%v) = %q: want 12 characters of %q", tm, id, idAlphabet)
		}
		if id <= prev {
			t.Errorf("shortID(%v) = %q sorts before or as %q, an earlier time's", tm, id, prev)
		}
		prev = id
	}
	seen := map[string]bool{}
	for range 1000 {
		seen[shortID(start)] = true
	}
	if len(seen) < 990 {
		t.Errorf("1,000 ids of one millisecond gave %d different ones", len(seen))
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
