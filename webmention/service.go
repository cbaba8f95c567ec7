// Package webmention implements the W3C Webmention Recommendation both ways. Receiving: the
// endpoint answers 202 at once and queues the webmention in SQLite; a worker fetches the
// source (through the outbound guard), checks that it links to the target, classifies it from
// its microformats2 as a reply, like, repost, bookmark or mention, and keeps it as an h-cite in
// the target post's comment, like, repost, bookmark or mention property. Sending: every change
// to a public post queues a webmention for each page it links to, in the transaction that
// wrote the post; a worker discovers each target's endpoint and sends, with retries and
// backoff. Both queues survive restarts: a job is done only once its outcome is written.
package webmention

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/outbound"
)

// Store is what webmentions need from storage. Calls made with the context InTx gives run in
// its transaction.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	PostByPath(ctx context.Context, path string) (*micropubd.Post, error)
	PostByID(ctx context.Context, id int64) (*micropubd.Post, error)
	UpdatePost(ctx context.Context, path string, change func(*micropubd.Post) error) (*micropubd.Post, error)

	QueueWebmention(ctx context.Context, m *micropubd.Webmention) (bool, error)
	PendingWebmentions(ctx context.Context) (int, error)
	DueWebmentions(ctx context.Context, now time.Time, limit int) ([]*micropubd.Webmention, error)
	NextWebmentionDue(ctx context.Context) (time.Time, bool, error)
	WebmentionBySource(ctx context.Context, source string, postID int64) (*micropubd.Webmention, error)
	SaveWebmention(ctx context.Context, m *micropubd.Webmention) (bool, error)

	HasSends(ctx context.Context, postID int64) (bool, error)
	QueueSends(ctx context.Context, postID int64, source, version string, targets []string, due time.Time) error
	DueSends(ctx context.Context, now time.Time, limit int) ([]*micropubd.WebmentionSend, error)
	NextSendDue(ctx context.Context) (time.Time, bool, error)
	SaveSend(ctx context.Context, s *micropubd.WebmentionSend) error
}

// Sessions is the owner's sign-in, which alone may delete a received webmention.
type Sessions interface {
	IsOwner(r *http.Request) bool
	ValidSessionWrite(r *http.Request, token string) bool
}

// Config are the service's settings; zero values take the defaults.
type Config struct {
	// BaseURL is the site's public URL, ending in "/": targets must be under it, and sources
	// of webmentions sent are built from it.
	BaseURL *url.URL
	// Outbound is where fetches may connect (never private addresses unless allowed).
	Outbound outbound.Policy
	// FetchTimeout bounds each fetch (default 10 s); MaxPageBytes what is read of a page
	// (default 1 MB).
	FetchTimeout time.Duration
	MaxPageBytes int64
	// PerHostPerMinute is how many webmentions one source host may send a minute (default
	// 30); MaxPending how many may wait for verification at once (default 10,000).
	PerHostPerMinute int
	MaxPending       int
	// Retry is the wait before the first retry, multiplied by 4 at each further one (default
	// 1 minute); MaxAttempts how many tries a send (default 6) or a verification (default 4) gets.
	Retry       time.Duration
	MaxAttempts int
	// Workers run at once in each queue (default 4); Poll is the longest a queue sleeps
	// without being woken (default 1 minute).
	Workers int
	Poll    time.Duration
	Now     func() time.Time
	Log     *slog.Logger
}

// Service receives, verifies and sends webmentions.
type Service struct {
	cfg      Config
	store    Store
	sessions Sessions
	fetch    *http.Client // GETs of sources and targets: redirects followed, the guard on every hop
	post     *http.Client // POSTs to endpoints: no redirects
	limiter  *hostLimiter
	content  *sanitiser
	incoming *queue[*micropubd.Webmention]
	outgoing *queue[*micropubd.WebmentionSend]
}

// New makes the service; sessions may be nil (no owner deletions).
func New(cfg Config, store Store, sessions Sessions) *Service {
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = 10 * time.Second
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = 1 << 20
	}
	if cfg.PerHostPerMinute <= 0 {
		cfg.PerHostPerMinute = 30
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10000
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg:      cfg,
		store:    store,
		sessions: sessions,
		fetch:    cfg.Outbound.Client(outbound.Options{Timeout: cfg.FetchTimeout, MaxRedirects: 5}),
		post:     cfg.Outbound.Client(outbound.Options{Timeout: cfg.FetchTimeout}),
		limiter:  &hostLimiter{perMinute: cfg.PerHostPerMinute, now: cfg.Now, hosts: map[string]*bucket{}},
		content:  newSanitiser(),
	}
	s.incoming = &queue[*micropubd.Webmention]{
		name: "webmentions received", work: s.verify, wake: make(chan struct{}, 1),
		due: func(ctx context.Context, now time.Time, limit int) ([]*micropubd.Webmention, error) {
			return s.store.DueWebmentions(ctx, now, limit)
		},
		next: func(ctx context.Context) (time.Time, bool, error) { return s.store.NextWebmentionDue(ctx) },
		key:  func(m *micropubd.Webmention) int64 { return m.ID },
	}
	s.outgoing = &queue[*micropubd.WebmentionSend]{
		name: "webmentions to send", work: s.send, wake: make(chan struct{}, 1),
		due: func(ctx context.Context, now time.Time, limit int) ([]*micropubd.WebmentionSend, error) {
			return s.store.DueSends(ctx, now, limit)
		},
		next: func(ctx context.Context) (time.Time, bool, error) { return s.store.NextSendDue(ctx) },
		key:  func(m *micropubd.WebmentionSend) int64 { return m.ID },
	}
	return s
}

// Run works through both queues until ctx ends, and returns once the jobs under way have
// stopped. What was not finished is still queued, and is done at the next start.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){
		func(ctx context.Context) { s.incoming.run(ctx, s.cfg) },
		func(ctx context.Context) { s.outgoing.run(ctx, s.cfg) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
	wg.Wait()
}

// backoff is the wait before the next try after attempts failed ones.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.cfg.Retry
	for i := 1; i < attempts && d < 24*time.Hour; i++ {
		d *= 4
	}
	return min(d, 24*time.Hour)
}

func (s *Service) maxAttempts(def int) int {
	if s.cfg.MaxAttempts > 0 {
		return s.cfg.MaxAttempts
	}
	return def
}

// queue runs the jobs of one durable queue: it reads the due ones from storage, works on up
// to cfg.Workers at once (never the same job twice at a time), and sleeps until the next is
// due, it is woken, or cfg.Poll has passed.
type queue[T any] struct {
	name string
	due  func(ctx context.Context, now time.Time, limit int) ([]T, error)
	next func(ctx context.Context) (time.Time, bool, error)
	work func(ctx context.Context, job T)
	key  func(T) int64
	wake chan struct{}
}

// signal wakes the queue without waiting.
func (q *queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue[T]) run(ctx context.Context, cfg Config) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inFlight = map[int64]bool{}
		slots    = make(chan struct{}, cfg.Workers)
	)
	defer wg.Wait()
	for {
		jobs, err := q.due(ctx, cfg.Now(), 4*cfg.Workers)
		if err != nil && ctx.Err() == nil {
			cfg.Log.ErrorContext(ctx, "reading the queue failed", "queue", q.name, "err", err)
		}
		for _, job := range jobs {
			mu.Lock()
			busy := inFlight[q.key(job)]
			mu.Unlock()
			if busy {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			mu.Lock()
			inFlight[q.key(job)] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.work(ctx, job)
				mu.Lock()
				delete(inFlight, q.key(job))
				mu.Unlock()
				<-slots
				q.signal()
			}()
		}
		wait := cfg.Poll
		if next, ok, err := q.next(ctx); err == nil && ok {
			mu.Lock()
			busy := len(inFlight) > 0
			mu.Unlock()
			// A due job already being worked on is no reason to wake: its worker signals.
			if d := next.Sub(cfg.Now()); d > 0 && d < wait || d <= 0 && !busy {
				wait = max(d, 5*time.Millisecond)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-q.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// hostLimiter counts webmentions per source host: a bucket of perMinute tokens per host,
// refilled continuously.
type hostLimiter struct {
	mu        sync.Mutex
	perMinute int
	now       func() time.Time
	hosts     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxTrackedHosts = 10000

// allow takes a token of host's bucket, if one is left.
func (l *hostLimiter) allow(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	rate := float64(l.perMinute) / float64(time.Minute)
	if len(l.hosts) >= maxTrackedHosts {
		for h, b := range l.hosts { // forget the hosts whose buckets are full again
			if b.tokens+float64(now.Sub(b.at))*rate >= float64(l.perMinute) {
				delete(l.hosts, h)
			}
		}
	}
	b, ok := l.hosts[host]
	if !ok {
		if len(l.hosts) >= maxTrackedHosts {
			return false // too many hosts at once: a flood
		}
		b = &bucket{tokens: float64(l.perMinute), at: now}
		l.hosts[host] = b
	}
	b.tokens = min(float64(l.perMinute), b.tokens+float64(now.Sub(b.at))*rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
