package notesclient

import (
	"context"
	"errors"
	"github.com/micropubd/micropubd/notes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The client against servers that are not micropubd: what it says of answers it cannot use.
// The tests in cmd/micropubd run it against the real API.
func TestNotesClient_AnswersItCannotUseAreSaidInWords(t *testing.T) {
	for _, c := range []struct {
		name, contentType, body string
		status                  int
		want                    string
		apiStatus               int
	}{
		{"an API error", "application/json", `{"error":"not_found","error_description":"there is no note 5"}`, 404,
			"GET BASE/notes/5: there is no note 5 (404 Not Found)", 404},
		{"an error page", "text/html", "<h1>Bad gateway</h1>", 502, "GET BASE/notes/5: the server answered 502 Bad Gateway", 502},
		{"a page that is not the API", "text/html", "<html>", 200, "the answer is not the notes API's JSON (is BASE/ a micropubd or Micro.blog server?)", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("Authorization: %q", r.Header.Get("Authorization"))
				}
				w.Header().Set("Content-Type", c.contentType)
				w.WriteHeader(c.status)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL + "/")
			_, err := (&Client{BaseURL: base, Token: "tok"}).Note(context.Background(), 5)
			want := strings.ReplaceAll(c.want, "BASE", srv.URL)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
			var apiErr *APIError
			if got := errors.As(err, &apiErr); got != (c.apiStatus != 0) || got && apiErr.Status != c.apiStatus {
				t.Errorf("APIError %+v, want status %d", apiErr, c.apiStatus)
			}
		})
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	base, _ := url.Parse(srv.URL + "/")
	if _, err := (&Client{BaseURL: base}).Notebooks(context.Background()); err == nil || !strings.Contains(err.Error(), "cannot reach the notes server at "+srv.URL+"/") {
		t.Errorf("a closed server: %v", err)
	}
}

func TestNotesParseDate_OursAndMicroBlogs(t *testing.T) {
	want := time.Date(2024, 1, 10, 17, 4, 26, 0, time.UTC)
	for _, s := range []string{want.UTC().Format("2006-01-02T15:04:05.000-07:00"), "2024-01-10T17:04:26+00:00", "2024-01-10T17:04:26Z"} {
		if got, err := notes.ParseDate(s); err != nil || !got.Equal(want) {
			t.Errorf("notes.ParseDate(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := notes.ParseDate("yesterday"); err == nil {
		t.Error("a date that is no date was read")
	}
}
