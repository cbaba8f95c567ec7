package micropub

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown is GitHub-flavoured Markdown: tables, task lists, strikethrough and autolinks. Raw
// HTML in the source is left out and dangerous link targets dropped (goldmark's safe default);
// the site sanitises the result again when it renders a post.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// RenderMarkdown turns Markdown (a shared note, an article written in the browser) into the
// HTML of a post's content.
func RenderMarkdown(src string) (string, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}
