package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// TestFeeds_UnsafeTextNeverBreaksAFeed writes a title, category and content holding HTML,
// control characters and CDATA ends into each format and checks each stays well-formed, with
// the text as text.
func TestFeeds_UnsafeTextNeverBreaksAFeed(t *testing.T) {
	when := time.Date(2026, 2, 1, 10, 0, 0, 0, time.FixedZone("", 5*3600+1800))
	f := &Feed{Title: "Site <&>", HomeURL: "https://me.example/", RSSURL: "https://me.example/feed.xml",
		AtomURL: "https://me.example/feed.atom", JSONURL: "https://me.example/feed.json", Author: Author{Name: "Me"},
		Items: []Item{{URL: "https://me.example/1", Title: "<b>Bold</b> & \x00\x1b\uFFFE ]]>", HTML: "<p>x ]]> \x0b</p>",
			Published: when, Categories: []string{"a&b", "\x01"}}}}
	for name, write := range map[string]func(*Feed) ([]byte, error){"RSS": RSS, "Atom": Atom} {
		t.Run(name, func(t *testing.T) {
			out, err := write(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := xml.NewDecoder(bytes.NewReader(out))
			var text strings.Builder
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed: %v\n%s", err, out)
				}
				if cd, ok := tok.(xml.CharData); ok {
					text.Write(cd)
				}
			}
			if !strings.Contains(text.String(), "<b>Bold</b> & ") || !strings.Contains(text.String(), "+05:30") && !strings.Contains(text.String(), "+0530") {
				t.Errorf("the title or the offset was lost:\n%s", out)
			}
		})
	}
	out, err := JSON(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Items []struct {
			Title string `json:"title"`
			Date  string `json:"date_published"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || !strings.HasPrefix(doc.Items[0].Title, "<b>Bold</b> & \x00") || doc.Items[0].Date != "2026-02-01T10:00:00+05:30" {
		t.Errorf("JSON: %v %+v", err, doc)
	}
}
