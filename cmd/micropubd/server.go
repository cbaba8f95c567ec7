package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/micropubd/micropubd/indieauth"
	"github.com/micropubd/micropubd/micropub"
	"github.com/micropubd/micropubd/site"
	"github.com/micropubd/micropubd/storage"
)

// serverConfig is everything the HTTP server is made from.
type serverConfig struct {
	BaseURL *url.URL
	Name    string
	Photo   string
	Limits  micropub.Limits
	// KeepLocation keeps GPS positions in uploaded JPEGs (stripped by default).
	KeepLocation bool
	SyndicateTo  []micropub.SyndicationTarget
	Location     *time.Location
	Now          func() time.Time // nil means time.Now; tests fix it
}

// newServer wires storage, the post and media services, the Micropub endpoint and the site
// into one handler.
func newServer(cfg serverConfig, db *storage.DB, log *slog.Logger) (http.Handler, error) {
	base := cfg.BaseURL.String()
	tokens := &indieauth.Tokens{Store: db, Me: base, Now: cfg.Now}
	posts := &micropub.Service{
		Store:       db,
		BaseURL:     cfg.BaseURL,
		Location:    cfg.Location,
		SyndicateTo: cfg.SyndicateTo,
		Now:         cfg.Now,
	}
	media := &micropub.MediaService{
		Store:        db,
		BaseURL:      cfg.BaseURL,
		MaxSize:      cfg.Limits.Upload,
		KeepLocation: cfg.KeepLocation,
		Now:          cfg.Now,
	}
	mediaEndpoint := &micropub.MediaHandler{Media: media, Tokens: tokens, Site: cfg.BaseURL, Limits: cfg.Limits, Log: log, Now: cfg.Now}
	mp := &micropub.Handler{
		Posts:         posts,
		Media:         media,
		Tokens:        tokens,
		Limits:        cfg.Limits,
		MediaEndpoint: base + "micropub/media",
		Log:           log,
	}
	isOwner := func(r *http.Request) bool {
		token := micropub.BearerToken(r)
		if token == "" {
			return false
		}
		_, err := tokens.Verify(r.Context(), token)
		return err == nil
	}
	pages, err := site.New(site.Config{
		URL:   cfg.BaseURL,
		Name:  cfg.Name,
		Photo: cfg.Photo,
		Links: []site.Link{{Rel: "micropub", Href: base + "micropub"}},
	}, db, isOwner, log)
	if err != nil {
		return nil, err
	}

	prefix := strings.TrimSuffix(cfg.BaseURL.Path, "/")
	r := mux.NewRouter()
	r.Handle(prefix+"/micropub", mp)
	r.Handle(prefix+"/micropub/media", mediaEndpoint)
	r.HandleFunc(prefix+"/media/{name}", func(w http.ResponseWriter, r *http.Request) {
		media.ServeFile(w, r, mux.Vars(r)["name"])
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(prefix+"/", pages.Home).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix(prefix+"/").HandlerFunc(pages.Post).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = http.HandlerFunc(pages.NotFound)
	return r, nil
}

// shutdownGrace is the time in-flight requests get to finish at shutdown.
const shutdownGrace = 30 * time.Second
