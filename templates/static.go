package templates

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// asset is a static file with the short hash of its bytes, which versions its URL.
type asset struct {
	data        []byte
	version     string
	contentType string
}

func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(FS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := FS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(name))
		switch path.Ext(name) {
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case "":
			ct = "text/plain; charset=utf-8" // licence files
		}
		out[strings.TrimPrefix(name, "static/")] = asset{data: data, version: hex.EncodeToString(sum[:6]), contentType: ct}
		return nil
	})
	return out, err
}

// AssetVersion returns the version of a static file for its URL (static/NAME?v=VERSION), so
// that it can be cached for ever and still change with the binary.
func (p *Pages) AssetVersion(name string) string { return p.assets[name].version }

// ServeStatic serves a static file: cached for a year when asked for by its version, else
// revalidated; always with its own type and nosniff.
func (p *Pages) ServeStatic(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := p.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+a.version+`"`)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == `"`+a.version+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.data)))
	if r.Method != http.MethodHead {
		w.Write(a.data)
	}
}
