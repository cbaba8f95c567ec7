package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadme_QuickStartTellsANewOwnerWhatTheyNeed keeps the README's first lines true: the Go
// version go.mod needs, that serve stays in the foreground (so the next commands go in a second
// terminal), --url and --name in the quick start, and a first-build time.
func TestReadme_QuickStartTellsANewOwnerWhatTheyNeed(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("go.mod has no go line")
	}
	quickStart, _, _ := strings.Cut(string(readme), "## Running it")
	for _, want := range []string{
		"Go " + string(goVersion[1]) + " or newer",
		"runs in the foreground",
		"second terminal",
		`go run ./cmd/micropubd --url http://localhost:8080/ --name "Your Name"`,
		"the first build takes about two minutes on a 2-core machine",
	} {
		if !strings.Contains(squash(quickStart), want) {
			t.Errorf("the README's quick start does not say %q", want)
		}
	}
}

// TestReadme_EveryServeFlagIsInTheTable keeps the flags table of "Running it" complete: each
// flag serve --help lists has its row.
func TestReadme_EveryServeFlagIsInTheTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var help strings.Builder
	serve(context.Background(), []string{"--help"}, &help)
	flags := regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1)
	if len(flags) < 20 {
		t.Fatalf("serve --help lists %d flags:\n%s", len(flags), help.String())
	}
	for _, f := range flags {
		if f[1] == "introspection-token" {
			continue // described with --introspection-endpoint
		}
		if !strings.Contains(string(readme), "| `--"+f[1]+"` |") {
			t.Errorf("the README's flags table has no row for --%s", f[1])
		}
	}
}
