package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"willnorris.com/go/microformats"

	"github.com/micropubd/micropubd/micropub/micropubtest"
)

const fixtureDir = "../../testdata/requests"

// TestRoundTrip_FixturesComeBackOutOfTheirPages posts every create fixture over HTTP, then
// checks that q=source gives back what was posted and that the rendered permalink page,
// parsed as microformats2, carries every posted property, and, once another site replied to
// the post by webmention, the reply as the h-cite q=source keeps in comment.
func TestRoundTrip_FixturesComeBackOutOfTheirPages(t *testing.T) {
	fixtures, err := micropubtest.Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	const ownerPhoto = "https://photos.example/me.jpg"
	srv := newWebmentionServer(t, "Test Owner", func(c *serverConfig) {
		c.Photo = ownerPhoto
		c.Webmentions.PerHostPerMinute = 1000 // every reply comes from the one test site
	})
	replier := replyingSite(t)
	media := loadMedia(t)
	created := 0
	for _, f := range fixtures {
		want, err := f.Want(srv.base)
		if err != nil {
			t.Fatal(err)
		}
		if want["action"] != "create" {
			continue
		}
		created++
		t.Run(f.Name, func(t *testing.T) {
			req, err := f.Request(srv.token, srv.base)
			if err != nil {
				t.Fatal(err)
			}
			req.URL, _ = url.Parse(srv.base + "micropub")
			req.RequestURI, req.Host = "", ""
			resp, body := srv.do(req)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, srv.base) {
				t.Fatalf("Location %q is not an absolute URL on the site", loc)
			}

			posted := postedProperties(want)
			stored := srv.source(loc)
			gotSource := fileNames(t, srv, media, stored["properties"].(map[string]any))
			if diff := cmp.Diff(posted, gotSource); diff != "" {
				t.Errorf("q=source differs from what was posted (-posted +source):\n%s", diff)
			}
			if diff := cmp.Diff([]any{want["type"].([]any)[0]}, stored["type"]); diff != "" {
				t.Errorf("q=source type (-want +got):\n%s", diff)
			}

			replied := replyTo(t, srv, replier, loc)
			resp, page := srv.get(loc, srv.token)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", loc, resp.StatusCode)
			}
			item := pageItem(t, page, loc)
			if diff := cmp.Diff([]any{want["type"].([]any)[0]}, item["type"]); diff != "" {
				t.Errorf("page item type (-want +got):\n%s", diff)
			}
			gotProps := item["properties"].(map[string]any)
			wantPage, gotPage := map[string]any{}, map[string]any{}
			for name, vals := range posted {
				if strings.HasPrefix(name, "p3k-") {
					// A client's own property: kept for q=source, never on the page.
					if gotProps[name] != nil || strings.Contains(string(page), name) {
						t.Errorf("the page shows the vendor property %s", name)
					}
					for _, v := range vals.([]any) {
						if strings.Contains(string(page), v.(string)) {
							t.Errorf("the page shows the value of the vendor property %s: %s", name, v)
						}
					}
					continue
				}
				if name == "post-status" || name == "visibility" {
					continue // bookkeeping, not content: not marked up
				}
				wantPage[name] = pageValues(name, vals.([]any), srv.base)
				gotVals, _ := gotProps[name].([]any)
				gotPage[name] = parsedValues(t, srv, media, name, gotVals, vals.([]any))
			}
			if diff := cmp.Diff(wantPage, gotPage); diff != "" {
				t.Errorf("the parsed page differs from what was posted (-posted +page):\n%s", diff)
			}
			if typ := want["type"].([]any)[0]; typ == "h-entry" || typ == "h-event" {
				// The author h-card names its url explicitly, for parsers that imply none
				// beside an explicit u-photo.
				wantAuthor := []any{map[string]any{"type": []any{"h-card"}, "value": "Test Owner",
					"properties": map[string]any{"name": []any{"Test Owner"}, "url": []any{srv.base},
						"photo": []any{ownerPhoto}}}}
				if diff := cmp.Diff(wantAuthor, gotProps["author"]); diff != "" {
					t.Errorf("page author (-want +got):\n%s", diff)
				}
			}
			for _, name := range []string{"url", "uid"} {
				if vals, _ := gotProps[name].([]any); !slices.Contains(vals, any(loc)) && !(name == "url" && len(posted["url"].([]any)) > 0) {
					t.Errorf("page %s = %v, want the permalink %s", name, vals, loc)
				}
			}
			if replied {
				stored, _ := srv.source(loc)["properties"].(map[string]any)["comment"].([]any)
				parsed, _ := gotProps["comment"].([]any)
				if len(stored) != 1 || len(parsed) != 1 {
					t.Fatalf("comment: %d in q=source, %d on the page; want the one reply", len(stored), len(parsed))
				}
				if diff := cmp.Diff(citeOf(stored[0]), citeOf(parsed[0])); diff != "" {
					t.Errorf("the reply on the page differs from q=source's comment (-source +page):\n%s", diff)
				}
				if got := citeOf(parsed[0])["url"]; got != replier.URL+"/reply?to="+url.QueryEscape(loc) {
					t.Errorf("the comment's url is %v", got)
				}
			}
		})
	}
	if created < 20 {
		t.Errorf("only %d create fixtures; the round trip wants at least 20", created)
	}
}

// replyingSite serves, at /reply?to=URL, another site's reply to URL: an h-entry with an
// author h-card, HTML content and a published time.
func replyingSite(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := r.URL.Query().Get("to")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>A reply</title><article class="h-entry">
<a class="u-in-reply-to" href="%s">In reply to</a>
<a class="p-author h-card" href="https://replier.example/"><img class="u-photo" src="https://replier.example/face.jpg" alt=""> <span class="p-name">Ann Replier</span></a>
<div class="e-content"><p>A <em>thoughtful</em> reply &amp; a <a href="https://replier.example/more">link</a>.</p></div>
<a class="u-url" href="%s"><time class="dt-published" datetime="2026-03-15T10:00:00+01:00">15 March</time></a>
</article>`, html.EscapeString(to), html.EscapeString(r.URL.String()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// replyTo sends a webmention from the replying site to a post and waits until the post shows
// it; a post that does not take webmentions (a draft, a private post) refuses it at once.
func replyTo(t *testing.T, srv *testServer, replier *httptest.Server, postURL string) bool {
	t.Helper()
	source := replier.URL + "/reply?to=" + url.QueryEscape(postURL)
	resp, body := sendWebmention(t, srv.base+"webmention", source, postURL)
	if resp.StatusCode == http.StatusBadRequest && body["error"] == "invalid_target" {
		return false
	}
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webmention: %d %v", resp.StatusCode, body)
	}
	eventually(t, "the reply on "+postURL, 10*time.Second, func() bool {
		c, _ := srv.source(postURL)["properties"].(map[string]any)["comment"].([]any)
		return len(c) == 1
	})
	return true
}

// citeOf is an h-cite (stored or parsed) in a comparable form: its url, published time,
// content HTML with white space squashed, and its author's name, url and photo.
func citeOf(v any) map[string]any {
	props, _ := v.(map[string]any)["properties"].(map[string]any)
	first := func(m map[string]any, k string) any {
		if l, _ := m[k].([]any); len(l) > 0 {
			return l[0]
		}
		return nil
	}
	out := map[string]any{"url": first(props, "url"), "published": first(props, "published")}
	if c, ok := first(props, "content").(map[string]any); ok {
		out["content"] = squash(c["html"].(string))
	}
	if a, ok := first(props, "author").(map[string]any); ok {
		ap, _ := a["properties"].(map[string]any)
		out["author"] = map[string]any{"name": first(ap, "name"), "url": first(ap, "url"), "photo": first(ap, "photo")}
	}
	return out
}

// postedProperties is what a create fixture asks the server to store: its properties, photo
// alt text joined to its photos, files by their name, and the published time the server sets.
func postedProperties(want map[string]any) map[string]any {
	props := map[string]any{}
	for k, v := range want["properties"].(map[string]any) {
		props[k] = slices.Clone(v.([]any))
	}
	if files, ok := want["files"].([]any); ok {
		for _, f := range files {
			m := f.(map[string]any)
			name := m["property"].(string)
			list, _ := props[name].([]any)
			props[name] = append(list, "file:"+m["filename"].(string))
		}
	}
	if cmds, ok := want["commands"].(map[string]any); ok {
		if alts, ok := cmds["mp-photo-alt"].([]any); ok {
			photos := props["photo"].([]any)
			for i, a := range alts {
				photos[i] = map[string]any{"value": photos[i], "alt": a}
			}
		}
	}
	if _, ok := props["published"]; !ok {
		props["published"] = []any{testNow.Format("2006-01-02T15:04:05Z07:00")}
	}
	return props
}

// loadMedia reads the files the multipart fixtures carry, to recognise them once stored.
func loadMedia(t *testing.T) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "media", "*"))
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// fileNames replaces URLs of stored media by "file:NAME" after fetching them and checking
// their bytes are those of the fixture file NAME.
func fileNames(t *testing.T, srv *testServer, media map[string][]byte, props map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range props {
		list := slices.Clone(v.([]any))
		for i, x := range list {
			list[i] = fileName(t, srv, media, x)
		}
		out[k] = list
	}
	return out
}

func fileName(t *testing.T, srv *testServer, media map[string][]byte, v any) any {
	switch x := v.(type) {
	case string:
		if !strings.HasPrefix(x, srv.base+"media/") {
			return x
		}
		resp, body := srv.get(x, "")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", x, resp.StatusCode)
			return x
		}
		for name, b := range media {
			if bytes.Equal(b, body) {
				return "file:" + name
			}
		}
		return x
	case map[string]any:
		if val, ok := x["value"].(string); ok {
			m := map[string]any{}
			for k, v := range x {
				m[k] = v
			}
			m["value"] = fileName(t, srv, media, val)
			return m
		}
	}
	return v
}

// pageItem parses a permalink page and returns, as generic JSON, its one top-level item whose
// url or uid is the page's own (the footer's h-card of the owner is another top-level item).
func pageItem(t *testing.T, page []byte, pageURL string) map[string]any {
	t.Helper()
	u, _ := url.Parse(pageURL)
	data := microformats.Parse(bytes.NewReader(page), u)
	var found []*microformats.Microformat
	for _, it := range data.Items {
		for _, name := range []string{"url", "uid"} {
			if slices.Contains(it.Properties[name], any(pageURL)) && !slices.Contains(found, it) {
				found = append(found, it)
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("the page has %d top-level items for %s, want 1:\n%s", len(found), pageURL, page)
	}
	raw, err := json.Marshal(found[0])
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, raw)
}

// pageValues is what a posted property should look like once parsed from the page, in the
// comparable form parsedValues gives parsed values.
func pageValues(name string, vals []any, base string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			out[i] = squash(x)
		case json.Number:
			out[i] = x.String()
		case map[string]any:
			switch {
			case x["html"] != nil:
				out[i] = map[string]any{"html": squash(x["html"].(string))}
			case x["type"] != nil:
				props := map[string]any{}
				for k, pv := range x["properties"].(map[string]any) {
					props[k] = pageValues(k, pv.([]any), base)
				}
				out[i] = map[string]any{"type": x["type"], "properties": props}
			default:
				m := map[string]any{}
				for k, mv := range x {
					m[k] = squash(mv.(string))
				}
				out[i] = m
			}
		}
	}
	return out
}

// parsedValues puts parsed values in the form pageValues gives posted ones; want (the posted
// values) says whether a content value is compared as text or as HTML.
func parsedValues(t *testing.T, srv *testServer, media map[string][]byte, name string, got, want []any) []any {
	out := make([]any, len(got))
	for i, g := range got {
		var w any
		if i < len(want) {
			w = want[i]
		}
		if pv, ok := g.(map[string]any); ok && name == "photo" {
			if _, posted := w.(string); posted && pv["alt"] != nil && pv["alt"] == libraryAlt(t, srv, pv["value"].(string)) {
				g = pv["value"] // a photo posted without alt shows the media library's
			}
		}
		g = fileName(t, srv, media, g)
		switch x := g.(type) {
		case string:
			out[i] = squash(x)
		case map[string]any:
			switch {
			case x["type"] != nil:
				wm, _ := w.(map[string]any)
				if ws, _ := w.(string); strings.HasPrefix(ws, "geo:") {
					out[i] = geoURI(x["properties"].(map[string]any)) // a geo: URI renders as an h-geo
					continue
				}
				if _, isString := w.(string); isString {
					// A location URL of a venue on this site renders as the venue's h-card.
					urls, _ := x["properties"].(map[string]any)["url"].([]any)
					if len(urls) > 0 {
						out[i] = squash(urls[0].(string))
						continue
					}
				}
				wantProps, _ := wm["properties"].(map[string]any)
				props := map[string]any{}
				for k, pv := range x["properties"].(map[string]any) {
					if _, posted := wantProps[k]; !posted {
						continue
					}
					wv, _ := wantProps[k].([]any)
					props[k] = parsedValues(t, srv, media, k, pv.([]any), wv)
				}
				out[i] = map[string]any{"type": x["type"], "properties": props}
			case x["html"] != nil:
				if wm, ok := w.(map[string]any); ok && wm["html"] != nil {
					out[i] = map[string]any{"html": squash(x["html"].(string))}
				} else {
					out[i] = squash(x["value"].(string))
				}
			default:
				m := map[string]any{}
				for k, mv := range x {
					m[k] = squash(mv.(string))
				}
				out[i] = m
			}
		default:
			out[i] = g
		}
	}
	return out
}

// geoURI writes the properties of a parsed h-geo back as the geo URI they came from.
func geoURI(props map[string]any) string {
	first := func(name string) string {
		if vals, _ := props[name].([]any); len(vals) > 0 {
			return vals[0].(string)
		}
		return ""
	}
	s := "geo:" + first("latitude") + "," + first("longitude")
	if a := first("altitude"); a != "" {
		s += "," + a
	}
	if u := first("uncertainty"); u != "" {
		s += ";u=" + u
	}
	return s
}

// libraryAlt is the alt text the media endpoint has for one of its files, or "".
func libraryAlt(t *testing.T, srv *testServer, fileURL string) string {
	resp, body := srv.get(srv.base+"micropub/media?q=source&url="+url.QueryEscape(fileURL), srv.token)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	alt, _ := decodeJSON(t, body)["alt"].(string)
	return alt
}

// squash collapses runs of white space, which HTML does not keep.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
