package webmention

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"mvdan.cc/xurls/v2"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/outbound"
)

// linkProps are the properties whose URLs a post is about: each hears of the post.
var linkProps = []string{"in-reply-to", "like-of", "repost-of", "bookmark-of", "quotation-of"}

// maxTargets bounds the webmentions one post sends.
const maxTargets = 50

// PostChanged queues the webmentions a post's change calls for, in the transaction that wrote
// it: to every page a public post links to, and again to every page it was sent to before (a
// deleted post, or a removed link, must be heard of too). The queue keeps a hash of the post:
// an unchanged post is never sent twice.
func (s *Service) PostChanged(ctx context.Context, p *micropubd.Post, created bool) (queued bool, err error) {
	var targets []string
	if p.InFeed() && !p.IsDeleted() {
		targets = s.links(p)
	}
	if len(targets) == 0 {
		// Most posts link nowhere; with nothing sent before either (a new post has sent
		// nothing), there is nothing to queue and no hash to take, which matters inside the
		// writer's transaction.
		if created {
			return false, nil
		}
		if sent, err := s.store.HasSends(ctx, p.ID); err != nil || !sent {
			return false, err
		}
	}
	source := s.cfg.BaseURL.String() + p.Path
	if err := s.store.QueueSends(ctx, p.ID, source, version(p), targets, s.cfg.Now()); err != nil {
		return false, err
	}
	return true, nil
}

// Committed wakes the sender once a change that queued webmentions is committed (not after
// the others: a wake costs the sender two queries).
func (s *Service) Committed() { s.outgoing.signal() }

// version is a hash of what a post shows: its address, state and properties (not the
// responses it received, which change without the post changing, nor its updated time).
func version(p *micropubd.Post) string {
	props := micropubd.Properties{}
	for k, v := range p.Properties {
		if !slices.Contains(responseProps(), k) && k != "updated" {
			props[k] = v
		}
	}
	data, _ := json.Marshal(struct {
		Path, Status, Visibility string
		Deleted                  bool
		Props                    micropubd.Properties
	}{p.Path, p.Status, p.Visibility, p.IsDeleted(), props})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:12])
}

func responseProps() []string {
	var out []string
	for _, p := range micropubd.ResponseProperty {
		out = append(out, p)
	}
	return out
}

// links are the pages a post links to: its in-reply-to, like-of, repost-of, bookmark-of and
// quotation-of (URLs or h-cites), and the links of its content, other than this site's.
func (s *Service) links(p *micropubd.Post) []string {
	self, _ := url.Parse(s.cfg.BaseURL.String() + p.Path)
	var out []string
	add := func(raw string) {
		u, err := self.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(out) >= maxTargets {
			return
		}
		u.Fragment = ""
		t := u.String()
		if strings.HasPrefix(t, s.cfg.BaseURL.String()) || slices.Contains(out, t) || len(t) > maxURLLength {
			return
		}
		out = append(out, t)
	}
	for _, name := range linkProps {
		for _, v := range p.Properties[name] {
			if u := citeURL(v); u != "" {
				add(u)
			}
		}
	}
	for _, v := range p.Properties["content"] {
		switch x := v.(type) {
		case string:
			for _, u := range textLinks(x) {
				add(u)
			}
		case map[string]any:
			if h, ok := x["html"].(string); ok {
				for _, u := range htmlLinks(h) {
					add(u)
				}
			} else if t, ok := x["value"].(string); ok {
				for _, u := range textLinks(t) {
					add(u)
				}
			}
		}
	}
	return out
}

var plainLinks = xurls.Strict()

// textLinks are the URLs written out in plain text. Only http(s) links are sent webmentions, so
// text without "http" (most notes) skips the regular expression, which costs more than the rest
// of a create and runs inside the writer's transaction.
func textLinks(text string) []string {
	if !containsFold(text, "http") {
		return nil
	}
	return plainLinks.FindAllString(text, -1)
}

// containsFold reports whether s contains the ASCII word sub in any case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// htmlLinks are the href values of the a elements of an HTML fragment.
func htmlLinks(fragment string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			for hasAttr && atom.Lookup(name) == atom.A {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if string(k) == "href" {
					out = append(out, string(v))
				}
			}
		}
	}
}

// send discovers the target's endpoint and sends the webmention: a 2xx is done; a target
// without an endpoint is recorded as such; network errors, 429 and 5xx are tried again later,
// up to MaxAttempts; other answers are failures. Private addresses are never reached.
func (s *Service) send(ctx context.Context, job *micropubd.WebmentionSend) {
	job.Attempts++
	endpoint, title, err := s.discover(ctx, job.Target)
	if ctx.Err() != nil {
		return // shutting down: still queued
	}
	if title != "" {
		job.Title = title
	}
	var permanent *permanentError
	switch {
	case errors.Is(err, outbound.ErrPrivateAddress):
		s.sent(ctx, job, micropubd.SendFailed, "refused: "+job.Target+" is not at a public address")
		return
	case errors.As(err, &permanent):
		s.sent(ctx, job, micropubd.SendFailed, permanent.Error())
		return
	case err != nil:
		s.again(ctx, job, err.Error())
		return
	case endpoint == "":
		s.sent(ctx, job, micropubd.SendNone, "no webmention endpoint")
		return
	}
	job.Endpoint = endpoint
	result, retry, err := s.deliver(ctx, endpoint, job.Source, job.Target)
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, outbound.ErrPrivateAddress):
		s.sent(ctx, job, micropubd.SendFailed, "refused: the endpoint "+endpoint+" is not at a public address")
	case err != nil || retry:
		if err != nil {
			result = err.Error()
		}
		s.again(ctx, job, result)
	case strings.HasPrefix(result, "2"):
		s.sent(ctx, job, micropubd.SendSent, result)
	default:
		s.sent(ctx, job, micropubd.SendFailed, result)
	}
}

// deliver posts source and target to the endpoint; it says what the endpoint answered and
// whether to try again.
func (s *Service) deliver(ctx context.Context, endpoint, source, target string) (result string, retry bool, err error) {
	form := url.Values{"source": {source}, "target": {target}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", false, fmt.Errorf("the endpoint %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "micropubd (webmention; "+s.cfg.BaseURL.String()+")")
	resp, err := s.post.Do(req)
	if err != nil {
		return "", false, fmt.Errorf("the endpoint %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	result = resp.Status
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode >= 400 {
		var e struct {
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Description != "" {
			result += ": " + cut(e.Description, 300)
		} else if text := squash(string(body)); text != "" && !bytes.Contains(body, []byte("<")) {
			result += ": " + cut(text, 300)
		}
	}
	return result, resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, nil
}

// again schedules another try, or gives up after the last.
func (s *Service) again(ctx context.Context, job *micropubd.WebmentionSend, result string) {
	if job.Attempts >= s.maxAttempts(6) {
		s.sent(ctx, job, micropubd.SendFailed, result+" (gave up after "+strconv.Itoa(job.Attempts)+" tries)")
		return
	}
	job.Result = result + " (will try again)"
	job.Due = s.cfg.Now().Add(s.backoff(job.Attempts))
	s.saveSend(ctx, job)
	s.cfg.Log.InfoContext(ctx, "webmention not sent yet", "source", job.Source, "target", job.Target, "result", result, "next", job.Due)
}

// sent records the outcome of a webmention.
func (s *Service) sent(ctx context.Context, job *micropubd.WebmentionSend, status, result string) {
	job.Status, job.Result, job.Done, job.Due = status, result, s.cfg.Now(), s.cfg.Now()
	s.saveSend(ctx, job)
	s.cfg.Log.InfoContext(ctx, "webmention "+status, "source", job.Source, "target", job.Target, "endpoint", job.Endpoint, "result", result)
}

func (s *Service) saveSend(ctx context.Context, job *micropubd.WebmentionSend) {
	if err := s.store.SaveSend(ctx, job); err != nil && ctx.Err() == nil {
		s.cfg.Log.ErrorContext(ctx, "saving a webmention sent failed", "target", job.Target, "err", err)
	}
}

// permanentError is a discovery failure trying again will not mend.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// discover finds a target's webmention endpoint as the Recommendation says: the first HTTP
// Link header with rel="webmention", else the first <link> or <a> element with that rel, its
// URL resolved against the page's (after redirects; an empty href is the page itself). It also
// returns the page's title, which the post's page shows for the link.
func (s *Service) discover(ctx context.Context, target string) (endpoint, title string, err error) {
	p, err := s.get(ctx, target)
	if err != nil {
		return "", "", err
	}
	switch {
	case p.status == http.StatusTooManyRequests || p.status >= 500:
		return "", "", fmt.Errorf("the target answered %d", p.status)
	case p.status >= 400:
		return "", "", &permanentError{fmt.Sprintf("the target answered %d", p.status)}
	}
	found := false
	if p.body != nil && (p.contentType == "text/html" || p.contentType == "application/xhtml+xml" || p.contentType == "") {
		endpoint, found, title = fromHTML(p.body)
	}
	if h, ok := fromLinkHeaders(p.header.Values("Link")); ok {
		endpoint, found = h, true
	}
	if !found {
		return "", title, nil
	}
	u, err := p.url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", title, &permanentError{fmt.Sprintf("the target's webmention endpoint %q is not an http URL", endpoint)}
	}
	return u.String(), title, nil
}

// fromLinkHeaders returns the URL of the first Link header value with rel webmention.
func fromLinkHeaders(values []string) (string, bool) {
	for _, v := range values {
		for _, link := range splitLinks(v) {
			target, params, _ := strings.Cut(link, ";")
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "rel") && hasRel(strings.Trim(strings.TrimSpace(v), `"`)) {
					return strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">"), true
				}
			}
		}
	}
	return "", false
}

// splitLinks splits a Link header at the commas between links, not those inside <...> or quotes.
func splitLinks(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, c := range v {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			depth++
		case c == '>' && !quoted && depth > 0:
			depth--
		case c == ',' && !quoted && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

func hasRel(rels string) bool {
	for _, r := range strings.Fields(rels) {
		if strings.EqualFold(r, "webmention") {
			return true
		}
	}
	return false
}

// fromHTML returns the href of the first <link> or <a> element with rel webmention (outside
// comments; an empty href is found too: it names the page itself), and the page's title.
func fromHTML(body []byte) (href string, found bool, title string) {
	z := html.NewTokenizer(bytes.NewReader(body))
	inTitle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return href, found, squash(title)
		case html.TextToken:
			if inTitle && len(title) < 400 {
				title += string(z.Text())
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); atom.Lookup(name) == atom.Title {
				inTitle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Title && tt == html.StartTagToken && title == "" {
				inTitle = true
			}
			if found || (a != atom.Link && a != atom.A) {
				continue
			}
			var rel, link string
			hasHref := false
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "rel":
					rel = string(v)
				case "href":
					link, hasHref = string(v), true
				}
			}
			if hasHref && hasRel(rel) {
				href, found = link, true
			}
		}
	}
}
