package micropub

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func benchmarkParse(b *testing.B, contentType string, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/micropub", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if _, err := ParseRequest(httptest.NewRecorder(), r, Limits{}, readAll{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse_Form(b *testing.B) {
	body := "h=entry&content=Hello+world+this+is+a+test+post&category[]=a&category[]=b&mp-slug=hello&published=2026-01-15T10%3A30%3A00%2B02%3A00"
	benchmarkParse(b, "application/x-www-form-urlencoded", []byte(body))
}

func BenchmarkParse_JSON(b *testing.B) {
	body := `{"type":["h-entry"],"properties":{"content":[{"html":"<p>Hello <b>world</b></p>"}],"category":["a","b"],` +
		`"photo":[{"value":"https://photos.example.com/1.jpg","alt":"A dog"}],` +
		`"checkin":[{"type":["h-card"],"properties":{"name":["Ford Food and Drink"],"latitude":[45.5048473],"longitude":[-122.6549551]}}]}}`
	benchmarkParse(b, "application/json", []byte(body))
}

func BenchmarkParse_Multipart(b *testing.B) {
	photo, err := os.ReadFile("../testdata/requests/media/pixel.jpg")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("h", "entry")
	w.WriteField("content", strings.Repeat("A photo post. ", 5))
	w.WriteField("category[]", "photos")
	w.WriteField("mp-photo-alt", "A pixel")
	part, _ := w.CreateFormFile("photo", "pixel.jpg")
	part.Write(photo)
	w.Close()
	benchmarkParse(b, w.FormDataContentType(), buf.Bytes())
}
