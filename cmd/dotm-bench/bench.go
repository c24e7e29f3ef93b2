package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

type config struct {
	sizes     []int
	perHost   int
	runs      int
	agentPort int
	work      string
	noNative  bool
	log       io.Writer
}

// row is one fleet size's figures.
type row struct {
	hosts, sockets       int
	collectRedis         cost
	collectEmbedded      cost
	renderCold, warm     cost
	renderNative         cost
	graphNodes, graphEdg int
}

// t0 is the first collect's time (--now): runs are reproducible.
const t0 = 1767225600 // 2026-01-01T00:00:00Z

func bench(ctx context.Context, c config) ([]row, error) {
	if c.work == "" {
		dir, err := os.MkdirTemp("", "dotm-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		c.work = dir
	}
	if err := raiseNoFile(uint64(slicesMax(c.sizes)) + 1024); err != nil {
		return nil, err
	}
	bin := filepath.Join(c.work, "dotm")
	// dotm and, beside it, dotm-layout: the embedded layout engine.
	build := exec.CommandContext(ctx, "go", "build", "-o", c.work+string(filepath.Separator),
		"github.com/lwindolf/dotm/cmd/dotm", "github.com/lwindolf/dotm/cmd/dotm-layout")
	build.Stderr = c.log
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build dotm and dotm-layout (run dotm-bench inside the repository): %w", err)
	}
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("the benchmark needs a real redis-server: %w", err)
	}
	var rows []row
	for _, n := range c.sizes {
		r, err := benchSize(ctx, c, bin, redisBin, n)
		if err != nil {
			return rows, fmt.Errorf("%d hosts: %w", n, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func slicesMax(s []int) int {
	m := 0
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

// benchSize measures one fleet size in a directory of its own, with a
// redis-server of its own.
func benchSize(ctx context.Context, c config, bin, redisBin string, n int) (row, error) {
	dir := filepath.Join(c.work, strconv.Itoa(n))
	if err := os.MkdirAll(filepath.Join(dir, "redis"), 0o755); err != nil {
		return row{}, err
	}
	srv, err := redistest.StartServer(redisBin, filepath.Join(dir, "redis"))
	if err != nil {
		return row{}, err
	}
	defer srv.Stop()
	fleet := sizedFleet(n, c.perHost, uint16(c.agentPort))
	r := row{hosts: len(fleet.Hosts), sockets: sockets(fleet)}
	fmt.Fprintf(c.log, "%d hosts, %d sockets\n", r.hosts, r.sockets)
	redis := []string{"--redis", srv.URL()}
	embedded := []string{"--data-dir", filepath.Join(dir, "embedded")}
	if err := collectBoth(ctx, c, bin, fleet, &r, redis, embedded); err != nil {
		return r, err
	}
	return r, renderAll(ctx, c, bin, dir, redis, &r)
}

// collectBoth serves the fleet and collects it into both stores, c.runs
// times each, an hour apart, as cron would.
func collectBoth(ctx context.Context, c config, bin string, fleet *simfleet.Fleet, r *row, redis, embedded []string) error {
	sctx, stop := context.WithCancel(ctx)
	wait, err := fleet.Serve(sctx)
	defer func() { stop(); wait() }()
	if err != nil {
		return err
	}
	if err := register(ctx, fleet, store.Options{URL: redis[1]}); err != nil {
		return err
	}
	if err := register(ctx, fleet, store.Options{DataDir: embedded[1]}); err != nil {
		return err
	}
	if r.collectRedis, err = collectRuns(ctx, c, bin, redis); err != nil {
		return err
	}
	r.collectEmbedded, err = collectRuns(ctx, c, bin, embedded)
	return err
}

func collectRuns(ctx context.Context, c config, bin string, storeArgs []string) (cost, error) {
	return best(c.runs, func(i int) (cost, error) {
		args := append(append([]string(nil), storeArgs...), "collect", "--now", strconv.Itoa(t0+3600*i))
		m, out, err := measure(ctx, bin, args...)
		fmt.Fprintf(c.log, "  collect %s #%d: %s (CPU %.2f s) — %s\n", storeArgs[0], i+1, m, m.cpu.Seconds(), out)
		return m, err
	})
}

// renderAll renders the Redis store's site cold (empty cache) with the
// embedded Graphviz, warm (same data, same cache) and cold with the
// native dot, and counts the global graph.
func renderAll(ctx context.Context, c config, bin, dir string, redis []string, r *row) error {
	now := strconv.Itoa(t0 + 3600*(c.runs-1))
	render := func(name, layout, cache string) (cost, error) {
		args := append(append([]string(nil), redis...), "render", "--now", now, "--layout", layout,
			"--out", filepath.Join(dir, "site-"+layout), "--cache", filepath.Join(dir, cache))
		m, out, err := measure(ctx, bin, args...)
		fmt.Fprintf(c.log, "  render %s: %s (CPU %.2f s) — %s\n", name, m, m.cpu.Seconds(), out)
		return m, err
	}
	var err error
	if r.renderCold, err = render("cold embedded", "embedded", "cache-embedded"); err != nil {
		return err
	}
	if r.warm, err = best(c.runs, func(int) (cost, error) { return render("warm embedded", "embedded", "cache-embedded") }); err != nil {
		return err
	}
	if r.graphNodes, r.graphEdg, err = graphSize(filepath.Join(dir, "site-embedded", "graphs", "global.dot")); err != nil {
		return err
	}
	if !c.noNative {
		r.renderNative, err = render("cold native", "native", "cache-native")
	}
	return err
}
