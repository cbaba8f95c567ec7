package notes

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/micropubd/micropubd/micropub"
)

// maxBody is the largest request body: the longest note and room for the other fields.
const maxBody = MaxText + 64<<10

// readFields reads a request's parameters whatever the client sends: a form-encoded body (the
// Mac app, Lillihub), a multipart one (Strata), JSON (the web app), or nothing but the query
// string (Strata's notebook create). Body fields come first, the query string fills in the
// rest. A JSON object member becomes name[key] fields, as in forms: {"positions": {"12": "b"}}
// reads as positions[12]=b.
func readFields(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	body := url.Values{}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "", "text/plain":
		// No body to read (DELETE, GET, or Strata's query-string POST).
	case "application/x-www-form-urlencoded":
		var raw []byte
		if raw, err = io.ReadAll(r.Body); err == nil {
			body, err = url.ParseQuery(string(raw))
		}
	case "multipart/form-data":
		body, err = readMultipart(multipart.NewReader(r.Body, params["boundary"]))
	case "application/json":
		body, err = readJSON(r.Body)
	default:
		return nil, &micropub.Error{Status: http.StatusUnsupportedMediaType, Code: micropub.CodeUnsupportedType,
			Description: fmt.Sprintf("send notes as application/x-www-form-urlencoded, multipart/form-data or application/json, not %s", ct)}
	}
	if err != nil {
		return nil, bodyError(err)
	}
	for k, v := range r.URL.Query() {
		if _, ok := body[k]; !ok {
			body[k] = v
		}
	}
	return body, nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &micropub.Error{Status: http.StatusRequestEntityTooLarge, Code: micropub.CodeTooLarge,
			Description: fmt.Sprintf("the request body is larger than %d bytes (a note's text has at most 1 MB)", maxBody)}
	}
	var e *micropub.Error
	if errors.As(err, &e) {
		return e
	}
	return invalid("the request body cannot be read: %v", err)
}

func readMultipart(mr *multipart.Reader) (url.Values, error) {
	out := url.Values{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if part.FileName() != "" {
			return nil, invalid("notes take no files (the part %q is a file)", part.FormName())
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, err
		}
		out.Add(part.FormName(), string(value))
	}
}

func readJSON(r io.Reader) (url.Values, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err == io.EOF {
		return url.Values{}, nil // DELETE with Content-Type: application/json and no body
	} else if err != nil {
		return nil, invalid("the JSON body is not an object: %v", err)
	}
	out := url.Values{}
	for k, v := range obj {
		if err := addJSON(out, k, v, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func addJSON(out url.Values, name string, v any, depth int) error {
	if depth > 2 {
		return invalid("%s nests too deeply", name)
	}
	switch v := v.(type) {
	case nil:
	case string:
		out.Add(name, v)
	case json.Number:
		out.Add(name, v.String())
	case bool:
		out.Add(name, strconv.FormatBool(v))
	case []any:
		for _, item := range v {
			if _, nested := item.([]any); nested {
				return invalid("%s: lists of lists are not understood", name)
			}
			if err := addJSON(out, name, item, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, item := range v {
			if err := addJSON(out, name+"["+k+"]", item, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// boolField reads a flag as clients send it: true/false, 1/0 (and a checkbox's "on"); nil
// when absent.
func boolField(f url.Values, name string) (*bool, error) {
	if !f.Has(name) {
		return nil, nil
	}
	var b bool
	switch strings.ToLower(strings.TrimSpace(f.Get(name))) {
	case "true", "1", "on", "yes":
		b = true
	case "false", "0", "", "off", "no":
		b = false
	default:
		return nil, invalid("%s must be true or false (or 1 or 0), not %q", name, f.Get(name))
	}
	return &b, nil
}

// idField reads a positive id; 0 when absent or empty.
func idField(f url.Values, name string) (int64, error) {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		return 0, nil
	}
	return parseID(name, s)
}

func parseID(name, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("%s must be a positive whole number, not %q", name, s)
	}
	return id, nil
}

// idsField reads repeated (or comma-separated) ids.
func idsField(f url.Values, names ...string) ([]int64, error) {
	var ids []int64
	for _, name := range names {
		for _, v := range f[name] {
			for _, s := range strings.Split(v, ",") {
				if s = strings.TrimSpace(s); s == "" {
					continue
				}
				id, err := parseID(name, s)
				if err != nil {
					return nil, err
				}
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// optional returns a pointer to a field's value, or nil when absent.
func optional(f url.Values, name string) *string {
	if !f.Has(name) {
		return nil
	}
	v := f.Get(name)
	return &v
}

// positionsField reads positions[ID]=KEY fields.
func positionsField(f url.Values) (map[int64]string, error) {
	out := map[int64]string{}
	for k, v := range f {
		inner, ok := strings.CutPrefix(k, "positions[")
		if !ok || !strings.HasSuffix(inner, "]") {
			continue
		}
		id, err := parseID("positions", strings.TrimSuffix(inner, "]"))
		if err != nil {
			return nil, err
		}
		out[id] = v[0]
	}
	return out, nil
}

// timeField reads an ISO 8601 date-time or date; zero when absent.
func timeField(f url.Values, name string) (time.Time, error) {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalid("%s must be an ISO 8601 date-time such as 2026-11-30T12:00:00Z or a date such as 2026-11-30, not %q", name, s)
}
