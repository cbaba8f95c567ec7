// Package templates holds the site's HTML templates, embedded in the binary.
package templates

import "embed"

// FS holds the page templates (*.page.html) and the shared layout and partials.
//
//go:embed *.html
var FS embed.FS
