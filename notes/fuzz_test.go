package notes

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/micropubd/micropubd/micropub"
)

// FuzzReadFields reads a notes request as the handler does (form, multipart, JSON or the query
// string) and every kind of field from it: a request is read or refused with a 4xx, never a
// panic or a 500.
func FuzzReadFields(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("notebook_id=1&text=abc&is_encrypted=true&ids=1,2,3"))
	f.Add("application/json", []byte(`{"notebook_id": 3, "positions": {"12": "n", "13": "b"}, "is_sharing": true}`))
	f.Add("application/json", []byte(`{"ids": [1, 2, "3"], "modified_after": "2026-01-01T00:00:00Z"}`))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhello\r\n--b--\r\n"))
	f.Add("text/plain", []byte(""))
	f.Add("application/xml", []byte("<x/>"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/notes?name=q&count=5", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		fields, err := readFields(httptest.NewRecorder(), r)
		if err != nil {
			clientError(t, err)
			return
		}
		for name := range fields {
			for _, read := range []func() error{
				func() error { _, err := boolField(fields, name); return err },
				func() error { _, err := idField(fields, name); return err },
				func() error { _, err := idsField(fields, name); return err },
				func() error { _, err := timeField(fields, name); return err },
				func() error { _, err := positionsField(fields); return err },
			} {
				if err := read(); err != nil {
					clientError(t, err)
				}
			}
		}
	})
}

func clientError(t *testing.T, err error) {
	t.Helper()
	var e *micropub.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 || e.Description == "" {
		t.Fatalf("refused with %v, not a 4xx answer with a description", err)
	}
}

func TestFuzzCorpus_IsCheckedIn(t *testing.T) {
	if entries, err := os.ReadDir("testdata/fuzz/FuzzReadFields"); err != nil || len(entries) == 0 {
		t.Errorf("testdata/fuzz/FuzzReadFields holds no corpus: %v", err)
	}
}
