// Package site writes the output tree of dotm render: assets, relative
// links, deterministic bytes, and an atomic publish so a web server never
// serves a half-written site.
package site
