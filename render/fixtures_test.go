package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
)

// TestLayoutFixtures: render/layout's tests lay out the graphs this
// package draws of the test fleets; their DOT files in
// render/layout/testdata are what it draws today (-update rewrites them).
func TestLayoutFixtures(t *testing.T) {
	for set, m := range map[string]*analyze.Model{"site": testModel(), "hostile": hostileModel()} {
		dir := filepath.Join("layout", "testdata", set)
		want := fixtureFiles(allDOT(m))
		if *update {
			if os.Getenv("CI") != "" {
				t.Fatal("-update under CI: fixtures are written by a person, not by CI")
			}
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, dot := range want {
				if err := os.WriteFile(filepath.Join(dir, name), dot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.dot"))
		if len(files) != len(want) {
			t.Errorf("%s: %d fixtures, want %d: run go test -run TestLayoutFixtures -update ./render/", dir, len(files), len(want))
		}
		for name, dot := range want {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || !bytes.Equal(got, dot) {
				t.Errorf("%s/%s is not what render draws (%v): run go test -run TestLayoutFixtures -update ./render/", dir, name, err)
			}
		}
	}
}

// fixtureFiles names each graph's file: its kind, and for node graphs
// the node's place in name order (names are hostile, not file names).
func fixtureFiles(jobs map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	var nodes []string
	for name, dot := range jobs {
		if n, ok := strings.CutPrefix(name, "node "); ok {
			nodes = append(nodes, n)
			continue
		}
		out[name+".dot"] = dot
	}
	slices.Sort(nodes)
	for i, n := range nodes {
		out[fmt.Sprintf("node-%02d.dot", i)] = jobs["node "+n]
	}
	return out
}
