package layout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// maxBatch is the most graphs one dot process lays out: enough that the
// start of a process (most of the CPU time of a small graph) is spread over
// many graphs, few enough that the processes finish at about the same time.
const maxBatch = 250

// nativeEngine runs the system's dot; the graph's layout attribute picks
// the layout (dot honours it itself).
type nativeEngine struct {
	path, version string
}

// newNative asks dot for its version once, for the cache key: an upgraded
// Graphviz lays everything out afresh.
func newNative(ctx context.Context, path string) *nativeEngine {
	out, _ := exec.CommandContext(ctx, path, "-V").CombinedOutput()
	return &nativeEngine{path: path, version: strings.TrimSpace(string(out))}
}

// id names the engine and the output of dot -V.
func (e *nativeEngine) id() string { return EngineNative + " " + e.version }

// svg runs dot -Tsvg with the DOT on stdin, ended with ctx.
func (e *nativeEngine) svg(ctx context.Context, dot []byte) ([]byte, error) {
	return e.run(ctx, bytes.NewReader(dot))
}

// run runs dot -Tsvg on stdin, ended with ctx, and returns its output.
func (e *nativeEngine) run(ctx context.Context, stdin io.Reader) ([]byte, error) {
	cmd := exec.CommandContext(ctx, e.path, "-Tsvg")
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(string(stderr.Bytes()[:min(stderr.Len(), maxStderr)]))
		return nil, fmt.Errorf("%s -Tsvg: %w: %s", e.path, err, msg)
	}
	return stdout.Bytes(), nil
}

// svgs lays out many graphs in one dot process: dot reads the graphs one
// after another from stdin and writes one SVG document for each, in order.
// It fails when dot fails or its output is not one whole SVG document per
// graph (a DOT text holding no graph or two); the caller then lays out the
// graphs one by one.
func (e *nativeEngine) svgs(ctx context.Context, dots [][]byte) ([][]byte, error) {
	rs := make([]io.Reader, 0, 2*len(dots))
	for _, d := range dots {
		// a newline between the graphs, lest a DOT that ends in a //
		// comment without one swallow the next graph's first line
		rs = append(rs, bytes.NewReader(d), strings.NewReader("\n"))
	}
	out, err := e.run(ctx, io.MultiReader(rs...))
	if err != nil {
		return nil, err
	}
	svgs, err := splitSVGs(out, len(dots))
	if err != nil {
		return nil, fmt.Errorf("%s -Tsvg on %d graphs: %w", e.path, len(dots), err)
	}
	return svgs, nil
}

// close has nothing to free: each layout is its own process.
func (e *nativeEngine) close() {}

// batchEngine is an engine that lays out many graphs at once cheaper than
// one by one.
type batchEngine interface {
	engine
	// svgs lays out dots, returning their SVGs in the same order.
	svgs(ctx context.Context, dots [][]byte) ([][]byte, error)
}

var (
	svgEnd = []byte("</svg>\n")
	// dot numbers the pages of every graph after the first of a run on
	// from the first's, naming their top group so; one graph per run
	// names it graph0, and so must a batch, for the same SVG (and cache
	// entry) whichever way a graph was laid out.
	laterGraph = []byte(`<g id="page0,1_graph0" class="graph"`)
	firstGraph = []byte(`<g id="graph0" class="graph"`)
)

// splitSVGs splits the output of dot -Tsvg on n graphs into its n SVG
// documents. dot writes every name and label in them escaped, so
// "</svg>" at the end of a line only ends a document.
func splitSVGs(out []byte, n int) ([][]byte, error) {
	svgs := make([][]byte, 0, n)
	for len(out) > 0 {
		i := bytes.Index(out, svgEnd)
		if i < 0 || len(svgs) == n {
			return nil, errors.New("output after the last SVG document")
		}
		doc := out[:i+len(svgEnd)]
		out = out[i+len(svgEnd):]
		if !bytes.HasPrefix(doc, []byte("<?xml ")) || !validSVG(doc) {
			return nil, fmt.Errorf("SVG document %d is not whole", len(svgs)+1)
		}
		if len(svgs) > 0 {
			if j := bytes.Index(doc, laterGraph); j >= 0 {
				doc = slices.Concat(doc[:j], firstGraph, doc[j+len(laterGraph):])
			}
		}
		svgs = append(svgs, doc)
	}
	if len(svgs) != n {
		return nil, fmt.Errorf("%d SVG documents for %d graphs", len(svgs), n)
	}
	return svgs, nil
}

// layoutBatches lays out jobs with a batch engine into out: the graphs
// not in the cache go in batches of up to maxBatch, at least as many
// batches as workers, workers batches at a time. A batch that fails is
// laid out graph by graph, so the error names the graph that fails.
func (l *Layouter) layoutBatches(ctx context.Context, eng batchEngine, c *layoutCache, jobs, out map[string][]byte, workers int) error {
	var todo []string
	for _, name := range slices.Sorted(maps.Keys(jobs)) {
		if svg, ok := c.get(cacheKey(eng.id(), jobs[name])); ok {
			out[name] = svg
		} else {
			todo = append(todo, name)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	size := min(maxBatch, max(1, (len(todo)+workers-1)/workers))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for batch := range slices.Chunk(todo, size) {
		g.Go(func() error {
			svgs, err := l.batch(gctx, eng, c, batch, jobs)
			if err != nil {
				return err
			}
			mu.Lock()
			for i, name := range batch {
				out[name] = svgs[i]
			}
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// batch lays out the named graphs in one go, else one by one.
func (l *Layouter) batch(ctx context.Context, eng batchEngine, c *layoutCache, names []string, jobs map[string][]byte) ([][]byte, error) {
	dots := make([][]byte, len(names))
	for i, name := range names {
		dots[i] = jobs[name]
	}
	if len(names) > 1 {
		if svgs, err := eng.svgs(ctx, dots); err == nil {
			l.laidOut.Add(int64(len(svgs)))
			for i, svg := range svgs {
				c.put(cacheKey(eng.id(), dots[i]), svg)
			}
			return svgs, nil
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	svgs := make([][]byte, len(names))
	for i, name := range names {
		svg, err := l.layout(ctx, eng, c, dots[i])
		if err != nil {
			return nil, fmt.Errorf("lay out graph %s: %w", name, err)
		}
		svgs[i] = svg
	}
	return svgs, nil
}
