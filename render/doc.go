// Package render turns the analysis (package analyze) into the static
// site: the pages, from one table that is also the navigation, and the
// DOT graphs, laid out by render/layout and written through package site.
// It knows nothing of the report, the other output of the analysis.
package render
