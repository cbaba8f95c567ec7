// Package micropubtest reads the request fixtures under testdata/requests: the raw bytes of
// Micropub requests as clients send them, each beside the JSON its parse must produce.
package micropubtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Fixture is one request file and the expectation beside it.
type Fixture struct {
	Name string
	raw  []byte
	want []byte
}

// Load reads every NAME.http with its NAME.json in dir, in name order.
func Load(dir string) ([]Fixture, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil {
		return nil, err
	}
	var out []Fixture
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		want, err := os.ReadFile(strings.TrimSuffix(p, ".http") + ".json")
		if err != nil {
			return nil, fmt.Errorf("fixture %s has no expectation: %w", p, err)
		}
		out = append(out, Fixture{Name: strings.TrimSuffix(filepath.Base(p), ".http"), raw: raw, want: want})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no fixtures in %s", dir)
	}
	return out, nil
}

// Request builds the fixture's request with {{TOKEN}} and {{BASE}} filled in. The body is
// used byte for byte; Content-Length is recomputed.
func (f Fixture) Request(token, base string) (*http.Request, error) {
	req, err := ParseRequest(fill(f.raw, token, base))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	return req, nil
}

// ParseRequest reads the raw bytes of a request (headers, a blank line, the body as sent). The
// body is used byte for byte; Content-Length is recomputed, so fixtures can be edited by hand.
func ParseRequest(raw []byte) (*http.Request, error) {
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		if head, body, ok = bytes.Cut(raw, []byte("\n\n")); !ok {
			return nil, fmt.Errorf("no blank line after the headers")
		}
	}
	var hdr bytes.Buffer
	for _, line := range strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n") {
		if strings.HasPrefix(strings.ToLower(line), "content-length:") {
			continue
		}
		hdr.WriteString(line + "\r\n")
	}
	hdr.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	hdr.Write(body)
	return http.ReadRequest(bufio.NewReader(&hdr))
}

// Want decodes the expectation with {{BASE}} filled in, numbers kept as json.Number.
func (f Fixture) Want(base string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(fill(f.want, "", base)))
	dec.UseNumber()
	var want map[string]any
	if err := dec.Decode(&want); err != nil {
		return nil, fmt.Errorf("%s.json: %w", f.Name, err)
	}
	return want, nil
}

func fill(b []byte, token, base string) []byte {
	b = bytes.ReplaceAll(b, []byte("{{TOKEN}}"), []byte(token))
	return bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(base))
}
