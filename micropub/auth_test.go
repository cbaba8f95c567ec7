package micropub_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/media"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/storage"
)

// countingVerifier knows one token and counts the lookups made of it.
type countingVerifier struct {
	token   string
	lookups atomic.Int64
}

func (v *countingVerifier) Verify(_ context.Context, token string) (*micropubd.Token, error) {
	v.lookups.Add(1)
	if token != v.token {
		return nil, micropubd.ErrInvalidToken
	}
	return &micropubd.Token{ID: 1, Me: "https://me.example/", Scope: "create update delete undelete media"}, nil
}

func TestAuthorise_TheTokenIsLookedUpOncePerRequest(t *testing.T) {
	db, err := storage.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base, _ := url.Parse("https://me.example/")
	v := &countingVerifier{token: "tok"}
	uploads := &media.Service{Store: db, BaseURL: base}
	mp := &micropub.Handler{Posts: &micropub.Service{Store: db, BaseURL: base}, Media: uploads.ForMicropub(), Tokens: v}
	mh := &media.Handler{Media: uploads, Tokens: v, Site: base}
	png, err := os.ReadFile("../testdata/requests/media/pixel.png")
	if err != nil {
		t.Fatal(err)
	}
	multipartOf := func(fields map[string]string, file string) (string, []byte) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			w.WriteField(k, v)
		}
		part, _ := w.CreateFormFile(file, "p.png")
		part.Write(png)
		w.Close()
		return w.FormDataContentType(), buf.Bytes()
	}
	formCT, form := "application/x-www-form-urlencoded", []byte("h=entry&content=hi&access_token=tok")
	mpCT, mpBody := multipartOf(map[string]string{"content": "with a photo"}, "photo")
	upCT, upBody := multipartOf(nil, "file")
	cases := []struct {
		name        string
		handler     http.Handler
		method, ct  string
		body        []byte
		query       string
		wantStatus  int
		wantLookups int64
	}{
		{"form create, token in header and body", mp, http.MethodPost, formCT, form, "", http.StatusCreated, 1},
		{"JSON create", mp, http.MethodPost, "application/json", []byte(`{"type":["h-entry"],"properties":{"content":["hi"]}}`), "", http.StatusCreated, 1},
		{"multipart create with a photo", mp, http.MethodPost, mpCT, mpBody, "", http.StatusCreated, 1},
		{"media upload", mh, http.MethodPost, upCT, upBody, "", http.StatusCreated, 1},
		{"query", mp, http.MethodGet, "", nil, "?q=config", http.StatusOK, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v.lookups.Store(0)
			r := httptest.NewRequest(c.method, "https://me.example/micropub"+c.query, bytes.NewReader(c.body))
			r.Header.Set("Authorization", "Bearer tok")
			if c.ct != "" {
				r.Header.Set("Content-Type", c.ct)
			}
			w := httptest.NewRecorder()
			c.handler.ServeHTTP(w, r)
			if w.Code != c.wantStatus {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if n := v.lookups.Load(); n != c.wantLookups {
				t.Errorf("%d token lookups, want %d", n, c.wantLookups)
			}
		})
	}
	t.Run("a different token in the body is still refused", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "https://me.example/micropub", strings.NewReader("content=hi&access_token=other"))
		r.Header.Set("Authorization", "Bearer tok")
		r.Header.Set("Content-Type", formCT)
		w := httptest.NewRecorder()
		mp.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest {
			t.Errorf("status %d: %s", w.Code, w.Body)
		}
	})
}
