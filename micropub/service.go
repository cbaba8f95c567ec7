package micropub

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gosimple/slug"

	"github.com/micropubd/micropubd"
)

// Store is what the post service needs from storage. Calls made with the context InTx gives
// run in its transaction.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreatePost(ctx context.Context, p *micropubd.Post) error
	// UpdatePost runs change on the post at path inside one write transaction.
	UpdatePost(ctx context.Context, path string, change func(*micropubd.Post) error) (*micropubd.Post, error)
	PostByPath(ctx context.Context, path string) (*micropubd.Post, error)
	ListPosts(ctx context.Context, f micropubd.PostFilter) ([]*micropubd.Post, error)
	Categories(ctx context.Context, filter string, limit int) ([]string, error)
}

// SyndicationTarget is a place posts can be syndicated to, as q=syndicate-to lists it.
type SyndicationTarget struct {
	UID  string `json:"uid"`
	Name string `json:"name"`
}

// Service is the one path by which posts are created, changed and deleted, whether the
// request came to the Micropub endpoint or from another part of the server.
type Service struct {
	Store Store
	// BaseURL is the site's public URL, ending in "/"; post URLs are built from it.
	BaseURL *url.URL
	// Location is the server's time zone, used for times that carry no offset.
	Location    *time.Location
	SyndicateTo []SyndicationTarget
	Now         func() time.Time
	// Changes, if set, hears of every post written (created, updated, deleted, undeleted,
	// erased) in the transaction that writes it, and once it is committed: the webmentions to
	// send are queued so, never lost between the two.
	Changes ChangeListener
}

// ChangeListener hears of posts as they are written.
type ChangeListener interface {
	// PostChanged runs inside the transaction that wrote p (created says it was new); an error
	// undoes the write. It says whether it has work for after the commit.
	PostChanged(ctx context.Context, p *micropubd.Post, created bool) (after bool, err error)
	// Committed runs after that transaction committed, when PostChanged asked for it.
	Committed()
}

// write runs a store write and, when a listener is set, tells it of the post written, in one
// transaction.
func (s *Service) write(ctx context.Context, created bool, fn func(ctx context.Context) (*micropubd.Post, error)) (*micropubd.Post, error) {
	if s.Changes == nil {
		return fn(ctx)
	}
	var p *micropubd.Post
	var after bool
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if p, err = fn(ctx); err != nil {
			return err
		}
		after, err = s.Changes.PostChanged(ctx, p, created)
		return err
	})
	if err != nil {
		return nil, err
	}
	if after {
		s.Changes.Committed()
	}
	return p, nil
}

func (s *Service) create(ctx context.Context, p *micropubd.Post) error {
	_, err := s.write(ctx, true, func(ctx context.Context) (*micropubd.Post, error) { return p, s.Store.CreatePost(ctx, p) })
	return err
}

func (s *Service) update(ctx context.Context, path string, change func(*micropubd.Post) error) (*micropubd.Post, error) {
	return s.write(ctx, false, func(ctx context.Context) (*micropubd.Post, error) { return s.Store.UpdatePost(ctx, path, change) })
}

func (s *Service) now() time.Time {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	return now.In(s.loc())
}

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.Local
}

// URL returns the absolute URL of p.
func (s *Service) URL(p *micropubd.Post) string {
	return s.BaseURL.String() + p.Path
}

// PathOf returns the path, relative to the base URL, of a URL on this site.
func (s *Service) PathOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return "", errInvalid("%q is not an absolute URL", raw)
	}
	if !strings.EqualFold(u.Host, s.BaseURL.Host) || !strings.HasPrefix(u.Path, s.BaseURL.Path) {
		return "", errInvalid("%q is not a post on this site", raw)
	}
	path := strings.Trim(strings.TrimPrefix(u.Path, s.BaseURL.Path), "/")
	if path == "" {
		return "", errInvalid("%q is the homepage, not a post", raw)
	}
	return path, nil
}

// CreateOptions are the limits the caller's authorisation puts on a create.
type CreateOptions struct {
	// DraftOnly makes the post a draft whatever the request says (the draft scope).
	DraftOnly bool
	// BeforeStore runs once the post is known to be valid, just before it is stored; an
	// error stops the create. The handler stores the request's files there, so that an
	// invalid post stores no files.
	BeforeStore func() error
	// Path, when set, is the post's path instead of one made from its date and slug (a shared
	// note's unguessable address). If it is taken the create fails with micropubd.ErrConflict.
	Path string
}

// Create makes a post from a create request whose files, if any, are already stored and
// listed in its properties.
func (s *Service) Create(ctx context.Context, req *Request, opts CreateOptions) (*micropubd.Post, error) {
	if len(req.Type) != 1 {
		return nil, errInvalid("a post has exactly one type, got %d", len(req.Type))
	}
	if !Rendered(strings.TrimPrefix(req.Type[0], "h-")) {
		return nil, errInvalid("%s is not a type this site publishes: send %s", req.Type[0], renderedTypes)
	}
	p := &micropubd.Post{
		Type:       strings.TrimPrefix(req.Type[0], "h-"),
		Properties: cloneProperties(req.Properties),
	}
	if err := CheckShape(p.Properties); err != nil {
		return nil, err
	}
	if err := applyPhotoAlt(p.Properties, req.Commands["mp-photo-alt"]); err != nil {
		return nil, err
	}
	if opts.DraftOnly {
		p.Properties["post-status"] = []any{micropubd.StatusDraft}
	}
	if len(p.Properties["published"]) == 0 {
		p.Properties["published"] = []any{s.now().Format(time.RFC3339)}
	}
	if err := s.derive(p); err != nil {
		return nil, err
	}
	targets, err := s.syndicationTargets(req.Commands["mp-syndicate-to"])
	if err != nil {
		return nil, err
	}
	p.SyndicateTo = targets

	if opts.BeforeStore != nil {
		if err := opts.BeforeStore(); err != nil {
			return nil, err
		}
	}
	if opts.Path != "" {
		p.Path = opts.Path
		if err := s.create(ctx, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	base := slugFor(req.Command("mp-slug"), p.Properties)
	if base == "" {
		base = shortID(s.now())
	}
	prefix := p.Published.Format("2006/01/")
	for i := 1; ; i++ {
		candidate := base
		switch {
		case i > 20:
			candidate = base + "-" + randomID(7)
		case i > 1:
			candidate = fmt.Sprintf("%s-%d", base, i)
		}
		p.Path = prefix + candidate
		err := s.create(ctx, p)
		if errors.Is(err, micropubd.ErrConflict) && i <= 21 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// Prepare checks a post brought from elsewhere (an import) as Create checks a new one, and sets
// the columns derived from its properties. An erased post (a tombstone without properties)
// keeps the columns it has.
func (s *Service) Prepare(p *micropubd.Post) error {
	if len(p.Properties) == 0 {
		if !p.IsDeleted() {
			return errInvalid("a post without properties must be deleted")
		}
		return nil
	}
	if !Rendered(p.Type) {
		return errInvalid("h-%s is not a type this site publishes: send %s", p.Type, renderedTypes)
	}
	if err := CheckShape(p.Properties); err != nil {
		return err
	}
	return s.derive(p)
}

// UpdateResult says what an update did.
type UpdateResult struct {
	Post *micropubd.Post
	// Moved is true when the update gave the post a new URL.
	Moved bool
	// Unchanged is true when the update asked for no change, or for none that changed the
	// post: nothing was written and updated was not touched.
	Unchanged bool
}

// Update applies an update request's replace, add and delete operations, in that order, and
// its mp-* commands (mp-slug moves the post, mp-syndicate-to replaces its targets), atomically:
// if the result is not a valid post nothing is changed. An update that changes nothing writes
// nothing and leaves updated as it was.
func (s *Service) Update(ctx context.Context, req *Request) (*UpdateResult, error) {
	path, err := s.PathOf(req.URL)
	if err != nil {
		return nil, err
	}
	rawSlug := ""
	if vals, ok := req.Commands["mp-slug"]; ok {
		rawSlug = firstString(vals)
	}
	if vals, ok := req.Replace["mp-slug"]; ok {
		rawSlug = firstString(vals)
	}
	vals, setTargets := req.Commands["mp-syndicate-to"]
	targets, err := s.syndicationTargets(vals)
	if err != nil {
		return nil, err
	}
	res := &UpdateResult{}
	p, err := s.update(ctx, path, func(p *micropubd.Post) error {
		if p.IsDeleted() {
			return errInvalid("the post %s is deleted; undelete it first", req.URL)
		}
		props := applyOperations(p.Properties, req)
		if err := CheckShape(props); err != nil {
			return err
		}
		// A form sends every field: a default restated (post-status published, visibility
		// public) for a post that never said it is no change.
		for name, def := range map[string]string{"post-status": micropubd.StatusPublished, "visibility": micropubd.VisibilityPublic} {
			if _, had := p.Properties[name]; !had && len(props[name]) == 1 && props[name][0] == def {
				delete(props, name)
			}
		}
		if len(props["published"]) == 0 {
			props["published"] = []any{p.Published.In(s.loc()).Format(time.RFC3339)}
		}
		before := *p
		before.Properties = cloneProperties(p.Properties)
		p.Properties = props
		if err := s.derive(p); err != nil {
			return err
		}
		if setTargets {
			p.SyndicateTo = targets
		}
		// The slug the post has already (a form sends it back unchanged) moves nothing, even
		// where making it again would give another (a -2 suffix cut off, capitals).
		if current := p.Path[strings.LastIndexByte(p.Path, '/')+1:]; rawSlug != "" && rawSlug != current {
			if newSlug := Slug(rawSlug); newSlug != "" {
				p.Path = p.Path[:strings.LastIndexByte(p.Path, '/')+1] + newSlug
			}
		}
		if unchanged(&before, p) {
			res.Post, res.Unchanged = &before, true
			return errUnchanged
		}
		res.Moved = p.Path != before.Path
		p.Properties["updated"] = []any{s.now().Format(time.RFC3339)}
		p.Updated = s.now()
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		return res, nil
	case errors.Is(err, micropubd.ErrNotFound):
		return nil, errInvalid("there is no post at %s", req.URL)
	case errors.Is(err, micropubd.ErrConflict):
		return nil, errInvalid("another post already has that URL; choose another mp-slug")
	case err != nil:
		return nil, err
	}
	res.Post = p
	return res, nil
}

// errUnchanged stops an update transaction that would change nothing, so that nothing is written.
var errUnchanged = errors.New("the update changes nothing")

// applyOperations returns props with the request's replace, add and delete applied, in that order.
func applyOperations(stored micropubd.Properties, req *Request) micropubd.Properties {
	props := cloneProperties(stored)
	for name, vals := range req.Replace {
		if strings.HasPrefix(name, "mp-") {
			continue
		}
		if len(vals) == 0 {
			delete(props, name)
			continue
		}
		props[name] = slices.Clone(vals)
	}
	for name, vals := range req.Add {
		if strings.HasPrefix(name, "mp-") {
			continue
		}
		props[name] = append(props[name], vals...)
	}
	for _, name := range req.DeleteProps {
		delete(props, name)
	}
	for name, vals := range req.DeleteValues {
		kept := props[name][:0:0]
		for _, v := range props[name] {
			if !slices.ContainsFunc(vals, func(d any) bool { return reflect.DeepEqual(d, v) }) {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			delete(props, name)
		} else {
			props[name] = kept
		}
	}
	return props
}

// unchanged reports whether an update left the post as it was, its updated time aside.
func unchanged(before, after *micropubd.Post) bool {
	strip := func(p micropubd.Properties) micropubd.Properties {
		out := maps.Clone(p)
		delete(out, "updated")
		return out
	}
	return before.Path == after.Path &&
		slices.Equal(before.SyndicateTo, after.SyndicateTo) &&
		reflect.DeepEqual(strip(before.Properties), strip(after.Properties))
}

// Delete marks the post deleted; its page answers 410 Gone until it is undeleted.
func (s *Service) Delete(ctx context.Context, rawURL string) (*micropubd.Post, error) {
	return s.setDeleted(ctx, rawURL, true)
}

// Undelete restores a deleted post at the same URL.
func (s *Service) Undelete(ctx context.Context, rawURL string) (*micropubd.Post, error) {
	return s.setDeleted(ctx, rawURL, false)
}

// Erase takes a post down for good: it answers 410 Gone like a deleted post, but only a
// tombstone is kept (no properties, no categories), so none of its text stays on the server.
// An erased post cannot be undeleted.
func (s *Service) Erase(ctx context.Context, rawURL string) error {
	path, err := s.PathOf(rawURL)
	if err != nil {
		return err
	}
	_, err = s.update(ctx, path, func(p *micropubd.Post) error {
		if !p.IsDeleted() {
			p.Deleted = s.now()
		}
		p.Properties = micropubd.Properties{}
		p.SyndicateTo = nil
		return nil
	})
	if errors.Is(err, micropubd.ErrNotFound) {
		return errInvalid("there is no post at %s", rawURL)
	}
	return err
}

func (s *Service) setDeleted(ctx context.Context, rawURL string, deleted bool) (*micropubd.Post, error) {
	path, err := s.PathOf(rawURL)
	if err != nil {
		return nil, err
	}
	p, err := s.update(ctx, path, func(p *micropubd.Post) error {
		switch {
		case deleted && !p.IsDeleted():
			p.Deleted = s.now()
		case !deleted && len(p.Properties) == 0:
			return errInvalid("the post %s was taken down for good (an unshared note) and cannot be undeleted", rawURL)
		case !deleted:
			p.Deleted = time.Time{}
		}
		return nil
	})
	if errors.Is(err, micropubd.ErrNotFound) {
		return nil, errInvalid("there is no post at %s", rawURL)
	}
	return p, err
}

// Get returns the post at a URL on this site, deleted or not.
func (s *Service) Get(ctx context.Context, rawURL string) (*micropubd.Post, error) {
	path, err := s.PathOf(rawURL)
	if err != nil {
		return nil, err
	}
	p, err := s.Store.PostByPath(ctx, path)
	if errors.Is(err, micropubd.ErrNotFound) {
		return nil, errInvalid("there is no post at %s", rawURL)
	}
	return p, err
}

// derive checks the properties that drive storage and sets the columns derived from them:
// status, visibility, published and the post type.
func (s *Service) derive(p *micropubd.Post) error {
	if err := renderMarkdownContent(p.Properties); err != nil {
		return err
	}
	p.Status = micropubd.StatusPublished
	if v, err := single(p.Properties, "post-status"); err != nil {
		return err
	} else if v != "" {
		if v != micropubd.StatusPublished && v != micropubd.StatusDraft {
			return errInvalid("post-status must be published or draft, not %q", v)
		}
		p.Status = v
	}
	p.Visibility = micropubd.VisibilityPublic
	if v, err := single(p.Properties, "visibility"); err != nil {
		return err
	} else if v != "" {
		if v != micropubd.VisibilityPublic && v != micropubd.VisibilityUnlisted && v != micropubd.VisibilityPrivate {
			return errInvalid("visibility must be public, unlisted or private, not %q", v)
		}
		p.Visibility = v
	}
	raw, err := single(p.Properties, "published")
	if err != nil {
		return err
	}
	t, err := ParseTime(raw, s.loc())
	if err != nil {
		return errInvalid("published: %v", err)
	}
	if t.Year() < 1700 || t.Year() > 2200 {
		return errInvalid("published: the year %d is out of range (1700 to 2200)", t.Year())
	}
	p.Published = t
	// Keep the client's offset, but in one canonical format.
	p.Properties["published"] = []any{t.Format(time.RFC3339)}
	p.PostType = DiscoverPostType(p.Type, p.Properties)
	return checkURLs(p.Properties, "")
}

// urlProperties are rendered as links or media, so their values must be http or https URLs:
// a javascript: photo would render as a broken image, a file: reply as a dead link.
var urlProperties = []string{"photo", "video", "audio", "logo", "featured", "url", "in-reply-to", "like-of",
	"repost-of", "bookmark-of", "quotation-of", "syndication"}

// checkURLs checks the URL-valued properties of props, and of the objects nested in them;
// location and geo may be geo: URIs, which must then be valid.
func checkURLs(props micropubd.Properties, in string) error {
	for name, vals := range props {
		for _, v := range vals {
			s, isString := v.(string)
			obj, _ := v.(map[string]any)
			if value, ok := obj["value"].(string); ok && obj["type"] == nil {
				s, isString = value, true // {"value": url, "alt": text}
			}
			switch {
			case obj["type"] != nil:
				nested, _ := obj["properties"].(map[string]any)
				inner := micropubd.Properties{}
				for k, list := range nested {
					inner[k], _ = list.([]any)
				}
				if err := checkURLs(inner, name); err != nil {
					return err
				}
			case !isString:
			case (name == "location" || name == "geo") && len(s) >= 4 && strings.EqualFold(s[:4], "geo:"):
				if _, ok := micropubd.ParseGeoURI(s); !ok {
					return errInvalid("%s%s: %q is not a geo URI such as geo:45.52345,-122.67621;u=35", name, within(in), s)
				}
			case slices.Contains(urlProperties, name) && !httpURL(s):
				return errInvalid("%s%s must be an http or https URL, not %q", name, within(in), s)
			}
		}
	}
	return nil
}

func within(parent string) string {
	if parent == "" {
		return ""
	}
	return " (in " + parent + ")"
}

// httpURL reports whether s is an absolute http or https URL with a host.
func httpURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) && u.Host != ""
}

func (s *Service) syndicationTargets(vals []any) ([]string, error) {
	var out []string
	for _, v := range vals {
		uid, ok := v.(string)
		if !ok {
			return nil, errInvalid("mp-syndicate-to values must be strings")
		}
		if uid == "" {
			continue // an empty value is how forms say "none"
		}
		if !slices.ContainsFunc(s.SyndicateTo, func(t SyndicationTarget) bool { return t.UID == uid }) {
			return nil, errInvalid("%q is not a syndication target of this site (see q=syndicate-to)", uid)
		}
		if !slices.Contains(out, uid) {
			out = append(out, uid)
		}
	}
	return out, nil
}

// single returns the one string value of a property that may have at most one.
func single(props micropubd.Properties, name string) (string, error) {
	vals := props[name]
	if len(vals) == 0 {
		return "", nil
	}
	s, ok := vals[0].(string)
	if len(vals) > 1 || !ok {
		return "", errInvalid("%s must be a single text value", name)
	}
	return strings.TrimSpace(s), nil
}

// timePattern is every form of date-time clients send: Quill's hand-typed published follows
// YYYY-MM-DD[ T]HH:MM[:SS][ ]?[+-]HH[:]?MM, RFC 3339 adds Z and fractions of a second, and
// a date alone or a time without an offset is read in the server's zone.
var timePattern = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(?: ?(Z|[+-]\d{2}:?\d{2}))?)?$`)

// ParseTime reads a date-time as clients send it. An offset in the value is kept; a value
// without one is read in loc.
func ParseTime(raw string, loc *time.Location) (time.Time, error) {
	const example = "send one such as 2026-11-30T12:34:56-07:00 (a space instead of the T, no seconds, -0700 or Z are fine too)"
	// The form the server writes itself (a create without published) and most clients send,
	// read without the pattern, which cost four times what the rest of a create's time
	// parsing does. A value of that shape time.Parse refuses goes on to the pattern, and to
	// its message.
	if rfc3339Shape(raw) {
		if t, err := time.Parse(time.RFC3339, raw); err == nil {
			return t, nil
		}
	}
	m := timePattern.FindStringSubmatch(raw)
	if m == nil {
		return time.Time{}, fmt.Errorf("%q is not a date-time: %s", raw, example)
	}
	date, hm, sec, offset := m[1], m[2], m[3], m[4]
	if hm == "" {
		hm = "00:00"
	}
	if sec == "" {
		sec = ":00"
	}
	value := date + "T" + hm + sec
	var t time.Time
	var err error
	switch {
	case offset == "":
		t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", value, loc)
	case offset == "Z":
		t, err = time.Parse(time.RFC3339Nano, value+"Z")
	default:
		t, err = time.Parse(time.RFC3339Nano, value+offset[:3]+":"+strings.TrimPrefix(offset[3:], ":"))
	}
	if err != nil {
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			err = errors.New(strings.TrimPrefix(pe.Message, ": "))
		}
		return time.Time{}, fmt.Errorf("%q is not a date-time (%v): %s", raw, err, example)
	}
	return t, nil
}

// rfc3339Shape says raw is laid out as 2006-01-02T15:04:05Z or 2006-01-02T15:04:05-07:00:
// for such a value that time.Parse reads, the pattern's way gives the same time.
func rfc3339Shape(raw string) bool {
	if len(raw) < 20 || raw[10] != 'T' {
		return false
	}
	switch len(raw) {
	case 20:
		return raw[19] == 'Z'
	case 25:
		return (raw[19] == '+' || raw[19] == '-') && raw[22] == ':'
	}
	return false
}

// renderMarkdownContent renders content written in Markdown ({"markdown": ...}, what the
// owner's article form sends as content[markdown]) to HTML, keeping the Markdown beside it so
// that q=source gives it back for editing: {"html": ..., "markdown": ...}.
func renderMarkdownContent(props micropubd.Properties) error {
	for i, v := range props["content"] {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		md, ok := m["markdown"].(string)
		if !ok {
			continue
		}
		html, err := RenderMarkdown(md)
		if err != nil {
			return err
		}
		props["content"][i] = map[string]any{"html": html, "markdown": md}
	}
	return nil
}

// applyPhotoAlt pairs mp-photo-alt values with the photos in order.
func applyPhotoAlt(props micropubd.Properties, alts []any) error {
	// A form with more alt fields than photos chosen sends the spare ones empty.
	for len(alts) > 0 && alts[len(alts)-1] == "" {
		alts = alts[:len(alts)-1]
	}
	if len(alts) == 0 {
		return nil
	}
	photos := props["photo"]
	if len(alts) > len(photos) {
		return errInvalid("mp-photo-alt has %d values for %d photos", len(alts), len(photos))
	}
	for i, a := range alts {
		alt, ok := a.(string)
		if !ok {
			return errInvalid("mp-photo-alt values must be text")
		}
		if alt == "" {
			continue
		}
		switch v := photos[i].(type) {
		case string:
			photos[i] = map[string]any{"value": v, "alt": alt}
		case map[string]any:
			m := maps.Clone(v)
			m["alt"] = alt
			photos[i] = m
		}
	}
	return nil
}

// slugFor makes the slug from mp-slug, else from the name.
func slugFor(mpSlug string, props micropubd.Properties) string {
	for _, src := range []string{mpSlug, props.First("name")} {
		if src == "" {
			continue // most notes: no transliteration and no pattern to run
		}
		if s := Slug(src); s != "" {
			return s
		}
	}
	return ""
}

// Slug makes a URL path segment, or a file name, of text: lowercase ASCII letters, digits and
// dashes ("Café au lait!" is cafe-au-lait), at most 80 characters, cut at a dash where it can
// be; "" when the text has nothing to make one from.
func Slug(text string) string { return truncateSlug(slug.Make(text)) }

func truncateSlug(s string) string {
	const maxLen = 80
	if len(s) <= maxLen {
		return s
	}
	s = s[:maxLen]
	if i := strings.LastIndexByte(s, '-'); i > maxLen/2 {
		s = s[:i]
	}
	return strings.Trim(s, "-")
}

// idAlphabet spells generated slugs: lowercase letters and digits less the look-alikes, in
// ascending byte order, so that an id of a number sorts as the number does.
const idAlphabet = "23456789abcdefghijkmnpqrstuvwxyz"

// shortID is the slug of a post that gives nothing to make one from: the milliseconds since
// the start of the month at now (the clock's: a published time has whole seconds), then five
// random characters. So the path of a post of this month sorts after those before it (the
// path's YYYY/MM/ is its published month) and each create appends to the end of the path index,
// rather than rewriting a page at a random place in it (a third of the pages a batch of
// creates wrote). The random part keeps posts of the same millisecond apart, and an unlisted
// post's path as hard to guess as seven random characters were, for one who knows the second
// it was posted in (1,000 × 32^5 tries).
func shortID(now time.Time) string {
	y, m, _ := now.Date()
	ms := now.Sub(time.Date(y, m, 1, 0, 0, 0, 0, now.Location())).Milliseconds()
	var b [7]byte
	for i := 6; i >= 0; i-- { // 32^7 ms is a year: a month fits
		b[i] = idAlphabet[ms%32]
		ms /= 32
	}
	return string(b[:]) + randomID(5)
}

// randomID is n random characters of idAlphabet.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)] // 256 is a multiple of 32: no bias
	}
	return string(b)
}

func firstString(vals []any) string {
	if len(vals) > 0 {
		if s, ok := vals[0].(string); ok {
			return s
		}
	}
	return ""
}

// cloneProperties copies the lists (not the values inside them) so edits never leak back.
func cloneProperties(p micropubd.Properties) micropubd.Properties {
	out := make(micropubd.Properties, len(p))
	for k, v := range p {
		out[k] = slices.Clone(v)
	}
	return out
}
