// Package feed writes a list of posts as RSS 2.0, Atom 1.0 and JSON Feed 1.1, with the
// standard library's XML and JSON encoders: every item keeps its categories, all of its
// photos, videos and audio as enclosures or attachments with their type and length, and its
// published and updated times with the offsets they were posted with. Text is escaped by the
// encoders, and characters XML cannot carry (control characters) become U+FFFD, so no post
// breaks a feed.
package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"time"
)

// Content types of the three formats.
const (
	TypeRSS  = "application/rss+xml; charset=utf-8"
	TypeAtom = "application/atom+xml; charset=utf-8"
	TypeJSON = "application/feed+json; charset=utf-8"
)

// Feed is a list of posts and what it is the feed of.
type Feed struct {
	Title       string
	Description string
	// HomeURL is the page the feed follows (the homepage, a tag page).
	HomeURL string
	// RSSURL, AtomURL and JSONURL are the feed's own addresses in each format.
	RSSURL, AtomURL, JSONURL string
	Author                   Author
	// Icon is the owner's photo, if any.
	Icon string
	// Updated is when the newest item was published or updated.
	Updated time.Time
	Items   []Item
}

// Author is the site's owner.
type Author struct {
	Name, URL, Photo string
}

// Item is one post.
type Item struct {
	URL string
	// Title is "" for posts without a name (notes, photos): RSS and JSON Feed then carry none,
	// and Atom, which must have one, an empty one.
	Title string
	// HTML is the full content, already sanitised.
	HTML string
	// Summary is plain text, if the post has one.
	Summary     string
	Published   time.Time
	Updated     time.Time // zero when never updated
	Categories  []string
	Attachments []Attachment
	// Image is the first photo, for JSON Feed's image.
	Image string
}

// Attachment is a photo, video or audio file of a post.
type Attachment struct {
	URL    string
	Type   string
	Length int64 // 0 when unknown
}

type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	AtomNS  string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Self          rssLink   `xml:"atom:link"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Generator     string    `xml:"generator"`
	Image         *rssImage `xml:"image,omitempty"`
	Items         []rssItem `xml:"item"`
}

type rssLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssImage struct {
	URL   string `xml:"url"`
	Title string `xml:"title"`
	Link  string `xml:"link"`
}

type rssItem struct {
	Title       string        `xml:"title,omitempty"`
	Link        string        `xml:"link"`
	GUID        rssGUID       `xml:"guid"`
	PubDate     string        `xml:"pubDate"`
	Updated     string        `xml:"atom:updated,omitempty"`
	Description string        `xml:"description"`
	Categories  []string      `xml:"category"`
	Enclosure   *rssEnclosure `xml:"enclosure"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssEnclosure struct {
	URL    string `xml:"url,attr"`
	Length int64  `xml:"length,attr"`
	Type   string `xml:"type,attr"`
}

// RSS writes the feed as RSS 2.0. RSS allows one enclosure an item: the first attachment;
// the others are in the item's HTML. Updated times are in atom:updated.
func RSS(f *Feed) ([]byte, error) {
	doc := rssDoc{Version: "2.0", AtomNS: "http://www.w3.org/2005/Atom", Channel: rssChannel{
		Title: f.Title, Link: f.HomeURL, Description: f.Description, Generator: "micropubd",
		Self: rssLink{Href: f.RSSURL, Rel: "self", Type: "application/rss+xml"},
	}}
	if !f.Updated.IsZero() {
		doc.Channel.LastBuildDate = f.Updated.Format(time.RFC1123Z)
	}
	if f.Icon != "" {
		doc.Channel.Image = &rssImage{URL: f.Icon, Title: f.Title, Link: f.HomeURL}
	}
	for _, it := range f.Items {
		item := rssItem{
			Title: it.Title, Link: it.URL, GUID: rssGUID{IsPermaLink: "true", Value: it.URL},
			PubDate: it.Published.Format(time.RFC1123Z), Description: it.HTML, Categories: it.Categories,
		}
		if !it.Updated.IsZero() {
			item.Updated = it.Updated.Format(time.RFC3339)
		}
		if len(it.Attachments) > 0 {
			a := it.Attachments[0]
			item.Enclosure = &rssEnclosure{URL: a.URL, Length: a.Length, Type: a.Type}
		}
		doc.Channel.Items = append(doc.Channel.Items, item)
	}
	return marshalXML(doc)
}

type atomDoc struct {
	XMLName  xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Links    []atomLink  `xml:"link"`
	Author   atomPerson  `xml:"author"`
	Icon     string      `xml:"icon,omitempty"`
	Gen      string      `xml:"generator"`
	Entries  []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href   string `xml:"href,attr"`
	Rel    string `xml:"rel,attr,omitempty"`
	Type   string `xml:"type,attr,omitempty"`
	Length int64  `xml:"length,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomText struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Published  string         `xml:"published"`
	Updated    string         `xml:"updated"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    *atomText      `xml:"summary"`
	Content    atomText       `xml:"content"`
}

// Atom writes the feed as Atom 1.0, every attachment an enclosure link.
func Atom(f *Feed) ([]byte, error) {
	doc := atomDoc{
		ID: f.HomeURL, Title: f.Title, Subtitle: f.Description, Updated: atomTime(f.Updated), Icon: f.Icon, Gen: "micropubd",
		Links: []atomLink{
			{Href: f.HomeURL, Rel: "alternate", Type: "text/html"},
			{Href: f.AtomURL, Rel: "self", Type: "application/atom+xml"},
		},
		Author: atomPerson{Name: f.Author.Name, URI: f.Author.URL},
	}
	for _, it := range f.Items {
		updated := it.Updated
		if updated.IsZero() {
			updated = it.Published
		}
		e := atomEntry{
			ID: it.URL, Title: atomText{Type: "text", Value: it.Title},
			Published: atomTime(it.Published), Updated: atomTime(updated),
			Links:   []atomLink{{Href: it.URL, Rel: "alternate", Type: "text/html"}},
			Content: atomText{Type: "html", Value: it.HTML},
		}
		if it.Summary != "" {
			e.Summary = &atomText{Type: "text", Value: it.Summary}
		}
		for _, c := range it.Categories {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
		for _, a := range it.Attachments {
			e.Links = append(e.Links, atomLink{Href: a.URL, Rel: "enclosure", Type: a.Type, Length: a.Length})
		}
		doc.Entries = append(doc.Entries, e)
	}
	return marshalXML(doc)
}

// atomTime is an RFC 3339 time; a feed without items is dated at the Unix epoch, as Atom
// requires a date.
func atomTime(t time.Time) string {
	if t.IsZero() {
		t = time.Unix(0, 0).UTC()
	}
	return t.Format(time.RFC3339)
}

func marshalXML(doc any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode feed: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

type jsonDoc struct {
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	HomePageURL string       `json:"home_page_url"`
	FeedURL     string       `json:"feed_url"`
	Description string       `json:"description,omitempty"`
	Icon        string       `json:"icon,omitempty"`
	Authors     []jsonAuthor `json:"authors"`
	Items       []jsonItem   `json:"items"`
}

type jsonAuthor struct {
	Name   string `json:"name"`
	URL    string `json:"url,omitempty"`
	Avatar string `json:"avatar,omitempty"`
}

type jsonItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url"`
	Title         string           `json:"title,omitempty"`
	ContentHTML   string           `json:"content_html"`
	Summary       string           `json:"summary,omitempty"`
	Image         string           `json:"image,omitempty"`
	DatePublished string           `json:"date_published"`
	DateModified  string           `json:"date_modified,omitempty"`
	Tags          []string         `json:"tags,omitempty"`
	Attachments   []jsonAttachment `json:"attachments,omitempty"`
}

type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size_in_bytes,omitempty"`
}

// JSON writes the feed as JSON Feed 1.1.
func JSON(f *Feed) ([]byte, error) {
	doc := jsonDoc{
		Version: "https://jsonfeed.org/version/1.1", Title: f.Title, HomePageURL: f.HomeURL, FeedURL: f.JSONURL,
		Description: f.Description, Icon: f.Icon,
		Authors: []jsonAuthor{{Name: f.Author.Name, URL: f.Author.URL, Avatar: f.Author.Photo}},
		Items:   []jsonItem{},
	}
	for _, it := range f.Items {
		item := jsonItem{
			ID: it.URL, URL: it.URL, Title: it.Title, ContentHTML: it.HTML, Summary: it.Summary, Image: it.Image,
			DatePublished: it.Published.Format(time.RFC3339), Tags: it.Categories,
		}
		if !it.Updated.IsZero() {
			item.DateModified = it.Updated.Format(time.RFC3339)
		}
		for _, a := range it.Attachments {
			item.Attachments = append(item.Attachments, jsonAttachment{URL: a.URL, MIMEType: a.Type, Size: a.Length})
		}
		doc.Items = append(doc.Items, item)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode feed: %w", err)
	}
	return append(out, '\n'), nil
}
