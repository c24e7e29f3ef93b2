// Command dotm-agent answers DOTM agent connections: every client that
// connects from an allowed address gets this host's hostname, its TCP
// sockets in `netstat -antp` format and its addresses in `ip addr` format,
// read from /proc without running any program, and the connection is
// closed. It needs no Redis and no Graphviz.
//
// Run unprivileged, it sees the owning process of its own user's sockets
// only; with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE it sees all (see
// dotm-agent.service).
//
// Exit status: 0 after a clean stop on SIGINT or SIGTERM, 1 when listening
// or serving fails, 2 on bad usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/collect/agent"
	"github.com/lwindolf/dotm/internal/agentcli"
	"github.com/lwindolf/dotm/internal/buildinfo"
	"github.com/lwindolf/dotm/internal/clidoc"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dotm-agent", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flags := agentcli.Bind(fs)
	err := fs.Parse(args)
	switch {
	case err == nil && *flags.Help:
		fmt.Fprintf(stdout, "Usage: dotm-agent [flags]\n\n%s.\n\n%s\n\nFlags:\n%s", agentcli.Summary, agentcli.Details, clidoc.Usages(fs))
		return 0
	case err == nil && *flags.Version:
		fmt.Fprintln(stdout, buildinfo.Get().Line("dotm-agent"))
		return 0
	case err == nil && fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var c agent.Config
	if err == nil {
		c, err = flags.Config()
	}
	log, lerr := flags.Logger(stderr)
	if err == nil {
		err = lerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "dotm-agent: %v\nRun 'dotm-agent --help' for usage.\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("starting", "version", buildinfo.Get().Version)
	if err := agent.Run(ctx, c, log); err != nil {
		log.Error("dotm-agent failed", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
