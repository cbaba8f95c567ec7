package notes

import (
	"crypto/rand"
	"regexp"
	"strings"
	"unicode"

	"github.com/micropubd/micropubd"
	"github.com/micropubd/micropubd/micropub"
)

// A shared note is published as an unlisted h-entry: a first line that is a heading becomes its
// name, the rest its content (Markdown rendered to HTML, the Markdown kept as the value), and
// #tags its categories.

var (
	heading = regexp.MustCompile(`^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	tag     = regexp.MustCompile(`(?:^|[\s(\[,;])#([\p{L}\p{N}_][\p{L}\p{N}_/-]*)`)
	fence   = regexp.MustCompile("^ {0,3}(```|~~~)")
	code    = regexp.MustCompile("`[^`]*`")
)

// postProperties makes the properties of the post a note is shared as.
func postProperties(text string) (micropubd.Properties, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	name, body := splitHeading(text)
	html, err := micropub.RenderMarkdown(body)
	if err != nil {
		return nil, err
	}
	props := micropubd.Properties{
		"content":    {map[string]any{"html": html, "value": body}},
		"visibility": {micropubd.VisibilityUnlisted},
	}
	if name != "" {
		props["name"] = []any{name}
	}
	if tags := Tags(text); len(tags) > 0 {
		cats := make([]any, len(tags))
		for i, t := range tags {
			cats[i] = t
		}
		props["category"] = cats
	}
	return props, nil
}

// splitHeading takes a first line that is a Markdown heading off the text.
func splitHeading(text string) (name, body string) {
	trimmed := strings.TrimLeft(text, "\n")
	first, rest, _ := strings.Cut(trimmed, "\n")
	m := heading.FindStringSubmatch(first)
	if m == nil || strings.TrimSpace(m[1]) == "" {
		return "", text
	}
	return strings.TrimSpace(m[1]), strings.TrimLeft(rest, "\n")
}

// Tags returns the #tags of a note's text in the order they first appear, once each (compared
// without case), leaving out code and headings' hashes. A tag has at least one letter, so
// "#1" is not one.
func Tags(text string) []string {
	var (
		out    []string
		seen   = map[string]bool{}
		inCode bool
	)
	for _, line := range strings.Split(text, "\n") {
		if fence.MatchString(line) {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		line = code.ReplaceAllString(line, "")
		for _, m := range tag.FindAllStringSubmatch(line, -1) {
			t := strings.TrimRight(m[1], "/-")
			if !strings.ContainsFunc(t, unicode.IsLetter) || seen[strings.ToLower(t)] {
				continue
			}
			seen[strings.ToLower(t)] = true
			out = append(out, t)
		}
	}
	return out
}

// shareToken is the unguessable part of a shared note's address: 32 characters from a
// cryptographic source, each one of 62 (about 190 bits).
func shareToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const limit = 256 - 256%len(alphabet) // bytes at or above it are dropped, so no letter is likelier
	out := make([]byte, 0, 32)
	buf := make([]byte, 48)
	for len(out) < cap(out) {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < cap(out) {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
