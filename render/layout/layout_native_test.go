package layout

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/redistest"
)

// TestNativeBatch: graphs laid out many to a dot process give the same SVG
// as each laid out by its own dot.
func TestNativeBatch(t *testing.T) {
	path := redistest.Require(t, "dot")
	ctx := context.Background()
	eng := newNative(ctx, path)
	jobs := hostileJobs()
	maps.Copy(jobs, siteJobs())
	names := slices.Sorted(maps.Keys(jobs))
	var dots [][]byte
	for _, name := range names {
		dots = append(dots, jobs[name])
	}
	batch, err := eng.svgs(ctx, dots)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		single, err := eng.svg(ctx, dots[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(batch[i], single) {
			t.Errorf("%s: the batched SVG differs from the single one", name)
		}
		checkInertSVG(t, name, batch[i])
		if err := checkSVG(batch[i]); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// a DOT ending in a comment without a newline does not swallow the
	// next graph
	if svgs, err := eng.svgs(ctx, [][]byte{[]byte("digraph a { x }\n// end"), []byte("digraph b { y }")}); err != nil || len(svgs) != 2 {
		t.Errorf("a graph ending in a comment: %d SVGs, %v", len(svgs), err)
	}
	// a DOT text of two graphs gives more documents than graphs
	if _, err := eng.svgs(ctx, [][]byte{[]byte("digraph a { x } digraph b { y }"), []byte("digraph c { z }")}); err == nil {
		t.Error("two graphs in one DOT text were taken for one")
	}
}

// TestNativeBatchErrors: a graph that dot refuses in a batch is named in
// the error, and one DOT text holding two graphs still gets its own SVG.
func TestNativeBatchErrors(t *testing.T) {
	redistest.Require(t, "dot")
	ctx := context.Background()
	jobs := siteJobs()
	jobs["graphs/broken"] = []byte("digraph { a -> ")
	_, err := (&Layouter{Engine: EngineNative, Workers: 1}).LayoutAll(ctx, jobs)
	if err == nil || !strings.Contains(err.Error(), "graphs/broken") {
		t.Errorf("broken DOT in a batch: %v", err)
	}
	jobs = siteJobs()
	jobs["two"] = []byte("digraph a { x } digraph b { y }")
	l := &Layouter{Engine: EngineNative, Workers: 1}
	svgs, err := l.LayoutAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(svgs) != len(jobs) || l.LaidOut() != len(jobs) {
		t.Errorf("%d SVGs, %d laid out for %d graphs", len(svgs), l.LaidOut(), len(jobs))
	}
	for name, svg := range svgs {
		checkInertSVG(t, name, svg)
	}
}

func TestSplitSVGs(t *testing.T) {
	doc := "<?xml version=\"1.0\"?>\n<svg>\n<g id=\"graph0\" class=\"graph\">\n</g>\n</svg>\n"
	later := strings.Replace(doc, `id="graph0"`, `id="page0,1_graph0"`, 1)
	svgs, err := splitSVGs([]byte(doc+later), 2)
	if err != nil || len(svgs) != 2 || string(svgs[0]) != doc || string(svgs[1]) != doc {
		t.Errorf("split: %q, %v", svgs, err)
	}
	for _, bad := range []string{doc, doc + doc + doc, doc + "<?xml version=\"1.0\"?>\n<svg>\n", doc + "<svg>\n</svg>\n"} {
		if _, err := splitSVGs([]byte(bad), 2); err == nil {
			t.Errorf("split %q into 2", bad)
		}
	}
}
