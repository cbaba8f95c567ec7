package site

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Pages for visitors are rendered once and served from memory until the next write: a
// permalink or a homepage then costs a map lookup, not queries and a template, and no more as
// the archive grows. The database counts its committed writes (Posts.Generation); an entry
// rendered before the count moved is stale. The owner's pages (a session, a token) are never
// cached: they show drafts and the owner's bar.

// pageCacheBytes bounds what the cache holds; past it, it starts again empty. 32 MB is some
// 6,000 pages, and keeps the server (with the collector's headroom, see serve) within its
// 150 MB of memory when visitors read every page of a large archive.
const pageCacheBytes = 32 << 20

type pageCache struct {
	mu      sync.RWMutex
	gen     uint64
	size    int
	entries map[string]*cachedPage
}

type cachedPage struct {
	status int
	header http.Header
	body   []byte
	// modified is the Last-Modified of a page that answers conditional requests (a feed):
	// served from the cache, it still answers them, with 304.
	modified time.Time
}

func (c *pageCache) get(key string, gen uint64) *cachedPage {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return nil
	}
	return c.entries[key]
}

func (c *pageCache) put(key string, gen uint64, p *cachedPage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return // rendered before a write that a newer entry already reflects
	case gen > c.gen || c.entries == nil || c.size+len(p.body) > pageCacheBytes:
		c.gen, c.size, c.entries = gen, 0, map[string]*cachedPage{}
	}
	if old := c.entries[key]; old != nil {
		c.size -= len(old.body)
	}
	c.entries[key] = p
	c.size += len(p.body)
}

// recorder keeps what a page handler writes.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// Cached serves a page from the cache to visitors: GET or HEAD with no credentials of any
// kind (no Authorization header, no cookie), which see only what is public.
func (h *Handler) Cached(page http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			page(w, r)
			return
		}
		key := r.URL.RequestURI()
		gen := h.posts.Generation() // read before rendering: a write during it makes the entry stale
		if p := h.cache.get(key, gen); p != nil {
			p.write(w, r)
			return
		}
		rec := &recorder{header: http.Header{}}
		page(rec, plainGET(r))
		p := &cachedPage{status: rec.status, header: rec.header, body: rec.body.Bytes()}
		if p.status == 0 {
			p.status = http.StatusOK
		}
		if lm := p.header.Get("Last-Modified"); lm != "" {
			p.modified, _ = http.ParseTime(lm)
		}
		switch p.status {
		case http.StatusOK, http.StatusNotFound, http.StatusGone, http.StatusMovedPermanently:
			if p.header.Get("Cache-Control") != "private, no-store" {
				h.cache.put(key, gen, p)
			}
		}
		p.write(w, r)
	}
}

// plainGET is r as a plain GET. The cache keeps the whole page, whatever the request that
// made it asked for (HEAD, a 304 for its ETag, a range): a page answering those through
// http.ServeContent would write no body, or part of it. The kept page then answers r.
func plainGET(r *http.Request) *http.Request {
	g := r.Clone(r.Context())
	g.Method = http.MethodGet
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"} {
		g.Header.Del(h)
	}
	return g
}

func (p *cachedPage) write(w http.ResponseWriter, r *http.Request) {
	dst := w.Header()
	for k, v := range p.header {
		dst[k] = v
	}
	if p.status == http.StatusOK && !p.modified.IsZero() {
		// If-None-Match (the ETag is in the header), If-Modified-Since, HEAD and ranges.
		http.ServeContent(w, r, "", p.modified, bytes.NewReader(p.body))
		return
	}
	dst.Set("Content-Length", strconv.Itoa(len(p.body)))
	w.WriteHeader(p.status)
	w.Write(p.body)
}
