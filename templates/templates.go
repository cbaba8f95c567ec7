// Package templates holds the HTML templates of the site and of the sign-in pages, embedded in
// the binary, and renders them.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// FS holds the page templates (*.page.html), the shared layout and partials, and the static
// files pages load (static/: style sheets, scripts, and the front-end libraries under vendor/).
//
//go:embed *.html static
var FS embed.FS

// Pages are the parsed pages, each with the layout and partials it is rendered in.
type Pages struct {
	pages  map[string]*template.Template
	assets map[string]asset
}

var funcs = template.FuncMap{
	// inc counts from 1 for people: "Photo 1".
	"inc": func(i int) int { return i + 1 },
	// list makes a list in a template: range (list "a" "b").
	"list": func(items ...string) []string { return items },
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

// Shared returns p, or, when it is nil, the templates parsed: the handlers of one server share
// one parse (about 2 MB of parsed templates each, and the time to make them, at start-up).
func Shared(p *Pages) (*Pages, error) {
	if p != nil {
		return p, nil
	}
	return Parse()
}

// Parse parses every page.
func Parse() (*Pages, error) {
	names, err := fs.Glob(FS, "*.page.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	if p.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	// Every page is parsed with the shared files: the layout and the partials files.
	all, err := fs.Glob(FS, "*.html")
	if err != nil {
		return nil, err
	}
	var shared []string
	for _, name := range all {
		if !strings.HasSuffix(name, ".page.html") {
			shared = append(shared, name)
		}
	}
	for _, name := range names {
		t, err := template.New(name).Funcs(funcs).Funcs(template.FuncMap{"asset": p.AssetVersion}).
			ParseFS(FS, append(shared, name)...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(name, ".page.html")] = t
	}
	return p, nil
}

// Fragment executes one named template of a page's set (a partial) into a string, for HTML
// that goes elsewhere than a page (a feed item's content).
func (p *Pages) Fragment(page, name string, data any) (string, error) {
	t, ok := p.pages[page]
	if !ok {
		return "", fmt.Errorf("no page %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("render %s of %s: %w", name, page, err)
	}
	return buf.String(), nil
}

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
