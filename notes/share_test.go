package notes

import (
	"slices"
	"strings"
	"testing"
)

func TestTags_FromTheTextNotFromCodeOrHeadings(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"#idea and #Idea again, #travel/japan.", []string{"idea", "travel/japan"}},
		{"# Heading\n\nno tags here", nil},
		{"issue #12 and #2026 are numbers, #v2 is a tag", []string{"v2"}},
		{"a URL https://example.com/page#section is no tag", nil},
		{"`#code` and\n```\n#fenced\n```\n(#inparens) [#bracket]", []string{"inparens", "bracket"}},
		{"#café #日本", []string{"café", "日本"}},
		{"trailing #dash- and #slash/", []string{"dash", "slash"}},
	} {
		if got := Tags(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Tags(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestPostProperties_HeadingBecomesTheName(t *testing.T) {
	props, err := postProperties("# Trip plans #travel\n\nDay one: **Kyoto**.\n\n- [x] book hotel\n- [ ] train\n")
	if err != nil {
		t.Fatal(err)
	}
	if props.First("name") != "Trip plans #travel" {
		t.Errorf("name = %q", props.First("name"))
	}
	if got := props["category"]; len(got) != 1 || got[0] != "travel" {
		t.Errorf("category = %v", got)
	}
	if props.First("visibility") != "unlisted" {
		t.Errorf("visibility = %v", props["visibility"])
	}
	content := props["content"][0].(map[string]any)
	html := content["html"].(string)
	for _, want := range []string{"<strong>Kyoto</strong>", `<input checked="" disabled="" type="checkbox"`, `<input disabled="" type="checkbox"`} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %s:\n%s", want, html)
		}
	}
	if strings.Contains(html, "Trip plans") {
		t.Errorf("the heading is the name and should not repeat in the content:\n%s", html)
	}
	if v := content["value"].(string); !strings.HasPrefix(v, "Day one") {
		t.Errorf("value = %q, want the Markdown after the heading", v)
	}
}

func TestPostProperties_NoHeadingNoName(t *testing.T) {
	props, err := postProperties("Just a thought, with a <script>alert(1)</script> and [a link](javascript:alert(1)).")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := props["name"]; ok {
		t.Errorf("name = %v, want none", props["name"])
	}
	html := props["content"][0].(map[string]any)["html"].(string)
	if strings.Contains(html, "<script") || strings.Contains(html, "javascript:") {
		t.Errorf("unsafe markup in %s", html)
	}
}

func TestShareToken_Is32UnguessableCharacters(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := shareToken()
		if len(tok) != 32 || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Fatalf("token %q", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q twice", tok)
		}
		seen[tok] = true
	}
}
