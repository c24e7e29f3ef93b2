package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/store"
)

type workerOpts struct {
	concurrency               int
	timeout, visibility, idle time.Duration
}

func workerCommand() *command {
	return &command{
		name:    "worker",
		summary: "take collection tasks from dotm::queue (for collect --distribute)",
		details: `Takes fetch tasks that "dotm collect --distribute" put on dotm::queue, fetches
each node (agent, ssh or local, as configured) and stores the result for the
collecting process. Run any number of workers on any machines that share the
Redis server (--redis) and can reach the nodes; they need no other set-up.
A worker holds a lease on each task it works on, renewed every third of
--visibility-timeout; if it dies, the task goes to another worker once the
lease ran out. Stops on SIGINT/SIGTERM after finishing its tasks, or after
--idle without work.`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var o workerOpts
			fs.IntVar(&o.concurrency, "concurrency", 20, "tasks worked on at once")
			fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline for each node's fetch")
			fs.DurationVar(&o.visibility, "visibility-timeout", collect.DefaultVisibility, "lease on a task: silent this long, a worker is taken for dead")
			fs.DurationVar(&o.idle, "idle", 0, "exit after this long without a task (0: run until stopped)")
			return func(ctx context.Context, e *env, args []string) error { return runWorker(ctx, e, args, o) }
		},
	}
}

func runWorker(ctx context.Context, e *env, args []string, o workerOpts) error {
	const path = "dotm worker"
	if err := noArgs(path, args); err != nil {
		return err
	}
	if o.concurrency < 1 || o.timeout <= 0 || o.visibility < 3*time.Millisecond || o.idle < 0 {
		return usagef(path, "--concurrency must be at least 1, --timeout and --visibility-timeout positive")
	}
	if e.redisURL == "" {
		return usagef(path, "a worker shares a Redis server with dotm collect --distribute: give --redis URL (or DOTM_REDIS)")
	}
	return e.withStore(ctx, func(s *store.Store) error {
		return collect.Work(ctx, s, collect.WorkerOptions{Concurrency: o.concurrency, Timeout: o.timeout,
			Visibility: o.visibility, Idle: o.idle,
			Log: func(msg string) { fmt.Fprintf(e.stderr, "dotm worker: %s\n", inert(msg)) }})
	})
}
