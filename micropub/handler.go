package micropub

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/micropubd/micropubd"
)

// Handler is the Micropub endpoint: POST creates, updates, deletes and undeletes; GET answers
// queries.
type Handler struct {
	Posts *Service
	// Media receives and stores the files of multipart creates (the media endpoint's storage).
	Media  Uploads
	Tokens TokenVerifier
	// Sessions, when set, lets the owner's signed-in pages post forms without a token;
	// Forms answers them in HTML.
	Sessions Sessions
	Forms    FormAnswers
	Limits   Limits
	// MediaEndpoint is the absolute URL of the media endpoint, advertised in q=config.
	MediaEndpoint string
	// Me is the site's URL, which a GET with a token reports whatever me the token was minted
	// with (a token from an older "micropubd token" may name http://localhost:8080/).
	Me  string
	Log *slog.Logger
	// Generation, when set, counts the committed writes (storage's Generation): the post
	// queries' answers are kept until it moves.
	Generation func() uint64
	answers    answers
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ServeEndpoint(w, r, h.serveQuery, h.servePost, h.fail)
}

// ServeEndpoint is what the Micropub and media endpoints share: CORS, GET and HEAD for
// queries, POST for actions, and a JSON error for other methods.
func ServeEndpoint(w http.ResponseWriter, r *http.Request, query, post http.HandlerFunc,
	fail func(http.ResponseWriter, *http.Request, error)) {
	allowCORS(w)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		query(w, r)
	case http.MethodPost:
		post(w, r)
	case http.MethodOptions:
		allowCORSPreflight(w)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
		fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeInvalidRequest,
			Description: r.Method + " is not supported here; use GET for queries and POST for actions"})
	}
}

// allowCORS lets browser-based clients on other origins call the endpoint. Tokens travel in
// headers or bodies, never in cookies, so no credentials are allowed.
func allowCORS(w http.ResponseWriter) {
	// Assigned rather than Set: the names are canonical already, and every Micropub answer
	// carries them.
	h := w.Header()
	h["Access-Control-Allow-Origin"] = []string{"*"}
	h["Access-Control-Expose-Headers"] = []string{"Location, Link, WWW-Authenticate"}
}

// allowCORSPreflight answers a browser's preflight (OPTIONS) request: which methods and
// headers the request it asks about may use, for a day. Only a preflight's answer is read for
// these, so other answers go without them.
func allowCORSPreflight(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
}

func (h *Handler) log() *slog.Logger { return orDefault(h.Log) }

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	FailRequest(h.log(), w, r, err)
}

func orDefault(log *slog.Logger) *slog.Logger {
	if log != nil {
		return log
	}
	return slog.Default()
}

// FailRequest answers with err and logs to log (nil: the default logger) what the client cannot
// be told (unless the client went away, which is no failure of the server).
func FailRequest(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	log = orDefault(log)
	var e *Error
	switch {
	case errors.As(err, &e) || r.Context().Err() != nil:
	case errors.Is(err, micropubd.ErrNoSpace):
		log.WarnContext(r.Context(), "write refused: the disk is full", "path", r.URL.Path, "method", r.Method, "err", err)
	default:
		log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "method", r.Method, "err", err)
	}
	writeError(w, err)
}

func (h *Handler) servePost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// A POST with an Authorization header is never a form of the owner's pages: a bad token
	// in it is answered in JSON.
	auth, err := AuthorisePost(r, h.Tokens, h.Sessions, h.Posts.BaseURL.String())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fail := auth.Fail(h.Forms, nil, h.fail)
	req, err := ParseRequest(w, r, h.Limits, &uploadAuthorizer{h: h, auth: auth})
	if err != nil {
		fail(w, r, err)
		return
	}
	defer discardFiles(req.Files) // a no-op for files that were stored
	fail = auth.Fail(h.Forms, req.Form, h.fail)
	token, err := auth.Token(req.AccessToken, req.CSRF)
	if err != nil {
		fail(w, r, err)
		return
	}
	// done answers a success: the status a client expects, or for the owner's pages a
	// redirect to where the result is seen.
	done := func(status int, location string) {
		if h.Forms != nil && auth.WantsHTML() {
			h.Forms.Done(w, r, req.Action, location)
			return
		}
		if location != "" && status == http.StatusCreated {
			w.Header().Set("Location", location)
		}
		w.WriteHeader(status)
	}
	switch req.Action {
	case ActionCreate:
		h.create(w, r, token, req, fail, done)
	case ActionUpdate:
		if err := RequireScope(token, micropubd.ScopeUpdate); err != nil {
			fail(w, r, err)
			return
		}
		res, err := h.Posts.Update(ctx, req)
		if err != nil {
			fail(w, r, err)
			return
		}
		msg := "post updated"
		if res.Unchanged {
			msg = "post unchanged by an update"
		}
		u := h.Posts.URL(res.Post)
		h.log().InfoContext(ctx, msg, "url", u, "client_id", token.ClientID)
		if res.Moved {
			done(http.StatusCreated, u)
			return
		}
		done(http.StatusNoContent, u)
	case ActionDelete, ActionUndelete:
		scope, do := micropubd.ScopeDelete, h.Posts.Delete
		if req.Action == ActionUndelete {
			scope, do = micropubd.ScopeUndelete, h.Posts.Undelete
		}
		if err := RequireScope(token, scope); err != nil {
			fail(w, r, err)
			return
		}
		p, err := do(ctx, req.URL)
		if err != nil {
			fail(w, r, err)
			return
		}
		u := h.Posts.URL(p)
		h.log().InfoContext(ctx, "post "+req.Action+"d", "url", u, "client_id", token.ClientID)
		done(http.StatusNoContent, u)
	}
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, token *micropubd.Token, req *Request,
	fail func(http.ResponseWriter, *http.Request, error), done func(status int, location string)) {
	ctx := r.Context()
	var opts CreateOptions
	if err := RequireScope(token, micropubd.ScopeCreate); err != nil {
		if !token.Allows(micropubd.ScopeDraft) {
			fail(w, r, err)
			return
		}
		opts.DraftOnly = true
	}
	if len(req.Files) > 0 {
		// Files already passed uploadAuthorizer's check; their names (and so URLs) are known
		// before they are stored, and they are stored only once the post is known valid.
		for _, f := range req.Files {
			req.Properties[f.Property] = append(req.Properties[f.Property], f.Upload.URL())
		}
		opts.BeforeStore = func() error {
			for _, f := range req.Files {
				if err := f.Upload.Commit(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	start := time.Now()
	p, err := h.Posts.Create(ctx, req, opts)
	if err != nil {
		fail(w, r, err)
		return
	}
	u := h.Posts.URL(p)
	h.log().InfoContext(ctx, "post created", "url", u, "type", p.PostType,
		"client_id", token.ClientID, "took", time.Since(start))
	h.rememberAlt(r, p)
	done(http.StatusCreated, u)
}

// rememberAlt copies the alt text a post gives its uploaded photos to the media library, where
// clients that list uploads show it. It is a courtesy: failing it does not fail the post.
func (h *Handler) rememberAlt(r *http.Request, p *micropubd.Post) {
	for _, v := range p.Properties["photo"] {
		photo, ok := v.(map[string]any)
		if !ok {
			continue
		}
		value, _ := photo["value"].(string)
		alt, _ := photo["alt"].(string)
		if name := h.Media.NameOf(value); name != "" && alt != "" {
			if err := h.Media.SetMediaAlt(r.Context(), name, alt); err != nil {
				h.log().WarnContext(r.Context(), "could not record alt text", "file", name, "err", err)
			}
		}
	}
}

// uploadAuthorizer receives the files of a multipart create, once the request's token allows
// uploads: a file from a client without a valid token is refused before a byte is stored.
type uploadAuthorizer struct {
	h     *Handler
	auth  *PostAuth // for the owner's pages, the csrf field before the files stands for the token
	token *micropubd.Token
}

func (u *uploadAuthorizer) ReceiveFile(r io.Reader, fields map[string][]string) (Upload, error) {
	if u.token == nil {
		t, err := u.auth.FileToken(first(fields["access_token"]), first(fields[CSRFField]),
			"no access token before the files: send it in an Authorization: Bearer header, or as an access_token field before the files")
		if err != nil {
			return nil, err
		}
		u.token = t
	}
	return u.h.Media.Receive(r)
}
