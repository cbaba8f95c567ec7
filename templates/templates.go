// Package templates holds the HTML templates of the site and of the sign-in pages, embedded in
// the binary, and renders them.
package templates

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// FS holds the page templates (*.page.html) and the shared layout and partials.
//
//go:embed *.html
var FS embed.FS

// Pages are the parsed pages, each with the layout and partials it is rendered in.
type Pages struct {
	pages map[string]*template.Template
	// styleSources are the CSP sources of the layout's inline style elements.
	styleSources []string
}

var funcs = template.FuncMap{
	// dict builds a map from key/value pairs, to pass several values to a partial.
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict needs key/value pairs")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict keys must be strings")
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// Parse parses every page.
func Parse() (*Pages, error) {
	names, err := fs.Glob(FS, "*.page.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, name := range names {
		t, err := template.New(name).Funcs(funcs).ParseFS(FS, "layout.html", "partials.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(name, ".page.html")] = t
	}
	layout, err := FS.ReadFile("layout.html")
	if err != nil {
		return nil, err
	}
	for _, m := range styleElement.FindAllSubmatch(layout, -1) {
		sum := sha256.Sum256(m[1])
		p.styleSources = append(p.styleSources, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return p, nil
}

// styleElement finds the layout's inline styles; they hold no template actions, so the page
// carries them byte for byte.
var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// StyleSources returns the Content-Security-Policy sources (hashes) that allow the layout's
// inline styles and nothing else.
func (p *Pages) StyleSources() string { return strings.Join(p.styleSources, " ") }

// Render executes page into a buffer and only then writes it with status, so that a template
// error is returned before anything was sent. Headers set on w before are kept.
func (p *Pages) Render(w http.ResponseWriter, status int, page string, data any) error {
	t, ok := p.pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
