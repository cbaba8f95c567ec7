package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const mediaPageSize = 30

// fileRow is one upload in the library.
type fileRow struct {
	URL, Alt, MIMEType, Size, Kind, Created, CreatedISO string
	Image                                               bool
	Width, Height, ThumbWidth, ThumbHeight              int
	UsedBy                                              []string
}

// library is GET /admin/media: the uploads, newest first, with where each is used; forms to
// upload, set alt text, and delete an unused file post to the media endpoint.
func (h *Handler) library(w http.ResponseWriter, r *http.Request) {
	h.libraryWithError(w, r, http.StatusOK, "")
}

// libraryWithError shows the library, with an error when a form failed.
func (h *Handler) libraryWithError(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	offset, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	files, err := h.media.ListMedia(r.Context(), mediaPageSize+1, offset)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := h.data(r, "Media")
	if len(files) > mediaPageSize {
		files = files[:mediaPageSize]
		data["Older"] = h.url("admin/media?offset=" + strconv.Itoa(offset+mediaPageSize))
	}
	if offset > 0 {
		data["Newer"] = h.url("admin/media?offset=" + strconv.Itoa(max(0, offset-mediaPageSize)))
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	usage, err := h.media.MediaUsage(r.Context(), names)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	rows := make([]fileRow, len(files))
	for i, f := range files {
		row := fileRow{URL: h.url("media/" + f.Name), Alt: f.Alt, MIMEType: f.MIMEType, Size: humanSize(f.Size),
			Kind: strings.SplitN(f.MIMEType, "/", 2)[0], Created: f.Created.Format("2 Jan 2006, 15:04"),
			CreatedISO: f.Created.Format(time.RFC3339), Image: strings.HasPrefix(f.MIMEType, "image/"),
			Width: f.Width, Height: f.Height, ThumbWidth: 160, ThumbHeight: 120}
		if f.Width > 0 && f.Height > 0 {
			row.ThumbHeight = 160 * f.Height / f.Width
		}
		for _, p := range usage[f.Name] {
			row.UsedBy = append(row.UsedBy, h.url(p))
		}
		rows[i] = row
	}
	data["Files"], data["Error"] = rows, errMsg
	switch r.URL.Query().Get("done") {
	case "upload":
		data["Notice"] = "Uploaded."
	case "update":
		data["Notice"] = "Alt text saved."
	case "delete":
		data["Notice"] = "The file was deleted."
	}
	h.render(w, r, status, "admin_media", data)
}

// humanSize writes a byte count as people read it.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
