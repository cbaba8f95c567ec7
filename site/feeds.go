package site

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/feed"
)

// Feed file names, under the base URL (the site's feeds) or under /tags/NAME/ (a tag's).
const (
	feedRSS  = "feed.xml"
	feedAtom = "feed.atom"
	feedJSON = "feed.json"
)

// feedURLs are the addresses of one feed in its three formats.
type feedURLs struct {
	RSS, Atom, JSON string
}

// feedURLs returns the site's feeds (tag "") or a tag's.
func (h *Handler) feedURLs(tag string) feedURLs {
	dir := h.cfg.URL.String()
	if tag != "" {
		dir = h.tagURL(tag) + "/"
	}
	return feedURLs{RSS: dir + feedRSS, Atom: dir + feedAtom, JSON: dir + feedJSON}
}

// feedLink is a <link rel="alternate"> to a feed.
type feedLink struct {
	Type, Title, Href string
}

func (f feedURLs) links(title string) []feedLink {
	return []feedLink{
		{Type: "application/rss+xml", Title: title + " (RSS)", Href: f.RSS},
		{Type: "application/atom+xml", Title: title + " (Atom)", Href: f.Atom},
		{Type: "application/feed+json", Title: title + " (JSON Feed)", Href: f.JSON},
	}
}

// Feed serves the site's feed in the format its name asks for.
func (h *Handler) Feed(w http.ResponseWriter, r *http.Request) {
	h.serveFeed(w, r, "", path.Base(r.URL.Path))
}

// serveFeed answers a feed of the newest public posts (of a tag, or all), in one of the
// three formats. It reads FeedSize posts from an index and answers conditional requests: the
// ETag is a hash of the feed, Last-Modified the site's last change.
func (h *Handler) serveFeed(w http.ResponseWriter, r *http.Request, tag, name string) {
	ctx := r.Context()
	changed, err := h.posts.SiteChanged(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var posts []*micropubd.Post
	if tag == "" {
		posts, err = h.posts.ListFeed(ctx, nil, h.cfg.FeedSize, 0)
	} else {
		posts, err = h.posts.ListTagged(ctx, tag, nil, h.cfg.FeedSize, 0)
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if tag != "" && len(posts) == 0 {
		h.renderError(w, r, http.StatusNotFound, "Not found", "No posts are tagged "+tag+".")
		return
	}
	f := h.buildFeed(ctx, tag, posts)
	var body []byte
	var contentType string
	switch name {
	case feedRSS:
		body, err = feed.RSS(f)
		contentType = feed.TypeRSS
	case feedAtom:
		body, err = feed.Atom(f)
		contentType = feed.TypeAtom
	case feedJSON:
		body, err = feed.JSON(f)
		contentType = feed.TypeJSON
	default:
		h.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Access-Control-Allow-Origin", "*") // readers in the browser may fetch it
	// ServeContent answers If-None-Match and If-Modified-Since with 304, and HEAD.
	http.ServeContent(w, r, "", changed, bytes.NewReader(body))
}

// buildFeed turns posts into a feed: full content with the media, context and place a page
// shows, categories, and the uploads' types and sizes.
func (h *Handler) buildFeed(ctx context.Context, tag string, posts []*micropubd.Post) *feed.Feed {
	urls := h.feedURLs(tag)
	f := &feed.Feed{
		Title: h.cfg.Name, Description: "Posts by " + h.cfg.Name, HomeURL: h.cfg.URL.String(),
		RSSURL: urls.RSS, AtomURL: urls.Atom, JSONURL: urls.JSON, Icon: h.cfg.Photo,
		Author: feed.Author{Name: h.cfg.Name, URL: h.cfg.URL.String(), Photo: h.cfg.Photo},
	}
	if tag != "" {
		f.Title = h.cfg.Name + " · #" + tag
		f.Description = "Posts by " + h.cfg.Name + " tagged " + tag
		f.HomeURL = h.tagURL(tag)
	}
	views := h.views(ctx, true, posts)
	for _, p := range posts {
		v := views.post(p)
		item := feed.Item{URL: v.URL, Published: postTime(p, "published", p.Published), Summary: v.SummaryText}
		if len(v.Names) > 0 {
			item.Title = v.Names[0]
		}
		if !p.Updated.IsZero() {
			item.Updated = postTime(p, "updated", p.Updated)
		}
		for _, c := range v.Categories {
			item.Categories = append(item.Categories, c.Text)
		}
		for _, m := range v.Media {
			if m.URL == "" {
				continue
			}
			a := feed.Attachment{URL: m.URL, Type: m.Type, Length: m.Size}
			if a.Type == "" {
				a.Type = guessType(m.URL, m.Kind)
			}
			item.Attachments = append(item.Attachments, a)
			if item.Image == "" && m.Kind == "photo" {
				item.Image = m.URL
			}
		}
		html, err := h.pages.Fragment("post", "feeditem", v)
		if err != nil {
			h.log.ErrorContext(ctx, "feed item failed", "url", v.URL, "err", err)
			continue
		}
		item.HTML = html
		if item.Published.After(f.Updated) {
			f.Updated = item.Published
		}
		if item.Updated.After(f.Updated) {
			f.Updated = item.Updated
		}
		f.Items = append(f.Items, item)
	}
	return f
}

// postTime is a post's time as posted, with its offset; the stored UTC time when the
// property is missing or unreadable.
func postTime(p *micropubd.Post, name string, stored time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, p.Properties.First(name)); err == nil {
		return t
	}
	return stored
}

// guessType names the type of a file on another site by its extension.
func guessType(rawURL, kind string) string {
	if u, err := url.Parse(rawURL); err == nil {
		if t := mime.TypeByExtension(path.Ext(u.Path)); t != "" {
			return t
		}
	}
	switch kind {
	case "photo":
		return "image/jpeg"
	case "video":
		return "video/mp4"
	case "audio":
		return "audio/mpeg"
	}
	return "application/octet-stream"
}
