package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGraphSize(t *testing.T) {
	dot := "digraph \"dotm\" {\n\tgraph [layout=\"dot\"]\n\tnode [shape=\"box\"]\n\tedge [color=\"#555555\"]\n" +
		"\tsubgraph cluster_0 {\n\t\tgraph [label=\"x\"]\n\t\ts0 [label=\"a -> b\"]\n\t}\n" +
		"\tn0 [label=\"web ×50\"]\n\tn1 [label=\"app\"]\n\tn0 -> n1 [label=\"8080\"]\n}\n"
	path := filepath.Join(t.TempDir(), "g.dot")
	if err := os.WriteFile(path, []byte(dot), 0o644); err != nil {
		t.Fatal(err)
	}
	nodes, edges, err := graphSize(path)
	if err != nil || nodes != 3 || edges != 1 {
		t.Errorf("graphSize = %d nodes, %d edges, %v; want 3, 1", nodes, edges, err)
	}
}

func TestParseSizes(t *testing.T) {
	if got, err := parseSizes("250, 2000"); err != nil || len(got) != 2 || got[1] != 2000 {
		t.Errorf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "x", "250,,500"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}
