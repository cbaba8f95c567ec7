package admin

import (
	"net/http"
	"slices"
)

// compose is GET /admin/new?type=KIND: the form to write a note, an article, a photo post, a
// reply, a like, a repost, a bookmark or an event.
func (h *Handler) compose(w http.ResponseWriter, r *http.Request) {
	h.showForm(w, r, http.StatusOK, newForm(r.URL.Query().Get("type")), "")
}

// edit is GET /admin/edit?url=POST: the post's properties in the form, saved as an update.
func (h *Handler) edit(w http.ResponseWriter, r *http.Request) {
	p, ok := h.post(r)
	if !ok {
		h.notFound(w, r, "There is no post at that address to edit.")
		return
	}
	if p.IsDeleted() {
		h.notFound(w, r, "That post is deleted: undelete it from the list of deleted posts first.")
		return
	}
	h.showForm(w, r, http.StatusOK, formFromPost(p, h.url(p.Path)), "")
}

// targetView is a syndication target with whether the form ticks it.
type targetView struct {
	UID, Name string
	Checked   bool
}

func (h *Handler) showForm(w http.ResponseWriter, r *http.Request, status int, f *postForm, errMsg string) {
	title := "Write"
	if f.Action == "update" {
		title = "Edit"
	}
	data := h.data(r, title)
	data["Form"], data["Kinds"], data["Error"] = f, kinds, errMsg
	known, err := h.posts.Categories(r.Context(), "", 200)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data["Known"] = known
	var ts []targetView
	for _, t := range h.cfg.SyndicateTo {
		ts = append(ts, targetView{UID: t.UID, Name: t.Name, Checked: slices.Contains(f.Syndicated, t.UID)})
	}
	data["Targets"] = ts
	h.render(w, r, status, "admin_compose", data)
}
