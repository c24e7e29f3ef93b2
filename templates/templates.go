// Package templates holds the html/template files of the site, embedded
// into the binary.
package templates

import "embed"

// FS holds every template file.
//
//go:embed *.tmpl
var FS embed.FS
