// Command dotm-bench measures dotm at fleet sizes: for each size it
// simulates a fleet (collect/simfleet, about 150 sockets a host) whose
// hosts answer the agent protocol on 127.1.x.y, runs a real `dotm collect`
// process against a real redis-server and against the embedded store,
// then `dotm render` cold (embedded and native Graphviz) and warm, and
// prints a Markdown table of wall time and peak RSS (BENCHMARKS.md).
//
// Run it from the repository: go run ./cmd/dotm-bench
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c config
	fs := pflag.NewFlagSet("dotm-bench", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("hosts", "250,500,1000,2000", "comma-separated fleet sizes (at least this many hosts each)")
	fs.IntVar(&c.perHost, "sockets", 150, "average sockets a simulated host reports")
	fs.IntVar(&c.runs, "runs", 3, "runs of each cheap measurement (collects, warm render); the best is reported")
	fs.IntVar(&c.agentPort, "agent-port", 14860, "port the simulated agents answer on, each on its own 127.1.x.y")
	fs.StringVar(&c.work, "work", "", "directory for the binary, stores, caches and sites (default: a temporary one, removed)")
	fs.BoolVar(&c.noNative, "no-native", false, "skip the render with a native Graphviz dot")
	if err := fs.Parse(args); errors.Is(err, pflag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	var err error
	if c.sizes, err = parseSizes(*sizes); err != nil || c.runs < 1 {
		fmt.Fprintf(stderr, "dotm-bench: --hosts wants sizes like 250,500 and --runs at least 1\n")
		return 2
	}
	c.log = stderr
	rows, err := bench(ctx, c)
	writeTable(stdout, c, rows)
	if err != nil {
		fmt.Fprintf(stderr, "dotm-bench: %v\n", err)
		return 1
	}
	return 0
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 60000 {
			return nil, fmt.Errorf("size %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
