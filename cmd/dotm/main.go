// Command dotm is the DevOps Trouble Map: it collects what runs where on
// your hosts and what your monitoring says about it into Redis, and turns
// that into a static site of architecture graphs, alert-to-service tables
// and stale-service reports.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}
