package media

import (
	"errors"
	"net/http"
	"os"

	"github.com/micropubd/micropubd"
)

// ServeFile serves a stored file publicly with the exact type detected at upload, an ETag from
// its content hash, caching for immutable content, and Range requests for seeking in video.
func (s *Service) ServeFile(w http.ResponseWriter, r *http.Request, name string) {
	m, err := s.Store.MediaByName(r.Context(), name)
	var f *os.File
	if err == nil {
		f, err = s.Store.OpenMedia(m.Name)
	}
	switch {
	case errors.Is(err, micropubd.ErrNotFound):
		http.NotFound(w, r)
		return
	case err != nil:
		http.Error(w, "The file could not be read.", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", m.MIMEType)
	h.Set("ETag", `"`+m.Name+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", m.Created, f)
}
