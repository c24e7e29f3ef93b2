package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/store"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func collectCommand() *command {
	return &command{
		name:    "collect",
		summary: "fetch every node's sockets and interfaces into the store",
		details: `Fetches each node with its method (fetch_parameters, or the node's own):
the dotm agent on port 4848, ssh (ss or netstat, and ip addr), or local (this
machine). A node that cannot be fetched keeps its data and records the error.
With no nodes configured, collect adds this machine with the local method.

When another collect holds the update lock, this one says so (by whom and
since when) and exits 0; --quiet hides that unless the lock is older than a
normal run (5 minutes, or twice --timeout). On a terminal it shows progress;
--quiet prints only when a node failed. The summary names the first 10
failed nodes and counts the rest.

--distribute hands the fetches to "dotm worker" processes on any machines
sharing the Redis server (one task per node on dotm::queue) and aggregates
their results here. A worker that dies mid-task loses nothing: its task goes
to another worker once its lease (--visibility-timeout of the workers) ran out.`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var o collectOpts
			fs.IntVar(&o.concurrency, "concurrency", 100, "nodes fetched at once")
			fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline for each node's fetch")
			fs.StringVar(&o.now, "now", "", "the time to record (unix seconds or RFC 3339), for backfills and tests")
			fs.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing unless a node or a monitoring source failed (for cron)")
			fs.BoolVar(&o.distribute, "distribute", false, "hand the fetches to dotm workers through the Redis server")
			fs.DurationVar(&o.taskTimeout, "task-timeout", 5*time.Minute, "with --distribute: how long to wait for the workers")
			fs.DurationVar(&o.visibility, "visibility-timeout", collect.DefaultVisibility, "with --distribute: hand a task to another worker when its worker was silent this long (as the workers' flag)")
			fs.StringArrayVar(&o.monitoring, "monitoring", nil, "monitoring source to read (repeatable): a status.dat path, "+
				"icinga2+https://HOST:5665, livestatus+unix:///PATH, livestatus+tcp://HOST:PORT or nagios+https://HOST/nagios4/cgi-bin "+
				"(default: nagios_instance's source)")
			metricsFlag(fs, &o.metricsFile)
			return func(ctx context.Context, e *env, args []string) error { return runCollect(ctx, e, args, o) }
		},
	}
}

type collectOpts struct {
	concurrency int
	timeout     time.Duration
	distribute  bool
	taskTimeout time.Duration
	visibility  time.Duration
	now         string
	quiet       bool
	monitoring  []string
	metricsFile string
}

func runCollect(ctx context.Context, e *env, args []string, o collectOpts) (err error) {
	const path = "dotm collect"
	rec := startMetrics(o.metricsFile, "collect")
	defer func() { err = rec.done(err) }()
	if err := noArgs(path, args); err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return usagef(path, "%v", err)
	}
	if o.concurrency < 1 || o.timeout <= 0 {
		return usagef(path, "--concurrency must be at least 1 and --timeout positive")
	}
	for _, m := range o.monitoring {
		if err := monitor.Check(m); err != nil {
			return usagef(path, "--monitoring: %v", err)
		}
	}
	if o.taskTimeout <= 0 || o.visibility <= 0 {
		return usagef(path, "--task-timeout and --visibility-timeout must be positive")
	}
	opts := collect.Options{Now: now, Concurrency: o.concurrency, Timeout: o.timeout, Monitoring: o.monitoring,
		Distribute: o.distribute, TaskTimeout: o.taskTimeout, Visibility: o.visibility}
	if !o.quiet && isTerminal(e.stderr) {
		bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("collecting"), progressbar.OptionClearOnFinish(),
			progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true))
		opts.Progress = func(done, total int) {
			bar.ChangeMax(total)
			_ = bar.Set(done)
		}
		defer bar.Finish()
	}
	return e.withStore(ctx, func(s *store.Store) error {
		sum, err := collect.Run(ctx, s, opts)
		if err != nil {
			return err
		}
		rec.collected(sum)
		if sum.AddedLocal != "" && !o.quiet {
			fmt.Fprintf(e.stdout, "no nodes configured: added this machine as %s (method local); add others with dotm nodes add\n",
				inert(sum.AddedLocal))
		}
		switch {
		case sum.Problems(), sum.LockAge(time.Now()) > staleLock(o.timeout):
			fmt.Fprintln(e.stderr, inert(sum.String()))
		case !o.quiet:
			fmt.Fprintln(e.stdout, inert(sum.String()))
		}
		return nil
	})
}

// staleLock is the age from which another run's update lock looks stale:
// longer than a normal run takes (5 minutes, or twice the fetch timeout
// when that is longer), so a run that steps aside says so even under
// --quiet, and cron mails who holds the lock.
func staleLock(timeout time.Duration) time.Duration {
	return max(5*time.Minute, 2*timeout)
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
