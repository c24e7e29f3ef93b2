package site

import (
	"embed"
	"fmt"
	"io/fs"
)

// assets holds the site's style sheet and script.
//
//go:embed assets/site.css assets/site.js assets/favicon.svg
var assets embed.FS

// WriteAssets writes the embedded style sheet and script to assets/ in t
// (assets/site.css, assets/site.js), in a fixed order.
func WriteAssets(t *Tree) error {
	return fs.WalkDir(assets, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assets.ReadFile(name)
		if err != nil {
			return fmt.Errorf("site: read embedded %s: %w", name, err)
		}
		return t.Write(name, data)
	})
}
