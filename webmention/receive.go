package webmention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/micropubd/micropubd"
)

// maxURLLength bounds source and target.
const maxURLLength = 2048

// Receive is the webmention endpoint: a form POST with source and target. The target must be
// a public post of this site and the source another http(s) URL; the answer is 202 at once,
// and the source is verified in the background. Errors are JSON {error, error_description}.
func (s *Service) Receive(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		fail(w, http.StatusBadRequest, "invalid_request", "send source and target as application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(w, http.StatusBadRequest, "invalid_request", "the form could not be read: "+err.Error())
		return
	}
	source, target := r.PostForm.Get("source"), r.PostForm.Get("target")
	src, err := checkURL("source", source)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid_source", err.Error())
		return
	}
	if _, err := checkURL("target", target); err != nil {
		fail(w, http.StatusBadRequest, "invalid_target", err.Error())
		return
	}
	if sameURL(source, target) {
		fail(w, http.StatusBadRequest, "invalid_source", "the source and the target are the same page")
		return
	}
	post, err := s.targetPost(r.Context(), target)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid_target", err.Error())
		return
	}
	host := strings.ToLower(src.Hostname())
	if !s.limiter.allow(host) {
		w.Header().Set("Retry-After", "60")
		fail(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("%s sent more than %d webmentions in a minute; try again later", host, s.cfg.PerHostPerMinute))
		return
	}
	if n, err := s.store.PendingWebmentions(r.Context()); err != nil || n >= s.cfg.MaxPending {
		w.Header().Set("Retry-After", "300")
		fail(w, http.StatusServiceUnavailable, "temporarily_unavailable", "too many webmentions are waiting to be verified; try again later")
		return
	}
	m := &micropubd.Webmention{Source: source, Target: target, PostID: post.ID, SourceHost: host, Received: s.cfg.Now()}
	queued, err := s.store.QueueWebmention(r.Context(), m)
	if err != nil {
		s.cfg.Log.ErrorContext(r.Context(), "queueing a webmention failed", "source", source, "err", err)
		fail(w, http.StatusInternalServerError, "server_error", "the webmention could not be stored")
		return
	}
	if queued {
		s.cfg.Log.InfoContext(r.Context(), "webmention received", "source", source, "target", target)
		s.incoming.signal()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintln(w, "Accepted: the source will be checked for a link to the target.")
}

// NotAllowed answers other methods at the endpoint.
func (s *Service) NotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	fail(w, http.StatusMethodNotAllowed, "invalid_request", "this is the webmention endpoint: POST source and target as a form")
}

// checkURL accepts an absolute http(s) URL of reasonable length.
func checkURL(name, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s is missing", name)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > maxURLLength {
		return nil, fmt.Errorf("%s must be an absolute http or https URL of at most %d characters", name, maxURLLength)
	}
	return u, nil
}

// targetPost is the public post a target URL names, at its current or a former address.
func (s *Service) targetPost(ctx context.Context, target string) (*micropubd.Post, error) {
	u, _ := url.Parse(target)
	base := s.cfg.BaseURL
	if !strings.EqualFold(u.Host, base.Host) || !strings.HasPrefix(u.Path, base.Path) {
		return nil, fmt.Errorf("%s is not on this site (%s)", target, base)
	}
	path := strings.Trim(strings.TrimPrefix(u.Path, base.Path), "/")
	post, err := s.store.PostByPath(ctx, path)
	if errors.Is(err, micropubd.ErrNotFound) || err == nil && (!post.IsPublic() || post.IsDeleted()) || path == "" {
		return nil, fmt.Errorf("%s is not a post of this site that accepts webmentions", target)
	}
	return post, err
}

func fail(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// Delete lets the signed-in owner remove a webmention from a post: it is taken off the page
// and stays deleted, even if its source sends it again. A browser form: same-origin, with the
// session's CSRF token; it goes back to the post.
func (s *Service) Delete(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if s.sessions == nil || !s.sessions.IsOwner(r) {
		fail(w, http.StatusForbidden, "forbidden", "only the signed-in owner may delete a webmention")
		return
	}
	if err := r.ParseForm(); err != nil || !s.sessions.ValidSessionWrite(r, r.PostForm.Get("csrf")) {
		fail(w, http.StatusForbidden, "forbidden", "the form must come from this site's page, with its token")
		return
	}
	source, target := r.PostForm.Get("source"), r.PostForm.Get("target")
	post, err := s.targetPost(r.Context(), target)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid_target", err.Error())
		return
	}
	err = s.store.InTx(r.Context(), func(ctx context.Context) error {
		m, err := s.store.WebmentionBySource(ctx, source, post.ID)
		switch {
		case err == nil:
			m.Status, m.Error = micropubd.MentionDeleted, "deleted by the owner"
			if _, err := s.store.SaveWebmention(ctx, m); err != nil {
				return err
			}
		case !errors.Is(err, micropubd.ErrNotFound):
			return err
		}
		return s.show(ctx, post.ID, source, "", nil)
	})
	if err != nil {
		s.cfg.Log.ErrorContext(r.Context(), "deleting a webmention failed", "source", source, "err", err)
		fail(w, http.StatusInternalServerError, "server_error", "the webmention could not be deleted")
		return
	}
	s.cfg.Log.InfoContext(r.Context(), "webmention deleted by the owner", "source", source, "target", target)
	http.Redirect(w, r, s.cfg.BaseURL.String()+post.Path+"#responses", http.StatusSeeOther)
}

// show puts a source's h-cite in the post's property for its kind, after taking every
// earlier one of that source off the post's responses; kind "" only takes them off. The
// post's updated time is not touched: a response is not an edit.
func (s *Service) show(ctx context.Context, postID int64, source, kind string, cite map[string]any) error {
	post, err := s.store.PostByID(ctx, postID)
	if err != nil {
		return err
	}
	_, err = s.store.UpdatePost(ctx, post.Path, func(p *micropubd.Post) error {
		for _, prop := range micropubd.ResponseProperty {
			kept := p.Properties[prop][:0:0]
			for _, v := range p.Properties[prop] {
				if citeURL(v) != source {
					kept = append(kept, v)
				}
			}
			if len(kept) == 0 {
				delete(p.Properties, prop)
			} else {
				p.Properties[prop] = kept
			}
		}
		if prop, ok := micropubd.ResponseProperty[kind]; ok {
			p.Properties[prop] = append(p.Properties[prop], cite)
		}
		return nil
	})
	return err
}

// citeURL is the url of a response value: an h-cite's, or a bare URL.
func citeURL(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		props, _ := x["properties"].(map[string]any)
		if urls, _ := props["url"].([]any); len(urls) > 0 {
			s, _ := urls[0].(string)
			return s
		}
	}
	return ""
}
