package collect

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
	"github.com/redis/go-redis/v9"
)

// waitBlockedWorkers waits until n clients of srv wait for a task (their
// last command is the queue's BLPOP): every worker is then connected and
// ready, so the work is shared among all of them.
func waitBlockedWorkers(t *testing.T, srv *redistest.Server, n int) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for {
		list, err := rdb.ClientList(ctx).Result()
		if err != nil {
			t.Fatalf("waiting for %d workers: CLIENT LIST: %v", n, err)
		}
		if strings.Count(list, " cmd=blpop ") >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d workers on the queue: only these clients:\n%s", n, list)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// buildDotm builds the dotm command for tests that run it as a process.
func buildDotm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dotm")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/dotm").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// registerAndServe adds fleet's hosts as nodes and has them answer until
// the test ends.
func registerAndServe(t *testing.T, s *store.Store, fleet *simfleet.Fleet) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	if err := fleet.Register(ctx, s); err != nil {
		t.Fatal(err)
	}
	wait, err := fleet.Serve(ctx)
	t.Cleanup(func() { stop(); wait() })
	if err != nil {
		t.Fatal(err)
	}
}

// Three dotm worker processes share a distributed collection; one is
// killed with SIGKILL while it holds tasks. Its tasks go to the others
// once its lease runs out, and every host is collected, once.
func TestDistributedCollectSurvivesKilledWorker(t *testing.T) {
	ctx := context.Background()
	srv, s := startRedisStore(t)
	fleet := simfleet.Generate(30, 9, montest.FleetPort(t))
	for _, h := range fleet.Hosts {
		h.Delay = 400 * time.Millisecond // every fetch takes a while: workers are caught mid-task
	}
	registerAndServe(t, s, fleet)

	bin := buildDotm(t)
	const visibility = 1500 * time.Millisecond
	var workers []*exec.Cmd
	var logs []*strings.Builder
	for range 3 {
		cmd := exec.Command(bin, "--redis", srv.URL(), "worker", "--concurrency", "3", "--timeout", "5s",
			"--visibility-timeout", visibility.String())
		var log strings.Builder
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		workers, logs = append(workers, cmd), append(logs, &log)
	}
	defer func() {
		for _, w := range workers {
			w.Process.Kill()
			w.Wait()
		}
	}()
	waitBlockedWorkers(t, srv, len(workers))

	var done atomic.Int32
	killed := make(chan struct{})
	progress := func(n, _ int) {
		// Work is flowing: the first worker holds tasks now.
		if done.Add(1) == 3 {
			workers[0].Process.Signal(syscall.SIGKILL)
			close(killed)
		}
	}
	start := time.Now()
	sum, err := Run(ctx, s, Options{Now: time.Unix(20_000, 0), Distribute: true, TaskTimeout: time.Minute,
		Visibility: visibility, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-killed:
	default:
		t.Fatal("the run ended before a worker was killed")
	}
	t.Logf("%s; %d tasks handed out again, %s", sum, sum.Requeued, time.Since(start).Round(time.Millisecond))
	if sum.Fetched != len(fleet.Hosts) || len(sum.Failed) != 0 {
		t.Fatalf("%s: want every host fetched", sum)
	}
	if sum.Requeued == 0 {
		t.Error("no task was handed out again: the killed worker held none, the test proves nothing")
	}
	checkFleet(t, s, fleet)

	// The others stop cleanly on SIGTERM.
	for i, w := range workers[1:] {
		w.Process.Signal(syscall.SIGTERM)
		errc := make(chan error, 1)
		go func() { errc <- w.Wait() }()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("worker %d: %v\n%s", i+1, err, logs[i+1])
			}
		case <-time.After(10 * time.Second):
			t.Errorf("worker %d did not stop within 10s of SIGTERM", i+1)
		}
	}
	workers = workers[:1]
}

// Without workers a distributed run gives up at its deadline, names the
// likely cause, and takes its tasks off the queue.
func TestDistributedCollectWithoutWorkers(t *testing.T) {
	ctx := context.Background()
	_, s := startRedisStore(t)
	if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "web01"}, {Name: "db01"}}); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, s, Options{Distribute: true, TaskTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failed) != 2 || !strings.Contains(sum.Failed[0].Err, "are dotm workers running?") {
		t.Errorf("%s: want both nodes failed, naming the missing workers", sum)
	}
	if q, err := s.QueuedTasks(ctx); err != nil || len(q) != 0 {
		t.Errorf("queue after giving up: %v, %v; want empty", q, err)
	}
	emb, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if _, err := Run(ctx, emb, Options{Distribute: true}); err == nil || !strings.Contains(err.Error(), "--redis") {
		t.Errorf("--distribute on the embedded store: %v; want a pointer to --redis", err)
	}
}

// Collection, local and spread over workers, works the same on a real
// 3-master Redis Cluster (a node's keys in many slots) and behind a real
// sentinel.
func TestCollectOnClusterAndSentinel(t *testing.T) {
	ctx := context.Background()
	bin := buildDotm(t)
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"cluster", func(t *testing.T) string { return redistest.StartCluster(t, 3).URL() }},
		{"sentinel", func(t *testing.T) string { return redistest.StartSentinel(t).URL() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			s, err := store.Open(ctx, store.Options{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			fleet := simfleet.Generate(40, 13, montest.FleetPort(t))
			registerAndServe(t, s, fleet)
			sum, err := Run(ctx, s, Options{Now: time.Unix(30_000, 0)})
			if err != nil || sum.Problems() || sum.Fetched != len(fleet.Hosts) {
				t.Fatalf("local run: %s, %v", sum, err)
			}
			checkFleet(t, s, fleet)

			worker := exec.Command(bin, "--redis", url, "worker", "--idle", "20s")
			var log strings.Builder
			worker.Stdout, worker.Stderr = &log, &log
			if err := worker.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { worker.Process.Kill(); worker.Wait() }()
			sum, err = Run(ctx, s, Options{Now: time.Unix(31_000, 0), Distribute: true, TaskTimeout: time.Minute})
			if err != nil || sum.Problems() || sum.Fetched != len(fleet.Hosts) {
				t.Fatalf("distributed run: %s, %v\nworker: %s", sum, err, log.String())
			}
			checkFleet(t, s, fleet)
		})
	}
}
