// Package layout turns DOT into SVG with Graphviz, embedded (WebAssembly,
// in the dotm-layout program) or the system's, caching each layout by its
// DOT and checking every SVG before it reaches a page.
package layout

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Layout engines of a Layouter.
const (
	// EngineEmbedded is Graphviz compiled to WebAssembly (goccy/go-graphviz)
	// in the dotm-layout program: nothing else to install.
	EngineEmbedded = "embedded"
	// EngineNative runs the system's Graphviz (dot -Tsvg).
	EngineNative = "native"
	// EngineAuto is native when dot is in PATH, else embedded.
	EngineAuto = "auto"
)

const (
	// SfdpFrom is the graph size (nodes) from which the force-directed
	// sfdp lays out instead of the hierarchical dot, which gets slow and
	// unreadable beyond it.
	SfdpFrom = 300
	// cacheVersion changes the cache key when what is cached changes.
	cacheVersion = "dotm-svg-1"
	// cacheTTL is how long a cached layout that is not used is kept.
	cacheTTL = 14 * 24 * time.Hour
	// maxStderr is how much of dot's error output an error quotes.
	maxStderr = 512
)

// Algorithm is the Graphviz layout program for a graph of n nodes: dot,
// or sfdp for large graphs.
func Algorithm(n int) string {
	if n > SfdpFrom {
		return "sfdp"
	}
	return "dot"
}

// Layouter turns DOT into SVG, in parallel, skipping graphs whose layout is
// cached. The zero value lays out with the embedded engine, without cache,
// on runtime.NumCPU() workers. A Layouter must not be copied after use.
type Layouter struct {
	// Engine is EngineEmbedded (""), EngineNative or EngineAuto.
	Engine string
	// CacheDir keeps one SVG file per layout, keyed by the engine and the
	// DOT; "" caches nothing. It must be ours alone (see openCache): one
	// that is not, or that cannot be written, is reported through Warn
	// and the layouts go on without it.
	CacheDir string
	// Workers is how many graphs are laid out at once (default
	// runtime.NumCPU()), each embedded one in its own dotm-layout process.
	Workers int
	// Warn receives, once each, the problems the Layouter works around
	// (a cache it does not use); nil drops them.
	Warn func(msg string)

	laidOut atomic.Int64
}

// LaidOut is how many layouts really ran (cache hits not counted).
func (l *Layouter) LaidOut() int { return int(l.laidOut.Load()) }

// warn passes msg to Warn.
func (l *Layouter) warn(msg string) {
	if l.Warn != nil {
		l.Warn(msg)
	}
}

// SVG lays out one DOT graph.
func (l *Layouter) SVG(ctx context.Context, dot []byte) ([]byte, error) {
	c := openCache(l.CacheDir, l.warn)
	defer c.close()
	eng, err := l.engine(ctx, c)
	if err != nil {
		return nil, err
	}
	defer eng.close()
	svg, err := l.layout(ctx, eng, c, dot)
	if err != nil {
		return nil, fmt.Errorf("lay out graph: %w", err)
	}
	return svg, nil
}

// LayoutAll lays out graphs by name (name → DOT in, name → SVG out), in
// parallel, each from the cache when its DOT did not change. It fails with
// the first graph that fails.
func (l *Layouter) LayoutAll(ctx context.Context, jobs map[string][]byte) (map[string][]byte, error) {
	c := openCache(l.CacheDir, l.warn)
	defer c.close()
	eng, err := l.engine(ctx, c)
	if err != nil {
		return nil, err
	}
	defer eng.close()
	out := make(map[string][]byte, len(jobs))
	workers := cmp.Or(max(l.Workers, 0), runtime.NumCPU())
	if b, ok := eng.(batchEngine); ok {
		if err := l.layoutBatches(ctx, b, c, jobs, out, workers); err != nil {
			return nil, err
		}
		c.prune(time.Now())
		return out, nil
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, name := range slices.Sorted(maps.Keys(jobs)) {
		g.Go(func() error {
			svg, err := l.layout(gctx, eng, c, jobs[name])
			if err != nil {
				return fmt.Errorf("lay out graph %s: %w", name, err)
			}
			mu.Lock()
			out[name] = svg
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	c.prune(time.Now())
	return out, nil
}

// layout is one graph: from the cache, or laid out and cached.
func (l *Layouter) layout(ctx context.Context, eng engine, c *layoutCache, dot []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := cacheKey(eng.id(), dot)
	if svg, ok := c.get(key); ok {
		return svg, nil
	}
	svg, err := eng.svg(ctx, dot)
	if err != nil {
		return nil, err
	}
	if !validSVG(svg) {
		return nil, fmt.Errorf("%s engine gave no SVG", eng.id())
	}
	l.laidOut.Add(1)
	c.put(key, svg)
	return svg, nil
}

// validSVG tells a complete SVG document from a truncated one.
func validSVG(svg []byte) bool {
	return bytes.Contains(svg, []byte("<svg")) && bytes.HasSuffix(bytes.TrimSpace(svg), []byte("</svg>"))
}

// engine lays out one DOT graph as SVG.
type engine interface {
	// id names the engine and its version, for the cache key.
	id() string
	svg(ctx context.Context, dot []byte) ([]byte, error)
	close()
}

// engine picks the Layouter's engine.
func (l *Layouter) engine(ctx context.Context, c *layoutCache) (engine, error) {
	switch cmp.Or(l.Engine, EngineEmbedded) {
	case EngineEmbedded:
		return newEmbedded(c, l.warn)
	case EngineNative:
		path, err := exec.LookPath("dot")
		if err != nil {
			return nil, fmt.Errorf("layout engine native: Graphviz's dot is not in PATH (install graphviz, or use --layout embedded): %w", err)
		}
		return newNative(ctx, path), nil
	case EngineAuto:
		if path, err := exec.LookPath("dot"); err == nil {
			return newNative(ctx, path), nil
		}
		return newEmbedded(c, l.warn)
	}
	return nil, fmt.Errorf("unknown layout engine %q: use embedded, native or auto", l.Engine)
}
