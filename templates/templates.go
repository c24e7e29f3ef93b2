// Package templates holds the html/template files of the site, embedded
// into the binary: base.tmpl (layout, shared blocks) and one file per
// kind of page.
package templates

import "embed"

// FS holds every template file.
//
//go:embed *.tmpl
var FS embed.FS
