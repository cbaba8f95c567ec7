package admin

import "net/http"

// confirmDelete is GET /admin/delete?url=POST: a page that asks before the post is deleted
// (its form posts action=delete to the Micropub endpoint), so that no script is needed.
func (h *Handler) confirmDelete(w http.ResponseWriter, r *http.Request) {
	p, ok := h.post(r)
	if !ok || p.IsDeleted() {
		h.notFound(w, r, "There is no post at that address to delete.")
		return
	}
	data := h.data(r, "Delete")
	data["URL"], data["PostTitle"] = h.url(p.Path), titleOf(p)
	h.render(w, r, http.StatusOK, "admin_delete", data)
}
