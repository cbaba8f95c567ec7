package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/micropubd/micropubd/micropub"
)

// The owner's forms post to the Micropub and media endpoints; these answer them in HTML.

// Done sends the browser where the result is seen: the post, the list after a delete (with
// an undo), the library after a change to an upload.
func (h *Handler) Done(w http.ResponseWriter, r *http.Request, action, target string) {
	to := target
	switch {
	case h.isMediaEndpoint(r):
		to = h.url("admin/media?done=" + url.QueryEscape(action))
	case action == micropub.ActionDelete:
		to = h.url("admin/posts?deleted=" + url.QueryEscape(target))
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// Failed shows the form again with what was typed and the error in words. Nothing was written.
func (h *Handler) Failed(w http.ResponseWriter, r *http.Request, err error, form url.Values) {
	status, msg := http.StatusInternalServerError, "The server failed to save it; try again in a moment."
	var e *micropub.Error
	if errors.As(err, &e) {
		status, msg = e.Status, sentence(e.Description)
	} else if r.Context().Err() == nil {
		h.log.ErrorContext(r.Context(), "owner form failed", "path", r.URL.Path, "err", err)
	}
	if !h.sessions.IsOwner(r) {
		http.Redirect(w, r, h.sessions.LoginURL(h.cfg.URL.Path+"admin/posts"), http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case h.isMediaEndpoint(r):
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: r.URL.Path}
		h.libraryWithError(w, r2, status, msg)
	case form == nil:
		data := h.data(r, "Not saved")
		data["Heading"] = "Not saved"
		data["Message"] = msg + " Go back to the form: your browser kept what you typed."
		h.render(w, r, status, "error", data)
	case form.Get("action") == micropub.ActionDelete || form.Get("action") == micropub.ActionUndelete:
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: r.URL.Path}
		h.listWithError(w, r2, status, msg)
	case form.Get("action") == micropub.ActionUpdate:
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: r.URL.Path, RawQuery: url.Values{"url": {form.Get("url")}}.Encode()}
		p, ok := h.post(r2)
		if !ok {
			h.notFound(w, r, msg)
			return
		}
		h.showForm(w, r, status, overlay(formFromPost(p, h.url(p.Path)), form), msg)
	default:
		h.showForm(w, r, status, formFromValues(form), msg)
	}
}

func (h *Handler) isMediaEndpoint(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/micropub/media")
}

// sentence makes an error description read as a sentence.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
