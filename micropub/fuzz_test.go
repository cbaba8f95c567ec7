package micropub

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/micropubd/micropubd"
)

// The fuzz targets run their corpus (testdata/fuzz/NAME) with go test, and a few seconds of
// fuzzing each in CI (.ci/run). A parser may refuse what it is given, but only with a 4xx
// *Error; whatever it accepts must be a request the service can take without a panic.

// nullFiles receives files into nothing, for parsing without storage.
type nullFiles struct{}

func (nullFiles) ReceiveFile(r io.Reader, _ map[string][]string) (Upload, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, ReadError(err, 256<<10) // as media.Service.Receive answers
	}
	return nullUpload{}, nil
}

// checkRefusal fails unless err is nil or a client error.
func checkRefusal(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	var e *Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 || e.Description == "" {
		t.Fatalf("refused with %v, not a 4xx answer with a description", err)
	}
	return true
}

// checkAccepted runs what a parser accepted through the service's checks, which must not panic,
// and checks the limits it promises.
func checkAccepted(t *testing.T, req *Request) {
	t.Helper()
	if req.Action == ActionCreate {
		if err := CheckShape(req.Properties); err != nil && req.Properties != nil {
			checkRefusal(t, err)
			return
		}
		s := &Service{BaseURL: mustParse("https://me.example/"), Location: time.UTC}
		p := &micropubd.Post{Type: "entry", Properties: cloneProperties(req.Properties)}
		if len(p.Properties["published"]) == 0 {
			p.Properties["published"] = []any{"2026-01-01T00:00:00Z"}
		}
		if err := s.derive(p); err != nil {
			checkRefusal(t, err)
			return
		}
		if _, err := json.Marshal(p.Properties); err != nil {
			t.Fatalf("accepted properties do not encode: %v", err)
		}
	}
}

func mustParse(raw string) *url.URL {
	u, _ := url.Parse(raw)
	return u
}

func parseBody(contentType string, body []byte) (*Request, error) {
	r := httptest.NewRequest(http.MethodPost, "/micropub", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return ParseRequest(httptest.NewRecorder(), r, Limits{Body: 64 << 10, Upload: 256 << 10}, nullFiles{})
}

func FuzzParseForm(f *testing.F) {
	f.Add([]byte("h=entry&content=hello&category[]=a&category[]=b&mp-slug=x"))
	f.Add([]byte("weight[type]=h-measure&weight[properties][num]=155.73&weight[properties][unit]=lb"))
	f.Add([]byte("content[html]=<b>hi</b>&photo[value]=https://x/1.jpg&photo[alt]=a"))
	f.Add([]byte("action=delete&url=https://me.example/2026/01/a"))
	f.Add([]byte("location=geo:45.5,-122.6;u=35&published=2026-11-30 12:34:56 -07:00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBody("application/x-www-form-urlencoded", body)
		if checkRefusal(t, err) {
			return
		}
		checkAccepted(t, req)
	})
}

func FuzzParseMultipart(f *testing.F) {
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nhello\r\n--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--b\r\nContent-Disposition: form-data; name=\"category[]\"\r\n\r\nx\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"h\"\r\n\r\nentry\r\n--b--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBody("multipart/form-data; boundary=b", body)
		if checkRefusal(t, err) {
			return
		}
		checkAccepted(t, req)
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"type":["h-entry"],"properties":{"content":["hello"],"category":["a","b"]}}`))
	f.Add([]byte(`{"type":["h-entry"],"properties":{"checkin":[{"type":["h-card"],"properties":{"name":["Cafe"],"latitude":[45.5]}}]}}`))
	f.Add([]byte(`{"type":["h-entry"],"properties":{"content":[{"html":"<p>x</p>"}],"photo":[{"value":"https://x/1.jpg","alt":"a"}]}}`))
	f.Add([]byte(`{"action":"update","url":"https://me.example/2026/01/a","replace":{"content":["new"]},"add":{"category":["c"]},"delete":["x"]}`))
	f.Add([]byte(`{"action":"update","url":"https://me.example/2026/01/a","delete":{"category":["c"]},"mp-slug":"new"}`))
	f.Add([]byte(`{"action":"delete","url":"https://me.example/2026/01/a"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseBody("application/json", body)
		if checkRefusal(t, err) {
			return
		}
		if req.Action == ActionCreate && len(req.Properties) == 0 {
			t.Fatal("a create without properties was accepted")
		}
		checkAccepted(t, req)
	})
}

// FuzzApplyUpdate applies a parsed update to a stored post, as Service.Update does inside its
// transaction: the result is a valid post or a 4xx refusal, never a panic, and stays within
// the limits.
func FuzzApplyUpdate(f *testing.F) {
	stored := []byte(`{"content":["hello"],"category":["a","b"],"published":["2026-01-01T10:00:00+02:00"],"photo":[{"value":"https://x/1.jpg","alt":"a"}],"location":[{"type":["h-card"],"properties":{"name":["Cafe"]}}]}`)
	for _, seed := range []string{
		`{"action":"update","url":"https://me.example/a","replace":{"content":["new"]}}`,
		`{"action":"update","url":"https://me.example/a","add":{"category":["c"],"syndication":["https://s.example/1"]}}`,
		`{"action":"update","url":"https://me.example/a","delete":["category","photo"]}`,
		`{"action":"update","url":"https://me.example/a","delete":{"category":["a"],"location":[{"type":["h-card"],"properties":{"name":["Cafe"]}}]}}`,
		`{"action":"update","url":"https://me.example/a","replace":{"published":["2020-02-29"],"post-status":["draft"]}}`,
	} {
		f.Add(stored, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, storedJSON, update []byte) {
		props, err := micropubd.DecodeProperties(storedJSON)
		if err != nil {
			return
		}
		req, err := parseBody("application/json", update)
		if checkRefusal(t, err) || req.Action != ActionUpdate {
			return
		}
		out := applyOperations(props, req)
		if err := CheckShape(out); err != nil {
			checkRefusal(t, err)
			return
		}
		if len(out["published"]) == 0 {
			out["published"] = []any{"2026-01-01T00:00:00Z"}
		}
		p := &micropubd.Post{Type: "entry", Properties: out}
		s := &Service{BaseURL: mustParse("https://me.example/"), Location: time.UTC}
		if err := s.derive(p); err != nil {
			checkRefusal(t, err)
			return
		}
		if _, err := json.Marshal(p.Properties); err != nil {
			t.Fatalf("the updated properties do not encode: %v", err)
		}
	})
}

// TestFuzzCorpora_AreCheckedIn keeps the corpora CI fuzzes from: each target has its folder.
func TestFuzzCorpora_AreCheckedIn(t *testing.T) {
	for _, name := range []string{"FuzzParseForm", "FuzzParseMultipart", "FuzzParseJSON", "FuzzApplyUpdate"} {
		if entries, err := os.ReadDir("testdata/fuzz/" + name); err != nil || len(entries) == 0 {
			t.Errorf("testdata/fuzz/%s holds no corpus: %v", name, err)
		}
	}
}
