package micropub

import (
	"maps"
	"net/url"
	"sync"
)

// The post queries (q=source, q=category, q=config) are answered from memory until the next
// committed write: a client that polls the newest posts, or pages through them, then costs a
// map lookup rather than a listing and its JSON. The answers do not depend on the token that
// asked (every token speaks for the owner; its scope was checked before).

// answersBytes bounds what the answers hold; past it they start again empty.
const answersBytes = 16 << 20

type answers struct {
	mu    sync.Mutex
	gen   uint64
	size  int
	byKey map[string][]byte
}

// answerKey is the query without the token it may carry (access_token).
func answerKey(q url.Values) string {
	if q.Has("access_token") {
		q = maps.Clone(q)
		q.Del("access_token")
	}
	return q.Encode()
}

func (a *answers) get(key string, gen uint64) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen > a.gen {
		// A write since: drop what it made stale (it may show a post since deleted).
		a.gen, a.size, a.byKey = gen, 0, nil
	}
	if a.gen != gen {
		return nil
	}
	return a.byKey[key]
}

// put keeps an answer computed when the database was at gen, unless a newer write is known.
func (a *answers) put(key string, gen uint64, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen < a.gen || len(body) > answersBytes {
		return
	}
	if gen > a.gen || a.byKey == nil || a.size+len(body) > answersBytes {
		a.gen, a.size, a.byKey = gen, 0, map[string][]byte{}
	}
	a.size += len(body) - len(a.byKey[key])
	a.byKey[key] = body
}
