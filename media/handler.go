package media

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
)

// Handler is the media endpoint: POST uploads a file (multipart, part "file") or deletes
// one (action=delete); GET answers q=config, q=source and q=last.
type Handler struct {
	Media  *Service
	Tokens micropub.TokenVerifier
	// Sessions, when set, lets the owner's signed-in media page post forms without a token;
	// Forms answers them in HTML.
	Sessions micropub.Sessions
	Forms    micropub.FormAnswers
	// Site is the base URL posts live under, to name the posts that use a file.
	Site   *url.URL
	Limits micropub.Limits
	Log    *slog.Logger
	Now    func() time.Time
}

// lastWindow is how recent an upload must be for q=last, which clients ask right after
// uploading.
const lastWindow = 5 * time.Minute

// fieldLimit bounds the text fields (access_token, alt, action, url) of a media request.
const fieldLimit = 64 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	micropub.ServeEndpoint(w, r, h.serveQuery, h.servePost, h.fail)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	micropub.FailRequest(h.Log, w, r, err)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// mediaRequest is what a POST to the media endpoint carries.
type mediaRequest struct {
	upload      *Upload
	accessToken string
	csrf        string
	alt         string
	action      string
	url         string
}

func (h *Handler) servePost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// A POST with an Authorization header is never a form of the owner's pages: a bad token
	// in it is answered in JSON.
	auth, err := micropub.AuthorisePost(r, h.Tokens, h.Sessions, h.Site.String())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	html := h.Forms != nil && auth.WantsHTML()
	fail := auth.Fail(h.Forms, nil, h.fail)
	req, err := h.readRequest(w, r, auth)
	if err != nil {
		fail(w, r, err)
		return
	}
	if req.upload != nil {
		defer req.upload.Discard() // a no-op once committed
	}
	token, err := auth.Token(req.accessToken, req.csrf)
	if err != nil {
		fail(w, r, err)
		return
	}
	switch req.action {
	case "":
	case micropub.ActionDelete, micropub.ActionUpdate:
		// The scope that uploads (media, or create, which the Micro.blog app signs in with)
		// also deletes unused uploads and sets their alt text; delete alone still may delete.
		if !token.Allows(micropubd.ScopeMedia) && !(req.action == micropub.ActionDelete && token.Has(micropubd.ScopeDelete)) {
			fail(w, r, &micropub.Error{Status: http.StatusForbidden, Code: micropub.CodeInsufficientScope, Scope: micropubd.ScopeMedia,
				Description: req.action + " of an upload needs the media or create scope"})
			return
		}
		do := h.delete
		if req.action == micropub.ActionUpdate {
			do = func(ctx context.Context, rawURL string) error { return h.setAlt(ctx, rawURL, req.alt) }
		}
		if err := do(ctx, req.url); err != nil {
			fail(w, r, err)
			return
		}
		if html {
			h.Forms.Done(w, r, req.action, req.url)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		fail(w, r, micropub.InvalidRequest("unknown action %q; the media endpoint knows delete and update", req.action))
		return
	}
	if err := micropub.RequireScope(token, micropubd.ScopeMedia); err != nil {
		fail(w, r, err)
		return
	}
	if req.upload == nil {
		fail(w, r, micropub.InvalidRequest(`the request has no file: send multipart/form-data with a part named "file", or action=delete (or action=update with alt) and a url`))
		return
	}
	req.upload.Media.Alt = req.alt
	m, err := h.Media.Commit(ctx, req.upload)
	if err != nil {
		fail(w, r, err)
		return
	}
	if req.alt != "" && m.Alt != req.alt {
		// The same bytes were uploaded before: the newest alt text wins.
		if err := h.Media.Store.SetMediaAlt(ctx, m.Name, req.alt); err != nil {
			fail(w, r, err)
			return
		}
		m.Alt = req.alt
	}
	if html {
		h.Forms.Done(w, r, "upload", h.Media.URL(m))
		return
	}
	w.Header().Set("Location", h.Media.URL(m))
	micropub.WriteJSON(w, http.StatusCreated, h.item(m))
}

// readRequest reads a media POST: multipart (streamed, so a large file goes straight to a temp
// file next to the media folder), or a form-encoded or JSON action (delete, or update of the alt
// text). The action, url and alt may come in the query string instead of the body, with the
// body empty, as the Micro.blog app sends them.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request, auth *micropub.PostAuth) (*mediaRequest, error) {
	limits := h.Limits.WithDefaults()
	query := micropub.ActionQuery(r)
	contentType := r.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(contentType)
	if contentType == "" && query.Has("action") {
		mediaType, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return nil, micropub.InvalidRequest("the request needs a Content-Type: multipart/form-data to upload")
	}
	var req *mediaRequest
	switch mediaType {
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, limits.Upload+fieldLimit)
		req, err = h.readMultipart(r, auth)
	case "application/x-www-form-urlencoded", "application/json":
		req, err = readMediaAction(w, r, mediaType, limits.Body, query.Has("action"))
	default:
		return nil, &micropub.Error{Status: http.StatusUnsupportedMediaType, Code: micropub.CodeUnsupportedType,
			Description: "upload files as multipart/form-data with a part named \"file\""}
	}
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		field *string
		name  string
	}{{&req.action, "action"}, {&req.url, "url"}, {&req.alt, "alt"}} {
		if *f.field == "" {
			*f.field = query.Get(f.name)
		}
	}
	return req, nil
}

// readMediaAction reads the fields of a form-encoded or JSON media request.
func readMediaAction(w http.ResponseWriter, r *http.Request, mediaType string, limit int64, allowEmpty bool) (*mediaRequest, error) {
	body, err := micropub.ReadBody(w, r, limit, allowEmpty)
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	switch {
	case len(body) == 0:
	case mediaType == "application/json":
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
			return nil, micropub.InvalidRequest("the JSON body must be an object such as {\"action\": \"delete\", \"url\": \"...\"}")
		}
		for k, v := range doc {
			s, ok := v.(string)
			if !ok {
				return nil, micropub.InvalidRequest("%s must be a string", k)
			}
			fields[k] = s
		}
	default:
		values, err := micropub.ParseFormBody(body)
		if err != nil {
			return nil, err
		}
		for k, v := range values {
			fields[k] = v[0]
		}
	}
	return &mediaRequest{accessToken: fields["access_token"], csrf: fields[micropub.CSRFField], action: fields["action"], url: fields["url"],
		alt: strings.TrimSpace(fields["alt"])}, nil
}

// readMultipart streams the parts; the token (header, or an access_token part before the file)
// is checked before the file is received, so no one without one can make the server store bytes.
func (h *Handler) readMultipart(r *http.Request, auth *micropub.PostAuth) (*mediaRequest, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, micropub.InvalidRequest("the multipart body is malformed: %v", err)
	}
	req := &mediaRequest{}
	limits := h.Limits.WithDefaults()
	text := int64(0) // bytes of the parts that are not the file, held to the body limit in all
	fail := func(err error) (*mediaRequest, error) {
		if req.upload != nil {
			req.upload.Discard()
		}
		return nil, err
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(micropub.ReadError(err, limits.Upload))
		}
		name := part.FormName()
		if name == "file" || name == "file[]" || (part.FileName() != "" && req.upload == nil) {
			if req.upload != nil {
				return fail(micropub.InvalidRequest("send one file per upload"))
			}
			if _, err := auth.FileToken(req.accessToken, req.csrf,
				"no access token before the file: send it in an Authorization: Bearer header, or as an access_token field before the file"); err != nil {
				return fail(err)
			}
			u, err := h.Media.Receive(part)
			if err != nil {
				return fail(err)
			}
			req.upload = u
			continue
		}
		value, err := io.ReadAll(io.LimitReader(part, min(fieldLimit, limits.Body-text)+1))
		if err != nil {
			return fail(micropub.ReadError(err, limits.Upload))
		}
		text += int64(len(value))
		if text > limits.Body {
			return fail(micropub.TooLarge("the fields of the request beside the file", limits.Body, micropub.BodyLimitFlag))
		}
		if len(value) > fieldLimit {
			return fail(micropub.InvalidRequest("the field %q is too long", name))
		}
		switch name {
		case "access_token":
			req.accessToken = string(value)
		case micropub.CSRFField:
			req.csrf = string(value)
		case "alt", "mp-photo-alt":
			req.alt = strings.TrimSpace(string(value))
		case "action":
			req.action = string(value)
		case "url":
			req.url = string(value)
		}
	}
	return req, nil
}

// setAlt records the alt text of an upload; posts that show the file without alt text of
// their own use it.
func (h *Handler) setAlt(ctx context.Context, rawURL, alt string) error {
	name := h.Media.NameOf(rawURL)
	if name == "" {
		return micropub.InvalidRequest("%q is not a file of this media endpoint", rawURL)
	}
	if _, err := h.Media.Store.MediaByName(ctx, name); errors.Is(err, micropubd.ErrNotFound) {
		return micropub.InvalidRequest("there is no file at %s", rawURL)
	} else if err != nil {
		return err
	}
	return h.Media.Store.SetMediaAlt(ctx, name, strings.TrimSpace(alt))
}

// delete removes an upload that no post uses.
func (h *Handler) delete(ctx context.Context, rawURL string) error {
	name := h.Media.NameOf(rawURL)
	if name == "" {
		return micropub.InvalidRequest("%q is not a file of this media endpoint", rawURL)
	}
	paths, err := h.Media.Store.DeleteUnusedMedia(ctx, name, h.Media.URL(&micropubd.Media{Name: name}))
	if errors.Is(err, micropubd.ErrNotFound) {
		return micropub.InvalidRequest("there is no file at %s", rawURL)
	}
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		urls := make([]string, len(paths))
		for i, p := range paths {
			urls[i] = h.Site.String() + p
		}
		return micropub.InvalidRequest("the file is used by %s; remove it from the post first", strings.Join(urls, ", "))
	}
	return nil
}

func (h *Handler) serveQuery(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	if _, err := micropub.AuthoriseQuery(r, h.Tokens); err != nil {
		h.fail(w, r, err)
		return
	}
	switch q.Get("q") {
	case "config":
		micropub.WriteJSON(w, http.StatusOK, map[string]any{"q": []string{"config", "source", "last"}})
	case "last":
		list, err := h.Media.Store.ListMedia(ctx, 1, 0)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if len(list) == 0 || h.now().Sub(list[0].Created) > lastWindow {
			micropub.WriteJSON(w, http.StatusOK, map[string]any{})
			return
		}
		micropub.WriteJSON(w, http.StatusOK, h.item(list[0]))
	case "source":
		if q.Has("url") {
			name := h.Media.NameOf(q.Get("url"))
			m, err := h.Media.Store.MediaByName(ctx, name)
			if name == "" || errors.Is(err, micropubd.ErrNotFound) {
				h.fail(w, r, micropub.InvalidRequest("there is no file at %s", q.Get("url")))
				return
			}
			if err != nil {
				h.fail(w, r, err)
				return
			}
			micropub.WriteJSON(w, http.StatusOK, h.item(m))
			return
		}
		limit, offset, err := micropub.ListPage(q)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		list, err := h.Media.Store.ListMedia(ctx, limit, offset)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		items := make([]any, len(list))
		for i, m := range list {
			items[i] = h.item(m)
		}
		micropub.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
	case "":
		h.fail(w, r, micropub.InvalidRequest("ask a query: q=config, q=source or q=last"))
	default:
		h.fail(w, r, micropub.InvalidRequest("unknown query q=%s; the media endpoint answers config, source and last", q.Get("q")))
	}
}

// item describes an upload as q=source and the upload response give it.
func (h *Handler) item(m *micropubd.Media) map[string]any {
	it := map[string]any{
		"url":       h.Media.URL(m),
		"published": m.Created.Format(time.RFC3339),
		"mime_type": m.MIMEType,
		"size":      m.Size,
	}
	if m.Width > 0 && m.Height > 0 {
		it["width"], it["height"] = m.Width, m.Height
	}
	if m.Alt != "" {
		it["alt"] = m.Alt
	}
	return it
}
