package media

import (
	"strings"
	"testing"
)

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
