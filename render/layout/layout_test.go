package layout

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
)

// siteJobs are the graphs of the test fleet, as the site lays them out
// (testdata/site, written by package render's TestLayoutFixtures).
func siteJobs() map[string][]byte { return readJobs("site") }

// hostileJobs are the graphs of a fleet with hostile names
// (testdata/hostile).
func hostileJobs() map[string][]byte { return readJobs("hostile") }

// readJobs reads testdata/<set>/*.dot, by name without extension.
func readJobs(set string) map[string][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", set, "*.dot"))
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("no DOT fixtures in testdata/%s: run go test -run TestLayoutFixtures -update ./render/ (%v)", set, err))
	}
	jobs := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		jobs[strings.TrimSuffix(filepath.Base(f), ".dot")] = b
	}
	return jobs
}

func TestLayoutCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	jobs := siteJobs()
	l := &Layouter{CacheDir: dir, Workers: 4}
	first, err := l.LayoutAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if l.LaidOut() != len(jobs) || len(first) != len(jobs) {
		t.Fatalf("first run laid out %d of %d graphs, returned %d", l.LaidOut(), len(jobs), len(first))
	}
	for name, svg := range first {
		checkInertSVG(t, name, svg)
	}
	again, err := l.LayoutAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if l.LaidOut() != len(jobs) {
		t.Errorf("second run laid out %d graphs again", l.LaidOut()-len(jobs))
	}
	fresh := &Layouter{CacheDir: dir} // a later run of dotm render
	third, err := fresh.LayoutAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.LaidOut() != 0 {
		t.Errorf("a new Layouter on the same cache laid out %d graphs", fresh.LaidOut())
	}
	for name := range jobs {
		if !bytes.Equal(first[name], again[name]) || !bytes.Equal(first[name], third[name]) {
			t.Errorf("%s: cached SVG differs", name)
		}
	}
	// one changed graph is the only one laid out again
	jobs["global"] = append(bytes.TrimSuffix(jobs["global"], []byte("}\n")), "\tx0 [label=\"new\"];\n}\n"...)
	if _, err := fresh.LayoutAll(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if fresh.LaidOut() != 1 {
		t.Errorf("after one change %d graphs were laid out", fresh.LaidOut())
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmp) > 0 {
		t.Errorf("temporary files left in the cache: %v", tmp)
	}
}

func TestLayoutPrune(t *testing.T) {
	dir := t.TempDir()
	l := &Layouter{CacheDir: dir}
	svg, err := l.SVG(context.Background(), legendDOT())
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, strings.Repeat("0", 64)+".svg")
	keep := filepath.Join(dir, "README")
	for _, f := range []string{stale, keep} {
		if err := os.WriteFile(f, svg, 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-cacheTTL - time.Hour)
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// a run prunes when it is done
	if _, err := l.LayoutAll(context.Background(), map[string][]byte{"legend": legendDOT()}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a stale cache entry was kept")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Error("prune removed a file that is not its own")
	}
	if l.LaidOut() != 1 {
		t.Errorf("LaidOut = %d, want 1", l.LaidOut())
	}
}

// TestLayoutDeterministic: the same DOT gives byte-identical SVG, also
// from a fresh Graphviz.
func TestLayoutDeterministic(t *testing.T) {
	for _, engine := range engines(t) {
		t.Run(engine, func(t *testing.T) {
			jobs := siteJobs()
			a, err := (&Layouter{Engine: engine}).LayoutAll(context.Background(), jobs)
			if err != nil {
				t.Fatal(err)
			}
			b, err := (&Layouter{Engine: engine, Workers: 1}).LayoutAll(context.Background(), jobs)
			if err != nil {
				t.Fatal(err)
			}
			for name := range jobs {
				if !bytes.Equal(a[name], b[name]) {
					t.Errorf("%s: two layouts differ:\n%s\n---\n%s", name, a[name], b[name])
				}
			}
		})
	}
}

// engines are the engines to test: embedded, and native when dot is
// installed (always under CI=true, where a missing dot fails).
func engines(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("dot"); err == nil || redistest.MustHave() {
		return []string{EngineEmbedded, EngineNative}
	}
	t.Log("dot is not installed: the native engine is not tested")
	return []string{EngineEmbedded}
}

func TestLayoutNative(t *testing.T) {
	redistest.Require(t, "dot")
	ctx := context.Background()
	dir := t.TempDir()
	jobs := hostileJobs()
	native := &Layouter{Engine: EngineNative, CacheDir: dir}
	svgs, err := native.LayoutAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	for name, svg := range svgs {
		checkInertSVG(t, name, svg)
	}
	if !slices.ContainsFunc(slices.Collect(maps.Values(svgs)), func(svg []byte) bool {
		return bytes.Contains(svg, []byte("&lt;script&gt;alert(1)&lt;/script&gt;"))
	}) {
		t.Errorf("the script name is not shown as text")
	}
	// the engines do not share cache entries: their SVGs differ
	emb := &Layouter{Engine: EngineEmbedded, CacheDir: dir}
	if _, err := emb.SVG(ctx, jobs["legend"]); err != nil {
		t.Fatal(err)
	}
	if emb.LaidOut() != 1 {
		t.Error("the embedded engine took the native engine's layout from the cache")
	}
	auto := &Layouter{Engine: EngineAuto, CacheDir: dir}
	if _, err := auto.LayoutAll(ctx, jobs); err != nil || auto.LaidOut() != 0 {
		t.Errorf("auto with dot installed did not use the native layouts (%d laid out, %v)", auto.LaidOut(), err)
	}
}

// TestLayoutSfdp: large graphs are laid out by sfdp, by both engines.
func TestLayoutSfdp(t *testing.T) {
	n := SfdpFrom + 20
	var b strings.Builder
	b.WriteString("digraph \"dotm\" {\n\tlayout=\"" + Algorithm(n) + "\";\n")
	for i := range n {
		fmt.Fprintf(&b, "\tn%d [label=\"%d\"];\n", i, i)
		if i > 0 {
			fmt.Fprintf(&b, "\tn%d -> n%d;\n", i/3, i)
		}
	}
	b.WriteString("}\n")
	dot := []byte(b.String())
	if Algorithm(n) != "sfdp" {
		t.Fatalf("no sfdp for %d nodes", n)
	}
	for _, engine := range engines(t) {
		svg, err := (&Layouter{Engine: engine}).SVG(context.Background(), dot)
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if !validSVG(svg) || bytes.Count(svg, []byte(`class="node"`)) != n {
			t.Errorf("%s: sfdp SVG lacks nodes", engine)
		}
	}
}

func TestLayoutErrors(t *testing.T) {
	ctx := context.Background()
	var err error
	if _, err := (&Layouter{Engine: "neato"}).SVG(ctx, legendDOT()); err == nil || !strings.Contains(err.Error(), `unknown layout engine "neato"`) {
		t.Errorf("unknown engine: %v", err)
	}
	_, err = (&Layouter{}).LayoutAll(ctx, map[string][]byte{"graphs/broken": []byte("digraph { a -> ")})
	if err == nil || !strings.Contains(err.Error(), "graphs/broken") {
		t.Errorf("broken DOT: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (&Layouter{}).LayoutAll(cancelled, siteJobs()); err == nil {
		t.Error("a cancelled context laid out graphs")
	}
	if _, err := (&Layouter{}).SVG(ctx, legendDOT()); err != nil {
		t.Errorf("the embedded engine is broken after errors: %v", err)
	}
	// a PATH with dotm-layout but no dot
	program, err := exec.LookPath(layoutProgram)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(program, filepath.Join(bin, layoutProgram)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	if _, err := (&Layouter{Engine: EngineNative}).SVG(ctx, legendDOT()); err == nil || !strings.Contains(err.Error(), "install graphviz") {
		t.Errorf("native without dot: %v", err)
	}
	l := &Layouter{Engine: EngineAuto}
	if _, err := l.SVG(ctx, legendDOT()); err != nil || l.LaidOut() != 1 {
		t.Errorf("auto without dot did not fall back to embedded: %v", err)
	}
}

// TestLayoutConcurrent: Layouters running at the same time (the embedded
// engine shares one WebAssembly module) all get whole, equal SVGs.
func TestLayoutConcurrent(t *testing.T) {
	jobs := siteJobs()
	want, err := (&Layouter{}).LayoutAll(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := (&Layouter{Workers: 8}).LayoutAll(context.Background(), jobs)
			if err != nil {
				t.Error(err)
				return
			}
			for name := range jobs {
				if !bytes.Equal(got[name], want[name]) {
					t.Errorf("%s differs when laid out concurrently", name)
				}
			}
		})
	}
	wg.Wait()
}

// benchFleet is a fleet of n nodes in tiers that each use a few nodes of
// the next tier, drawn one box per node.

// legendDOT is the site's legend graph: small, and every engine lays it
// out.
func legendDOT() []byte { return siteJobs()["legend"] }

// checkInertSVG checks that an SVG holds no markup from the names in it
// (its links, <a> with a local href, are the render's own: checkSVG
// checks them).
func checkInertSVG(t *testing.T, name string, svg []byte) {
	t.Helper()
	low := bytes.ToLower(svg)
	for _, bad := range []string{"<script", "<foreignobject", "javascript:", " onload="} {
		if bytes.Contains(low, []byte(bad)) {
			t.Errorf("%s: SVG contains %q", name, bad)
		}
	}
	if !validSVG(svg) {
		t.Errorf("%s: not an SVG: %.200s", name, svg)
	}
}
