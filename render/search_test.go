package render

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/render/layout"
	"github.com/lwindolf/dotm/templates"
)

// memSite keeps the files of a site build.
type memSite map[string][]byte

func (s memSite) Write(rel string, data []byte) error { s[rel] = data; return nil }

// TestSearchIndex: the site's search index lists nodes with their IPs
// (not the loopback every node has), services with ports, and processes;
// search-index.js is the same JSON set as a global, and hostile names
// stay inert in it.
func TestSearchIndex(t *testing.T) {
	for _, m := range []struct {
		name string
		site memSite
	}{{"site", build(t, testModel())}, {"hostile", build(t, hostileModel())}} {
		doc := m.site["search.json"]
		var entries []searchEntry
		if err := json.Unmarshal(doc, &entries); err != nil || len(entries) == 0 {
			t.Fatalf("%s: search.json: %v (%d entries)", m.name, err, len(entries))
		}
		js := m.site["search-index.js"]
		if !bytes.Contains(js, append([]byte("window.dotmSearch = "), doc...)) {
			t.Errorf("%s: search-index.js does not set the index", m.name)
		}
		if bytes.ContainsAny(js, "<>\x00\x1b\u202e") {
			t.Errorf("%s: search-index.js holds raw markup or control characters", m.name)
		}
		for _, e := range entries {
			if _, ok := m.site[e.URL]; !ok {
				t.Errorf("%s: %s %q links %s, which the site lacks", m.name, e.Kind, e.Name, e.URL)
			}
		}
	}
	var db01 *searchEntry
	var entries []searchEntry
	_ = json.Unmarshal(build(t, testModel())["search.json"], &entries)
	for i, e := range entries {
		if e.Kind == "node" && e.Name == "db01" {
			db01 = &entries[i]
		}
	}
	if db01 == nil || db01.URL != "nodes/db01.html" || !strings.Contains(db01.Terms, "CRITICAL") {
		t.Errorf("db01's entry: %+v", db01)
	}
}

// build renders the site of m into memory.
func build(t *testing.T, m *analyze.Model) memSite {
	t.Helper()
	s := memSite{}
	if err := BuildSite(context.Background(), m, s, &layout.Layouter{}, SiteOptions{Templates: templates.FS}); err != nil {
		t.Fatal(err)
	}
	return s
}
