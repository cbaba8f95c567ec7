package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// httpLimits bound what one client can hold of the server: time for a request, for its answer,
// the pace of an upload or a download, and connections at once.
type httpLimits struct {
	// ReadHeader is the time to send the request line and headers.
	ReadHeader time.Duration
	// Read is the time to send a whole request, body included, but for uploads.
	Read time.Duration
	// Write is the time to receive an answer, but for media downloads.
	Write time.Duration
	// TransferGrace and TransferRate are what uploads (multipart requests) and media
	// downloads get instead: after the grace, they must keep up an average of the rate.
	TransferGrace time.Duration
	TransferRate  int64 // bytes a second
	// Idle is how long a kept-alive connection waits for its next request.
	Idle time.Duration
	// ConnsPerClient caps the connections one client address holds at once; 0: no cap.
	ConnsPerClient int
}

// defaultHTTPLimits are the server's; tests shorten them.
func defaultHTTPLimits() httpLimits {
	return httpLimits{
		ReadHeader:     10 * time.Second,
		Read:           30 * time.Second,
		Write:          60 * time.Second,
		TransferGrace:  30 * time.Second,
		TransferRate:   16 << 10,
		Idle:           2 * time.Minute,
		ConnsPerClient: 256,
	}
}

// newHTTPServer serves handler within lim. mediaPrefix is the path under which uploaded files
// are served (their downloads get the transfer rate instead of the write timeout).
func newHTTPServer(handler http.Handler, lim httpLimits, mediaPrefix string, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           paced(handler, lim, mediaPrefix),
		ReadHeaderTimeout: lim.ReadHeader,
		ReadTimeout:       lim.Read,
		WriteTimeout:      lim.Write,
		IdleTimeout:       lim.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// paced lifts the server's read and write timeouts for uploads (multipart POSTs) and media
// downloads, which may take long, and holds them to a minimum average rate instead: a body
// trickled at a byte a second is cut off after the grace, whatever its kind.
func paced(h http.Handler, lim httpLimits, mediaPrefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && isMultipart(r.Header.Get("Content-Type")):
			p := newPacer(w, lim)
			r.Body = &pacedBody{ReadCloser: r.Body, p: p}
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, mediaPrefix):
			w = &pacedWriter{ResponseWriter: w, p: newPacer(w, lim)}
		}
		h.ServeHTTP(w, r)
	})
}

func isMultipart(contentType string) bool {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "multipart/") {
		return false // the common case, without parsing
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "multipart/form-data"
}

// pacer moves a connection's deadlines along as bytes pass: after n bytes, the transfer has
// until start + grace + n/rate, so a client that keeps up the rate never meets it.
type pacer struct {
	rc    *http.ResponseController
	lim   httpLimits
	start time.Time
	n     int64
	until time.Time
}

func newPacer(w http.ResponseWriter, lim httpLimits) *pacer {
	p := &pacer{rc: http.NewResponseController(w), lim: lim, start: time.Now()}
	p.advance(0)
	return p
}

func (p *pacer) advance(n int) {
	p.n += int64(n)
	until := p.start.Add(p.lim.TransferGrace + time.Duration(float64(p.n)/float64(p.lim.TransferRate)*float64(time.Second)))
	if until.Sub(p.until) < 100*time.Millisecond {
		return // not worth a deadline change yet
	}
	p.until = until
	// Errors mean a writer without deadlines (a test recorder): nothing to move.
	p.rc.SetReadDeadline(until)
	p.rc.SetWriteDeadline(until.Add(p.lim.Write))
}

type pacedBody struct {
	io.ReadCloser
	p *pacer
}

func (b *pacedBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	b.p.advance(n)
	return n, err
}

type pacedWriter struct {
	http.ResponseWriter
	p *pacer
}

func (w *pacedWriter) Write(buf []byte) (int, error) {
	n, err := w.ResponseWriter.Write(buf)
	w.p.advance(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientCap is a listener that lets one client address hold at most max connections at once;
// the next is answered 429 and closed. Browsers open 6 to a host and the load tool 32, so the
// default of 256 only stops a client that means harm.
type clientCap struct {
	net.Listener
	max   int
	log   *slog.Logger
	mu    sync.Mutex
	conns map[string]int
}

func capClients(l net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		return l
	}
	return &clientCap{Listener: l, max: max, log: log, conns: map[string]int{}}
}

func (l *clientCap) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			host = c.RemoteAddr().String()
		}
		l.mu.Lock()
		if l.conns[host] >= l.max {
			l.mu.Unlock()
			l.log.Warn("connection refused: the client holds too many", "client", host, "max", l.max)
			go refuseConn(c, l.max)
			continue
		}
		l.conns[host]++
		l.mu.Unlock()
		return &cappedConn{Conn: c, release: func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.conns[host]--; l.conns[host] <= 0 {
				delete(l.conns, host)
			}
		}}, nil
	}
}

// refuseConn answers a connection over the cap with a 429, briefly, and closes it. It reads
// the request's head first: an answer sent before the request is one the client has not asked
// for yet, and HTTP clients drop it (Go's logs "Unsolicited response received on idle HTTP
// channel" and fails the request). After answering it stops writing and reads what the client
// still sends (a body), so that closing does not reset the connection before the answer is read.
func refuseConn(c net.Conn, max int) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	head := bufio.NewReaderSize(c, 4096)
	for {
		line, err := head.ReadSlice('\n')
		if err != nil || len(bytes.TrimSpace(line)) == 0 {
			break // the blank line after the headers, or a head too long, too slow or cut off
		}
	}
	body := fmt.Sprintf(`{"error":"too_many_connections","error_description":"this address holds %d connections to the server already, the most it may; close some and try again"}`+"\n", max)
	fmt.Fprintf(c, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		io.Copy(io.Discard, io.LimitReader(head, 1<<20)) // until the client closes, or the deadline
	}
}

type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
