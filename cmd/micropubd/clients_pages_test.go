package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPage_QuillGeoLocationIsAnHGeo(t *testing.T) {
	tests := []struct {
		fixture, posted string
		want            map[string]any
		html            string
	}{
		{"requests/45-form-quill-geo-markdown", "geo:45.52345,-122.67621;u=35",
			map[string]any{"latitude": []any{"45.52345"}, "longitude": []any{"-122.67621"}, "uncertainty": []any{"35"}},
			`<span class="p-location h-geo"><span class="p-latitude">45.52345</span>, <span class="p-longitude">-122.67621</span> (± <span class="p-uncertainty">35</span> m)</span>`},
		{"requests/46-json-quill-photo-alt-p3k", "geo:45.51312,-122.66906,12;u=20",
			map[string]any{"latitude": []any{"45.51312"}, "longitude": []any{"-122.66906"}, "altitude": []any{"12"}, "uncertainty": []any{"20"}},
			`<span class="p-altitude">12</span> m`},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			srv := newTestServer(t)
			resp, body := srv.sendRaw(tt.fixture, srv.token, nil)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			if got := srv.source(loc)["properties"].(map[string]any)["location"]; !cmp.Equal(got, []any{tt.posted}) {
				t.Errorf("q=source location = %v, want it as posted", got)
			}
			_, page := srv.get(loc, "")
			if !strings.Contains(string(page), tt.html) {
				t.Errorf("the page does not render the location as %s:\n%s", tt.html, page)
			}
			geo := pageItem(t, page, loc)["properties"].(map[string]any)["location"].([]any)[0].(map[string]any)
			if diff := cmp.Diff([]any{"h-geo"}, geo["type"]); diff != "" {
				t.Errorf("location type (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, geo["properties"]); diff != "" {
				t.Errorf("h-geo properties (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPage_VendorPropertiesAreKeptButNeverShown(t *testing.T) {
	srv := newTestServer(t)
	resp, body := srv.sendRaw("requests/45-form-quill-geo-markdown", srv.token, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	resp, body = srv.postJSON(`{"action":"update","url":"` + loc + `","add":{"p3k-private-note":["for the editor only"],"x-client-state":["42"]}}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	props := srv.source(loc)["properties"].(map[string]any)
	for name, want := range map[string]any{
		"p3k-content-type": []any{"text/markdown"}, "p3k-private-note": []any{"for the editor only"}, "x-client-state": []any{"42"},
	} {
		if !cmp.Equal(props[name], want) {
			t.Errorf("q=source %s = %v, want %v", name, props[name], want)
		}
	}
	for _, page := range []string{loc, srv.base} {
		_, html := srv.get(page, "")
		for _, hidden := range []string{"p3k", "text/markdown", "for the editor only", "x-client-state"} {
			if strings.Contains(string(html), hidden) {
				t.Errorf("%s shows %q", page, hidden)
			}
		}
	}
}
