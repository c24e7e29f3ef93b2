package render

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goccy/go-graphviz"
	"golang.org/x/sync/errgroup"
)

// Layout engines of a Layouter.
const (
	// EngineEmbedded is Graphviz compiled to WebAssembly (goccy/go-graphviz):
	// nothing to install.
	EngineEmbedded = "embedded"
	// EngineNative runs the system's Graphviz (dot -Tsvg).
	EngineNative = "native"
	// EngineAuto is native when dot is in PATH, else embedded.
	EngineAuto = "auto"
)

const (
	// sfdpFrom is the graph size (nodes) from which the force-directed
	// sfdp lays out instead of the hierarchical dot, which gets slow and
	// unreadable beyond it.
	sfdpFrom = 300
	// cacheVersion changes the cache key when what is cached changes.
	cacheVersion = "dotm-svg-1"
	// cacheTTL is how long a cached layout that is not used is kept.
	cacheTTL = 14 * 24 * time.Hour
	// maxStderr is how much of dot's error output an error quotes.
	maxStderr = 512
)

// layoutFor is the layout engine for a graph of n nodes.
func layoutFor(n int) string {
	if n > sfdpFrom {
		return "sfdp"
	}
	return "dot"
}

// embeddedSem serialises all use of the embedded Graphviz. goccy/go-graphviz
// runs one WebAssembly module per process (internal/wasm's package-level
// module) that every graphviz.Graphviz shares, and calling it from two
// goroutines corrupts its memory ("wasm error: out of bounds memory
// access"), even with one instance per goroutine. This global mirrors the
// library's own global.
var embeddedSem = make(chan struct{}, 1)

// Layouter turns DOT into SVG, in parallel, skipping graphs whose layout is
// cached. The zero value lays out with the embedded engine, without cache,
// on runtime.NumCPU() workers. A Layouter must not be copied after use.
type Layouter struct {
	// Engine is EngineEmbedded (""), EngineNative or EngineAuto.
	Engine string
	// CacheDir keeps one SVG file per layout, keyed by the engine and the
	// DOT; "" caches nothing.
	CacheDir string
	// Workers is how many graphs are laid out at once (default
	// runtime.NumCPU()). The embedded engine lays out one at a time
	// whatever this says; cache look-ups still run in parallel.
	Workers int

	laidOut atomic.Int64
}

// LaidOut is how many layouts really ran (cache hits not counted).
func (l *Layouter) LaidOut() int { return int(l.laidOut.Load()) }

// SVG lays out one DOT graph.
func (l *Layouter) SVG(ctx context.Context, dot []byte) ([]byte, error) {
	eng, err := l.engine(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.close()
	svg, err := l.layout(ctx, eng, dot)
	if err != nil {
		return nil, fmt.Errorf("lay out graph: %w", err)
	}
	return svg, nil
}

// LayoutAll lays out graphs by name (name → DOT in, name → SVG out), in
// parallel, each from the cache when its DOT did not change. It fails with
// the first graph that fails.
func (l *Layouter) LayoutAll(ctx context.Context, jobs map[string][]byte) (map[string][]byte, error) {
	eng, err := l.engine(ctx)
	if err != nil {
		return nil, err
	}
	defer eng.close()
	out := make(map[string][]byte, len(jobs))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(max(l.Workers, 0), runtime.NumCPU()))
	for _, name := range slices.Sorted(maps.Keys(jobs)) {
		g.Go(func() error {
			svg, err := l.layout(gctx, eng, jobs[name])
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
	if err := l.prune(time.Now()); err != nil {
		return nil, err
	}
	return out, nil
}

// layout is one graph: from the cache, or laid out and cached.
func (l *Layouter) layout(ctx context.Context, eng engine, dot []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := cacheKey(eng.id(), dot)
	if svg, ok := l.cached(key); ok {
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
	return svg, l.store(key, svg)
}

// validSVG tells a complete SVG document from a truncated one.
func validSVG(svg []byte) bool {
	return bytes.Contains(svg, []byte("<svg")) && bytes.HasSuffix(bytes.TrimSpace(svg), []byte("</svg>"))
}

// cacheKey is the name of a layout in the cache: the hash of the cache
// version, the engine (with its version) and the DOT.
func cacheKey(engine string, dot []byte) string {
	h := sha256.New()
	h.Write([]byte(cacheVersion + "\x00" + engine + "\x00"))
	h.Write(dot)
	return hex.EncodeToString(h.Sum(nil))
}

// cachePath is the file of a cache key.
func (l *Layouter) cachePath(key string) string { return filepath.Join(l.CacheDir, key+".svg") }

// cached reads a layout from the cache and marks it used.
func (l *Layouter) cached(key string) ([]byte, bool) {
	if l.CacheDir == "" {
		return nil, false
	}
	p := l.cachePath(key)
	svg, err := os.ReadFile(p)
	if err != nil || !validSVG(svg) {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // only ages the entry for prune
	return svg, true
}

// store writes a layout to the cache: a temporary file renamed into place,
// so a reader never sees half an SVG.
func (l *Layouter) store(key string, svg []byte) error {
	if l.CacheDir == "" {
		return nil
	}
	if err := os.MkdirAll(l.CacheDir, 0o755); err != nil {
		return fmt.Errorf("create layout cache: %w", err)
	}
	f, err := os.CreateTemp(l.CacheDir, key+".*.tmp")
	if err != nil {
		return fmt.Errorf("write layout cache: %w", err)
	}
	_, err = f.Write(svg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), l.cachePath(key))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write layout cache: %w", err)
	}
	return nil
}

// prune deletes cache entries (and temporary files left by a crash) not
// used for cacheTTL, so that the cache does not grow with every change.
func (l *Layouter) prune(now time.Time) error {
	if l.CacheDir == "" {
		return nil
	}
	entries, err := os.ReadDir(l.CacheDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("prune layout cache: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".svg") && !strings.HasSuffix(name, ".tmp") {
			continue
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > cacheTTL {
			_ = os.Remove(filepath.Join(l.CacheDir, name))
		}
	}
	return nil
}

// engine lays out one DOT graph as SVG.
type engine interface {
	// id names the engine and its version, for the cache key.
	id() string
	svg(ctx context.Context, dot []byte) ([]byte, error)
	close()
}

// engine picks the Layouter's engine.
func (l *Layouter) engine(ctx context.Context) (engine, error) {
	switch cmp.Or(l.Engine, EngineEmbedded) {
	case EngineEmbedded:
		return newEmbedded(), nil
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
		return newEmbedded(), nil
	}
	return nil, fmt.Errorf("unknown layout engine %q: use embedded, native or auto", l.Engine)
}

// embeddedEngine is goccy/go-graphviz; one instance per Layouter run,
// used under embeddedSem.
type embeddedEngine struct {
	version string
	gv      *graphviz.Graphviz
}

// newEmbedded prepares the embedded engine; Graphviz starts on first use.
// Its id carries the module version of goccy/go-graphviz.
func newEmbedded() *embeddedEngine {
	e := &embeddedEngine{version: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/goccy/go-graphviz" {
				e.version = d.Version
			}
		}
	}
	return e
}

// id names the engine and the go-graphviz version.
func (e *embeddedEngine) id() string { return EngineEmbedded + " " + e.version }

// svg lays out dot with the engine its layout attribute names (dot by
// default). A layout that has started runs to its end: the WebAssembly
// module does not watch ctx.
func (e *embeddedEngine) svg(ctx context.Context, dot []byte) (_ []byte, err error) {
	select {
	case embeddedSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-embeddedSem }()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("embedded graphviz failed: %v", r)
		}
	}()
	if e.gv == nil {
		if e.gv, err = graphviz.New(ctx); err != nil {
			return nil, fmt.Errorf("start embedded graphviz: %w", err)
		}
	}
	g, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("parse DOT: %s", strings.TrimSpace(err.Error()))
	}
	defer g.Close()
	e.gv.SetLayout(graphviz.Layout(cmp.Or(g.GetStr("layout"), "dot")))
	var buf bytes.Buffer
	if err := e.gv.Render(ctx, g, graphviz.SVG, &buf); err != nil {
		return nil, fmt.Errorf("embedded graphviz: %w", err)
	}
	return buf.Bytes(), nil
}

// close frees the Graphviz context.
func (e *embeddedEngine) close() {
	if e.gv == nil {
		return
	}
	embeddedSem <- struct{}{}
	defer func() { <-embeddedSem }()
	_ = e.gv.Close()
}

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
	cmd := exec.CommandContext(ctx, e.path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(dot)
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

// close has nothing to free: each layout is its own process.
func (e *nativeEngine) close() {}
