package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestClientDate_QuillPublishedFormsKeepTheirOffset posts every form of published that
// Quill's input pattern YYYY-MM-DD[ T]HH:MM[:SS][ ]?[+-]HH[:]?MM allows, and Z, as Quill's
// server sends them (form-encoded with PHP's http_build_query), and checks the stored value
// keeps the offset as written.
func TestClientDate_QuillPublishedFormsKeepTheirOffset(t *testing.T) {
	tests := []struct{ typed, stored string }{
		{"2026-11-30T12:34:56-07:00", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30T12:34:56-0700", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30T12:34:56 -07:00", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30T12:34:56 -0700", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30 12:34:56-07:00", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30 12:34:56-0700", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30 12:34:56 -07:00", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30 12:34:56 -0700", "2026-11-30T12:34:56-07:00"},
		{"2026-11-30T12:34-07:00", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30T12:34-0700", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30T12:34 -07:00", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30T12:34 -0700", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30 12:34-07:00", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30 12:34-0700", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30 12:34 -07:00", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30 12:34 -0700", "2026-11-30T12:34:00-07:00"},
		{"2026-11-30T12:34:56+02:00", "2026-11-30T12:34:56+02:00"},
		{"2026-11-30T12:34:56 +02:00", "2026-11-30T12:34:56+02:00"},
		{"2026-11-30 12:34:56+0200", "2026-11-30T12:34:56+02:00"},
		{"2026-11-30 12:34 +0530", "2026-11-30T12:34:00+05:30"},
		{"2026-11-30T12:34:56Z", "2026-11-30T12:34:56Z"},
		{"2026-11-30 12:34:56Z", "2026-11-30T12:34:56Z"},
		{"2026-11-30T12:34Z", "2026-11-30T12:34:00Z"},
		{"2026-11-30 12:34 Z", "2026-11-30T12:34:00Z"},
		{"2026-11-30T12:34:56.789+02:00", "2026-11-30T12:34:56+02:00"},
		// Without an offset the server's zone (UTC in tests) is used.
		{"2026-11-30T12:34:56", "2026-11-30T12:34:56Z"},
		{"2026-11-30 12:34", "2026-11-30T12:34:00Z"},
		{"2026-11-30", "2026-11-30T00:00:00Z"},
	}
	srv := newTestServer(t)
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			resp, body := srv.sendRaw("quill-create-published", srv.token, map[string]string{"PUBLISHED": url.QueryEscape(tt.typed)})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", resp.StatusCode, body)
			}
			got := srv.source(resp.Header.Get("Location"))["properties"].(map[string]any)["published"]
			if diff := cmp.Diff([]any{tt.stored}, got); diff != "" {
				t.Errorf("published (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientDate_OtherFormsAreRefusedWithAnExample(t *testing.T) {
	srv := newTestServer(t)
	for _, typed := range []string{
		"yesterday", "30/11/2026 12:34", "2026-11-30T12", "2026-11-30T12:34:56 PST",
		"2026-11-30T12:34:56+2", "2026-11-30T12:34:56  -07:00", "2026-11-31T12:00:00Z", "2026-11-30T24:10:00Z",
	} {
		t.Run(typed, func(t *testing.T) {
			resp, body := srv.sendRaw("quill-create-published", srv.token, map[string]string{"PUBLISHED": url.QueryEscape(typed)})
			wantError(t, resp, body, http.StatusBadRequest, "invalid_request")
			if desc := decodeJSON(t, body)["error_description"].(string); !strings.Contains(desc, "published") || !strings.Contains(desc, "2026-11-30T12:34:56-07:00") {
				t.Errorf("the description names no accepted example: %s", desc)
			}
		})
	}
}
