package storage

import (
	"sync"
	"time"

	"github.com/micropubd/micropubd"
)

// tokenCache keeps tokens found by hash in memory, so that a request's token check reads no
// database. Every write to the tokens table goes through this package and empties the cache
// once it has committed (revocations, rotations, replays); the generation counter keeps a
// lookup that read the table before such a commit from putting its stale copy back after it.
// Unknown tokens are never cached: a token minted by another process ("micropubd token") is
// found at its first use. Entries also expire after tokenCacheTTL, which bounds how long a
// change made by another process to a known token (none does so today) can go unseen.
type tokenCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[[32]byte]tokenEntry
	now     func() time.Time
}

type tokenEntry struct {
	token  micropubd.Token
	stored time.Time
}

const (
	tokenCacheTTL = time.Minute
	// tokenCacheMax bounds the memory: past it, the cache starts again empty.
	tokenCacheMax = 4096
)

func newTokenCache() *tokenCache {
	return &tokenCache{entries: map[[32]byte]tokenEntry{}, now: time.Now}
}

// get returns a copy of the cached token of hash, and the generation to store a fresh read with.
func (c *tokenCache) get(hash []byte) (*micropubd.Token, uint64) {
	key, ok := cacheKey(hash)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !ok {
		return nil, c.gen
	}
	e, found := c.entries[key]
	if !found || c.now().Sub(e.stored) > tokenCacheTTL {
		return nil, c.gen
	}
	t := e.token
	return &t, c.gen
}

// put stores a copy of t, read from the table at generation gen, unless the tokens changed since.
func (c *tokenCache) put(gen uint64, t *micropubd.Token) {
	key, ok := cacheKey(t.Hash)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= tokenCacheMax {
		clear(c.entries)
	}
	c.entries[key] = tokenEntry{token: *t, stored: c.now()}
}

// touched records a token's last use in its cached copy, as TouchToken does in the table.
func (c *tokenCache) touched(id int64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.token.ID == id {
			e.token.LastUsed = at.UTC()
			c.entries[k] = e
		}
	}
}

// invalidate forgets every cached token; lookups in flight will not store what they read.
func (c *tokenCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

func cacheKey(hash []byte) ([32]byte, bool) {
	var k [32]byte
	if len(hash) != len(k) {
		return k, false
	}
	copy(k[:], hash)
	return k, true
}
