package render

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

// siteJobs are the graphs of the test fleet, as the site lays them out.
func siteJobs() map[string][]byte { return allDOT(testModel()) }

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
	svg, err := l.SVG(context.Background(), LegendDOT())
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
	if _, err := l.LayoutAll(context.Background(), map[string][]byte{"legend": LegendDOT()}); err != nil {
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
	jobs := allDOT(hostileModel())
	native := &Layouter{Engine: EngineNative, CacheDir: dir}
	svgs, err := native.LayoutAll(ctx, jobs)
	if err != nil {
		t.Fatal(err)
	}
	for name, svg := range svgs {
		checkInertSVG(t, name, svg)
	}
	if !bytes.Contains(svgs["node "+hostile[0]], []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
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
	d := &dotGraph{}
	for i := range sfdpFrom + 20 {
		d.nodes = append(d.nodes, dotNode{fmt.Sprintf("n%d", i), []kv{{"label", fmt.Sprint(i)}}})
		if i > 0 {
			d.edges = append(d.edges, dotEdge{fmt.Sprintf("n%d", i/3), fmt.Sprintf("n%d", i), nil})
		}
	}
	dot := d.bytes()
	if !bytes.Contains(dot, []byte(`layout="sfdp"`)) {
		t.Fatalf("no sfdp for %d nodes", d.size())
	}
	for _, engine := range engines(t) {
		svg, err := (&Layouter{Engine: engine}).SVG(context.Background(), dot)
		if err != nil {
			t.Fatalf("%s: %v", engine, err)
		}
		if !validSVG(svg) || bytes.Count(svg, []byte(`class="node"`)) != d.size() {
			t.Errorf("%s: sfdp SVG lacks nodes", engine)
		}
	}
}

func TestLayoutErrors(t *testing.T) {
	ctx := context.Background()
	var err error
	if _, err := (&Layouter{Engine: "neato"}).SVG(ctx, LegendDOT()); err == nil || !strings.Contains(err.Error(), `unknown layout engine "neato"`) {
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
	if _, err := (&Layouter{}).SVG(ctx, LegendDOT()); err != nil {
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
	if _, err := (&Layouter{Engine: EngineNative}).SVG(ctx, LegendDOT()); err == nil || !strings.Contains(err.Error(), "install graphviz") {
		t.Errorf("native without dot: %v", err)
	}
	l := &Layouter{Engine: EngineAuto}
	if _, err := l.SVG(ctx, LegendDOT()); err != nil || l.LaidOut() != 1 {
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
func benchFleet(n int) []byte {
	var nodes []*Node
	name := func(i int) string { return fmt.Sprintf("h%03d-%c", i, 'a'+i%26) }
	for i := range n {
		nd := &Node{Node: store.Node{Name: name(i)}, Services: []store.Service{svc(8000+i%7, fmt.Sprintf("proc%d", i%7), "")}}
		for _, j := range []int{i*3 + 1, i*3 + 2, i*3 + 3} {
			if j < n {
				nd.Connections = append(nd.Connections, out(fmt.Sprint(8000+j%7), name(j), nd.Services[0].Process))
			}
		}
		nodes = append(nodes, nd)
	}
	m := NewModel(testNow, testConf(), nodes)
	var names []string
	for _, nd := range m.Nodes {
		names = append(names, nd.Name)
	}
	g := globalGraph(m, fleetLinks(m), grouper{func(s string) string { return s }}, names)
	return g.bytes()
}

// BenchmarkLayoutGlobal lays out a global graph of 300 nodes (dot) and of
// 1000 nodes (sfdp) with each engine, without cache.
func BenchmarkLayoutGlobal(b *testing.B) {
	for _, n := range []int{300, 1000} {
		dot := benchFleet(n)
		for _, engine := range []string{EngineEmbedded, EngineNative} {
			b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
				if engine == EngineNative {
					redistest.Require(b, "dot")
				}
				ctx := context.Background()
				for b.Loop() {
					if _, err := (&Layouter{Engine: engine}).SVG(ctx, dot); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
