package site

import (
	"sync"

	"github.com/micropubd/micropubd"
)

// pageAnchors remember where the next page of a listing (the homepage, a tag page) starts:
// the newest-first key of the last post on the page just read, kept for the generation of
// the archive it was read at. A reader, or a crawler, walking "Older posts" then gets page n
// by a seek from there, instead of skipping (n-1)·PageSize posts, so that page 5,000 costs
// what page 2 does. The page URLs stay ?page=N: any write moves the generation and forgets
// every anchor, so an anchored page is the page that offset gives, but for a write committed
// while it is read (then that one answer may be off, as a reader paging while the owner
// posts would see anyway; the next view reads by offset again).
type pageAnchors struct {
	mu  sync.Mutex
	gen uint64
	m   map[anchorKey]micropubd.Cursor
}

type anchorKey struct {
	listing string // "" for the homepage, the tag for a tag page
	page    int
}

// maxAnchors bounds what is kept: past it, the anchors start over.
const maxAnchors = 4096

// get returns where page starts in listing, if a page before it was read at gen.
func (a *pageAnchors) get(listing string, page int, gen uint64) (micropubd.Cursor, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen != a.gen {
		return micropubd.Cursor{}, false
	}
	c, ok := a.m[anchorKey{listing, page}]
	return c, ok
}

// put records that page starts after c in listing, as read at gen. An anchor read at an
// older generation than those kept is dropped; a newer one replaces them all.
func (a *pageAnchors) put(listing string, page int, gen uint64, c micropubd.Cursor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case gen < a.gen:
		return
	case gen > a.gen || a.m == nil || len(a.m) >= maxAnchors:
		a.gen, a.m = gen, map[anchorKey]micropubd.Cursor{}
	}
	a.m[anchorKey{listing, page}] = c
}

// listPage reads page n of a listing (PageSize posts, and one more to tell whether there is
// a next page): from its anchor when there is one, else by offset; and anchors page n+1.
// list reads after a cursor (nil: from the newest) and past an offset.
func (h *Handler) listPage(listing string, n int, list func(after *micropubd.Cursor, offset int) ([]*micropubd.Post, error)) ([]*micropubd.Post, error) {
	gen := h.posts.Generation() // read first: a write during the read makes what it anchors stale
	var posts []*micropubd.Post
	var err error
	if c, ok := h.anchors.get(listing, n, gen); ok {
		posts, err = list(&c, 0)
	} else {
		posts, err = list(nil, (n-1)*h.cfg.PageSize)
	}
	// Anchor the next page only from a read no write overlapped.
	if err == nil && len(posts) > h.cfg.PageSize && h.posts.Generation() == gen {
		last := posts[h.cfg.PageSize-1]
		h.anchors.put(listing, n+1, gen, micropubd.Cursor{Published: last.Published, ID: last.ID})
	}
	return posts, err
}
