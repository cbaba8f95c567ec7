package micropub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/micropubd/micropubd/micropub/micropubtest"
)

// canonical renders a parsed Request in the JSON shape of the fixtures' expectations.
func canonical(r *Request) map[string]any {
	out := map[string]any{"action": r.Action}
	if r.URL != "" {
		out["url"] = r.URL
	}
	if len(r.Type) > 0 {
		ts := make([]any, len(r.Type))
		for i, t := range r.Type {
			ts[i] = t
		}
		out["type"] = ts
	}
	props := func(key string, p map[string][]any) {
		if len(p) == 0 {
			return
		}
		m := map[string]any{}
		for k, v := range p {
			m[k] = v
		}
		out[key] = m
	}
	props("properties", r.Properties)
	props("commands", r.Commands)
	props("replace", r.Replace)
	props("add", r.Add)
	if len(r.DeleteProps) > 0 {
		list := make([]any, len(r.DeleteProps))
		for i, p := range r.DeleteProps {
			list[i] = p
		}
		out["delete"] = list
	}
	props("delete", r.DeleteValues)
	if len(r.Files) > 0 {
		out["files"] = filesByProperty(r.Files)
	}
	return out
}

// filesByProperty groups file names by property: the order of parts within one property is
// kept (it pairs photos with mp-photo-alt), the order across properties carries no meaning.
func filesByProperty(files any) map[string][]string {
	out := map[string][]string{}
	switch files := files.(type) {
	case []File:
		for _, f := range files {
			out[f.Property] = append(out[f.Property], f.Filename)
		}
	case []any:
		for _, f := range files {
			m := f.(map[string]any)
			out[m["property"].(string)] = append(out[m["property"].(string)], m["filename"].(string))
		}
	}
	return out
}

func TestParseRequest_Fixtures(t *testing.T) {
	fixtures, err := micropubtest.Load("../testdata/requests")
	if err != nil {
		t.Fatal(err)
	}
	const token, base = "t0k", "https://example.com/"
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			r, err := f.Request(token, base)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRequest(httptest.NewRecorder(), r, Limits{}, readAll{})
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			want, err := f.Want(base)
			if err != nil {
				t.Fatal(err)
			}
			if files, ok := want["files"]; ok {
				want["files"] = filesByProperty(files)
			}
			if diff := cmp.Diff(want, canonical(got)); diff != "" {
				t.Errorf("parsed request mismatch (-want +got):\n%s", diff)
			}
			if strings.Contains(string(f.Name), "access-token") && got.AccessToken != token {
				t.Errorf("AccessToken = %q, want %q", got.AccessToken, token)
			}
		})
	}
}

func TestParseRequest_RejectsMalformed(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		wantInDesc  string
	}{
		{"no content type", "", "h=entry&content=x", 400, "Content-Type"},
		{"unsupported type", "text/plain", "hello", 400, "unsupported Content-Type"},
		{"empty form", "application/x-www-form-urlencoded", "", 400, "empty"},
		{"bad percent escape", "application/x-www-form-urlencoded", "content=%zz", 400, "malformed"},
		{"bad utf-8 in form", "application/x-www-form-urlencoded", "content=%ff%fe", 400, "UTF-8"},
		{"only h", "application/x-www-form-urlencoded", "h=entry", 400, "no properties"},
		{"two h values", "application/x-www-form-urlencoded", "h=entry&h=event&content=x", 400, "one microformats type"},
		{"form update without url", "application/x-www-form-urlencoded", "action=update&replace[content]=x", 400, "url"},
		{"form update of a nested value", "application/x-www-form-urlencoded", "action=update&url=https://example.com/a&replace[location][properties][name]=x", 400, "replace[PROPERTY]"},
		{"form update with a stray field", "application/x-www-form-urlencoded", "action=update&url=https://example.com/a&content=x", 400, "not \"content\""},
		{"form delete without url", "application/x-www-form-urlencoded", "action=delete", 400, "url"},
		{"unknown action", "application/x-www-form-urlencoded", "action=explode&url=x", 400, "unknown action"},
		{"unclosed bracket", "application/x-www-form-urlencoded", "content[html=x", 400, "unclosed"},
		{"two access tokens", "application/x-www-form-urlencoded", "access_token=a&access_token=b&content=x", 400, "more than one"},
		{"malformed json", "application/json", `{"type": ["h-entry"], "properties": {`, 400, "malformed"},
		{"json array body", "application/json", `["h-entry"]`, 400, "malformed"},
		{"json trailing data", "application/json", `{"type":["h-entry"],"properties":{"content":["x"]}} {}`, 400, "after its object"},
		{"bad utf-8 in json", "application/json", "{\"type\":[\"h-entry\"],\"properties\":{\"content\":[\"\xff\"]}}", 400, "UTF-8"},
		{"json type not a list", "application/json", `{"type":[1],"properties":{"content":["x"]}}`, 400, "type"},
		{"json type not h-", "application/json", `{"type":["entry"],"properties":{"content":["x"]}}`, 400, "root type"},
		{"json type with markup", "application/json", `{"type":["h-entry\" onmouseover=\"x"],"properties":{"content":["x"]}}`, 400, "root type"},
		{"form h with spaces", "application/x-www-form-urlencoded", "h=entry+u-url&content=x", 400, "one microformats type"},
		{"nested type invalid", "application/json", `{"type":["h-entry"],"properties":{"location":[{"type":["h-"],"properties":{}}]}}`, 400, "microformats type"},
		{"json without properties", "application/json", `{"type":["h-entry"]}`, 400, "properties"},
		{"json null value", "application/json", `{"type":["h-entry"],"properties":{"content":[null]}}`, 400, "null"},
		{"json nested list", "application/json", `{"type":["h-entry"],"properties":{"content":[["x"]]}}`, 400, "list"},
		{"replace not an object", "application/json", `{"action":"update","url":"https://example.com/a","replace":"text"}`, 400, "replace must be an object"},
		{"replace value not a list", "application/json", `{"action":"update","url":"https://example.com/a","replace":{"content":"x"}}`, 400, "must be a list"},
		{"add not an object", "application/json", `{"action":"update","url":"https://example.com/a","add":["x"]}`, 400, "add must be an object"},
		{"delete a string", "application/json", `{"action":"update","url":"https://example.com/a","delete":"content"}`, 400, "delete must be"},
		{"delete list of numbers", "application/json", `{"action":"update","url":"https://example.com/a","delete":[1]}`, 400, "property names"},
		{"replace a non-empty list", "application/json", `{"action":"update","url":"https://example.com/a","replace":["content"]}`, 400, "replace must be an object"},
		{"update mp command not a value", "application/json", `{"action":"update","url":"https://example.com/a","mp-slug":[null]}`, 400, "null"},
		{"update unknown member", "application/json", `{"action":"update","url":"https://example.com/a","set":{"a":["b"]}}`, 400, "not \"set\""},
		{"update without url", "application/json", `{"action":"update","replace":{"content":["x"]}}`, 400, "url"},
		{"delete with extra members", "application/json", `{"action":"delete","url":"https://example.com/a","properties":{}}`, 400, "only action and url"},
		{"multipart without boundary", "multipart/form-data", "x", 400, "multipart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/micropub", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			_, err := ParseRequest(httptest.NewRecorder(), r, Limits{}, readAll{})
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Status != tt.status || e.Code != CodeInvalidRequest {
				t.Errorf("got %d %s, want %d invalid_request", e.Status, e.Code, tt.status)
			}
			if !strings.Contains(e.Description, tt.wantInDesc) {
				t.Errorf("description %q does not mention %q", e.Description, tt.wantInDesc)
			}
		})
	}
}

func TestParseRequest_BodyOverLimitIs413(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"form", "application/x-www-form-urlencoded", "content=" + strings.Repeat("a", 200)},
		{"json", "application/json", `{"type":["h-entry"],"properties":{"content":["` + strings.Repeat("a", 200) + `"]}}`},
		{"multipart", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\n" + strings.Repeat("a", 400) + "\r\n--XX--\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/micropub", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.contentType)
			_, err := ParseRequest(httptest.NewRecorder(), r, Limits{Body: 100, Upload: 100}, readAll{})
			e, ok := err.(*Error)
			if !ok || e.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("err = %v, want a 413 *Error", err)
			}
		})
	}
}

// readAll is a FileReceiver that reads files and stores nothing.
type readAll struct{}

func (readAll) ReceiveFile(r io.Reader, _ map[string][]string) (Upload, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, ReadError(err, DefaultLimits.Upload)
	}
	return nullUpload{}, nil
}

// nullUpload is a received file that is stored nowhere.
type nullUpload struct{}

func (nullUpload) URL() string {
	return "https://me.example/media/0000000000000000000000000000000000000000.png"
}

func (nullUpload) Commit(context.Context) error { return nil }

func (nullUpload) Discard() {}

func TestParseRequest_SemicolonInAFormValueIsLiteral(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/micropub", strings.NewReader("content=x&location=geo:45.5,-122.6;u=35"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req, err := ParseRequest(httptest.NewRecorder(), r, Limits{}, readAll{})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Properties.First("location"); got != "geo:45.5,-122.6;u=35" {
		t.Errorf("location = %q", got)
	}
}
