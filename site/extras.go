package site

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"time"
)

// Robots serves robots.txt: everything public may be crawled; the sign-in pages, the APIs,
// the notes app and shared notes (whose pages also say noindex) may not. It names the sitemap.
func (h *Handler) Robots(w http.ResponseWriter, r *http.Request) {
	base := h.cfg.URL.Path
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "User-agent: *\nAllow: %s\n", base)
	for _, p := range []string{"auth", "token", "micropub", "notes", "s/", "webmention"} {
		fmt.Fprintf(w, "Disallow: %s%s\n", base, p)
	}
	fmt.Fprintf(w, "\nSitemap: %ssitemap.xml\n", h.cfg.URL.String())
}

// sitemapLimit is the most URLs one sitemap file may list.
const sitemapLimit = 50000

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// Sitemap serves sitemap.xml: the homepage and the newest public posts (at most 50,000, the
// format's limit), with the date each last changed, read from the feed's index.
func (h *Handler) Sitemap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	changed, err := h.posts.SiteChanged(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	enc := xml.NewEncoder(&buf)
	write := func(u sitemapURL) error {
		if err := enc.EncodeElement(u, xml.StartElement{Name: xml.Name{Local: "url"}}); err != nil {
			return err
		}
		return enc.Flush()
	}
	if err := write(sitemapURL{Loc: h.cfg.URL.String(), LastMod: changed.Format(time.RFC3339)}); err != nil {
		h.serverError(w, r, err)
		return
	}
	err = h.posts.ListedPosts(ctx, sitemapLimit-1, func(path string, published, updated time.Time) error {
		last := published
		if updated.After(last) {
			last = updated
		}
		return write(sitemapURL{Loc: h.cfg.URL.String() + path, LastMod: last.Format(time.RFC3339)})
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	buf.WriteString("\n</urlset>\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", changed, bytes.NewReader(buf.Bytes()))
}

// Favicon answers /favicon.ico, which browsers ask for on their own: the owner's photo, or
// the site's default icon.
func (h *Handler) Favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.Redirect(w, r, h.site().Favicon, http.StatusFound)
}
