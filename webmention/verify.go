package webmention

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"willnorris.com/go/microformats"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/outbound"
)

// page is a fetched page: where it ended up after redirects, its status, type and body.
type page struct {
	url         *url.URL
	status      int
	contentType string
	header      http.Header
	body        []byte
}

// get fetches a page through the outbound guard, following redirects, reading at most
// MaxPageBytes of it.
func (s *Service) get(ctx context.Context, raw string) (*page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", raw, err)
	}
	req.Header.Set("Accept", "text/html, application/xhtml+xml;q=0.9, */*;q=0.5")
	req.Header.Set("User-Agent", "micropubd (webmention; "+s.cfg.BaseURL.String()+")")
	resp, err := s.fetch.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", raw, err)
	}
	defer resp.Body.Close()
	p := &page{url: resp.Request.URL, status: resp.StatusCode, header: resp.Header}
	p.contentType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusOK {
		if p.body, err = outbound.ReadBody(resp.Body, s.cfg.MaxPageBytes); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", raw, err)
		}
	}
	return p, nil
}

// verify checks a received webmention: the source must answer, link to the target, and is
// then classified and shown on the post. A source that answers 404 or 410, or no longer links,
// is taken off the post. Network errors and 5xx are tried again later.
func (s *Service) verify(ctx context.Context, m *micropubd.Webmention) {
	m.Attempts++
	post, err := s.store.PostByID(ctx, m.PostID)
	if err != nil {
		s.retry(ctx, m, err)
		return
	}
	if !post.IsPublic() || post.IsDeleted() {
		s.settle(ctx, m, micropubd.MentionRejected, "the target is no longer a public post", "", nil)
		return
	}
	p, err := s.get(ctx, m.Source)
	switch {
	case ctx.Err() != nil:
		return // shutting down: the webmention stays queued
	case errors.Is(err, outbound.ErrPrivateAddress):
		s.settle(ctx, m, micropubd.MentionRejected, "the source is not at a public address", "", nil)
	case err != nil:
		s.retry(ctx, m, err)
	case p.status == http.StatusGone || p.status == http.StatusNotFound:
		s.settle(ctx, m, micropubd.MentionGone, fmt.Sprintf("the source answered %d", p.status), "", nil)
	case p.status == http.StatusTooManyRequests || p.status >= 500:
		s.retry(ctx, m, fmt.Errorf("the source answered %d", p.status))
	case p.status != http.StatusOK:
		s.settle(ctx, m, micropubd.MentionRejected, fmt.Sprintf("the source answered %d", p.status), "", nil)
	case !linksTo(p, m.Target):
		s.settle(ctx, m, micropubd.MentionRejected, "the source does not link to the target", "", nil)
	default:
		kind, cite := s.classify(p, m.Source, m.Target)
		s.settle(ctx, m, micropubd.MentionAccepted, "", kind, cite)
	}
}

// retry records a failed try and schedules the next, or gives up after the last one. A
// webmention shown before stays shown: a source that is down for a while has not withdrawn it.
func (s *Service) retry(ctx context.Context, m *micropubd.Webmention, cause error) {
	if ctx.Err() != nil {
		return
	}
	if m.Attempts >= s.maxAttempts(4) {
		if shown := m.Kind != "" && m.Cite != nil && len(m.Cite) > 0; shown {
			m.Status, m.Error, m.Due = micropubd.MentionAccepted, "the last check failed: "+cause.Error(), s.cfg.Now()
			s.save(ctx, m, func(context.Context) error { return nil })
			return
		}
		s.settle(ctx, m, micropubd.MentionRejected, cause.Error(), "", nil)
		return
	}
	m.Error, m.Due = cause.Error(), s.cfg.Now().Add(s.backoff(m.Attempts))
	s.save(ctx, m, func(context.Context) error { return nil })
}

// settle records the outcome of a verification and shows (accepted) or hides (otherwise) the
// webmention on its post, in one transaction.
func (s *Service) settle(ctx context.Context, m *micropubd.Webmention, status, reason, kind string, cite map[string]any) {
	m.Status, m.Error, m.Verified, m.Due = status, reason, s.cfg.Now(), s.cfg.Now()
	if status == micropubd.MentionAccepted {
		m.Kind, m.Cite = kind, cite
	}
	s.save(ctx, m, func(ctx context.Context) error {
		if status == micropubd.MentionAccepted {
			return s.show(ctx, m.PostID, m.Source, kind, cite)
		}
		return s.show(ctx, m.PostID, m.Source, "", nil)
	})
	s.cfg.Log.InfoContext(ctx, "webmention "+status, "source", m.Source, "target", m.Target, "kind", m.Kind, "reason", reason)
}

// save writes the webmention and then, if it was not queued again meanwhile, runs apply in
// the same transaction.
func (s *Service) save(ctx context.Context, m *micropubd.Webmention, apply func(context.Context) error) {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		saved, err := s.store.SaveWebmention(ctx, m)
		if err != nil || !saved {
			return err
		}
		return apply(ctx)
	})
	if err != nil && ctx.Err() == nil {
		s.cfg.Log.ErrorContext(ctx, "saving a webmention failed", "source", m.Source, "err", err)
	}
}

// linkAttrs are the attributes whose URLs count as a link from an HTML page.
var linkAttrs = map[string]bool{"href": true, "src": true, "cite": true, "data": true, "poster": true}

// linksTo reports whether a page links to target: in HTML, an element's href, src, cite, data
// or poster, resolved against the page; in JSON or plain text, the URL anywhere.
func linksTo(p *page, target string) bool {
	switch p.contentType {
	case "application/json", "text/plain", "application/activity+json", "application/ld+json", "application/feed+json":
		return bytes.Contains(p.body, []byte(target))
	}
	want := normal(target)
	z := html.NewTokenizer(bytes.NewReader(p.body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken:
			for {
				k, v, more := z.TagAttr()
				if linkAttrs[string(k)] {
					if u, err := p.url.Parse(strings.TrimSpace(string(v))); err == nil && normal(u.String()) == want {
						return true
					}
				}
				if !more {
					break
				}
			}
		}
	}
}

// normal is a URL in a form two spellings of one page share: scheme and host in lower case,
// no default port, no fragment, "/" for an empty path.
func normal(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
	if p := u.Port(); p == "80" && u.Scheme == "http" || p == "443" && u.Scheme == "https" {
		u.Host = u.Hostname()
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

func sameURL(a, b string) bool { return normal(a) == normal(b) }

// kindProps are the properties that make a webmention a reply, repost, like or bookmark of
// its target, in the order they are looked at.
var kindProps = []struct{ prop, kind string }{
	{"in-reply-to", micropubd.KindReply}, {"repost-of", micropubd.KindRepost},
	{"like-of", micropubd.KindLike}, {"bookmark-of", micropubd.KindBookmark},
}

// Sizes of what is kept of a source.
const (
	maxNameRunes    = 200
	maxContentBytes = 20 << 10
	maxTextRunes    = 2000
)

// classify reads the source's microformats2: the h-entry at the source (or the first one),
// what it is to the target, its author (its author property, else the page's h-card, else its
// host), its sanitised content, name and published time, as an h-cite.
func (s *Service) classify(p *page, source, target string) (string, map[string]any) {
	data := microformats.Parse(bytes.NewReader(p.body), p.url)
	entry := findEntry(data.Items, source)
	kind := micropubd.KindMention
	props := map[string]any{"url": []any{source}}
	author := map[string]any{}
	if entry != nil {
		for _, k := range kindProps {
			if refersTo(entry.Properties[k.prop], target) {
				kind = k.kind
				break
			}
		}
		if a := entry.Properties["author"]; len(a) > 0 {
			author = card(a[0])
		}
		content, text := s.content.of(entry.Properties["content"])
		if content != nil {
			props["content"] = []any{content}
		} else if summary := str(entry.Properties["summary"]); summary != "" {
			text = cut(summary, maxTextRunes)
			props["content"] = []any{text}
		}
		if name := str(entry.Properties["name"]); name != "" && !strings.HasPrefix(squash(text), squash(name)) {
			props["name"] = []any{cut(name, maxNameRunes)}
		}
		if published := str(entry.Properties["published"]); validTime(published) {
			props["published"] = []any{published}
		}
	}
	if len(author) == 0 {
		for _, it := range data.Items {
			if has(it.Type, "h-card") {
				author = card(it)
				break
			}
		}
	}
	if author["name"] == nil {
		author["name"] = []any{strings.TrimPrefix(p.url.Hostname(), "www.")}
	}
	if author["url"] == nil {
		author["url"] = []any{p.url.Scheme + "://" + p.url.Host + "/"}
	}
	props["author"] = []any{map[string]any{"type": []any{"h-card"}, "properties": author}}
	return kind, map[string]any{"type": []any{"h-cite"}, "properties": props}
}

// findEntry is the h-entry whose url is the source, else the first h-entry, among the page's
// items and the children of its h-feeds.
func findEntry(items []*microformats.Microformat, source string) *microformats.Microformat {
	var entries []*microformats.Microformat
	for _, it := range items {
		switch {
		case has(it.Type, "h-entry"):
			entries = append(entries, it)
		case has(it.Type, "h-feed"):
			for _, c := range it.Children {
				if has(c.Type, "h-entry") {
					entries = append(entries, c)
				}
			}
		}
	}
	for _, e := range entries {
		for _, u := range e.Properties["url"] {
			if s, ok := u.(string); ok && sameURL(s, source) {
				return e
			}
		}
	}
	if len(entries) > 0 {
		return entries[0]
	}
	return nil
}

// refersTo reports whether values (URLs, or h-cites with a url) name target.
func refersTo(values []any, target string) bool {
	for _, v := range values {
		switch x := v.(type) {
		case string:
			if sameURL(x, target) {
				return true
			}
		case *microformats.Microformat:
			if sameURL(x.Value, target) || refersTo(x.Properties["url"], target) || refersTo(x.Properties["uid"], target) {
				return true
			}
		}
	}
	return false
}

// card makes an author's h-card properties of a parsed author: an h-card, a URL or a name.
func card(v any) map[string]any {
	out := map[string]any{}
	switch x := v.(type) {
	case *microformats.Microformat:
		if name := str(x.Properties["name"]); name != "" {
			out["name"] = []any{cut(name, maxNameRunes)}
		}
		for _, k := range []string{"url", "photo"} {
			if u := str(x.Properties[k]); isHTTP(u) && len(u) <= maxURLLength {
				out[k] = []any{u}
			}
		}
	case string:
		if isHTTP(x) {
			out["url"] = []any{x}
		} else if x != "" {
			out["name"] = []any{cut(x, maxNameRunes)}
		}
	}
	return out
}

// str is the first value of a parsed property as text.
func str(values []any) string {
	for _, v := range values {
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case map[string]string:
			return strings.TrimSpace(x["value"])
		case map[string]any:
			s, _ := x["value"].(string)
			return strings.TrimSpace(s)
		case *microformats.Microformat:
			return strings.TrimSpace(x.Value)
		}
	}
	return ""
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isHTTP(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// cut shortens text to max runes, with an ellipsis.
func cut(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return strings.TrimSpace(string(r[:max])) + "…"
}

var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z0700", "2006-01-02"}

func validTime(s string) bool {
	for _, l := range timeLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return true
		}
	}
	return false
}

// sanitiser keeps of a source's HTML what a comment may show.
type sanitiser struct {
	policy *bluemonday.Policy
}

func newSanitiser() *sanitiser {
	p := bluemonday.UGCPolicy()
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return &sanitiser{policy: p}
}

// of returns a content value as {"html", "value"}, sanitised and within size, and its text.
func (s *sanitiser) of(values []any) (map[string]any, string) {
	for _, v := range values {
		var h, text string
		switch x := v.(type) {
		case map[string]string:
			h, text = x["html"], x["value"]
		case map[string]any:
			h, _ = x["html"].(string)
			text, _ = x["value"].(string)
		case string:
			text = x
		default:
			continue
		}
		text = cut(strings.TrimSpace(text), maxTextRunes)
		clean := strings.TrimSpace(s.policy.Sanitize(h))
		if clean == "" || len(clean) > maxContentBytes {
			if text == "" {
				return nil, ""
			}
			return map[string]any{"value": text, "html": html.EscapeString(text)}, text
		}
		return map[string]any{"html": clean, "value": text}, text
	}
	return nil, ""
}
