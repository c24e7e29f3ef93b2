package collect

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// TaskFetch is the task function of a distributed collection: fetch the
// node args[0]; kwargs carry its "address" and "method".
const TaskFetch = "fetch"

// DefaultVisibility is how long a task taken by a worker stays its own
// without a sign of life (workers renew it every third of that): after it,
// the coordinator hands the task to another worker.
const DefaultVisibility = 30 * time.Second

// taskResult is what a worker reports for a fetch task.
type taskResult struct {
	Host  *netinfo.Host `json:"host,omitempty"`
	Error string        `json:"error,omitempty"`
}

// newTaskID is the ID of a new task: the result key of a random
// (version 4) UUID, as the original backend names tasks.
func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return store.TaskKey(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// fetchDistributed hands one fetch task per node to the workers through
// dotm::queue and gathers their results, applying each once. Tasks whose
// worker stopped renewing its lease, or that got lost between a worker
// taking and leasing them, are queued again. Whatever is not done by
// o.TaskTimeout fails with a message saying so.
func fetchDistributed(ctx context.Context, st TaskStore, nodes []store.Node, o Options) (
	hosts map[string]*netinfo.Host, failed []Failure, requeued int, err error) {
	visibility := cmp.Or(o.Visibility, DefaultVisibility)
	resultTTL := o.TaskTimeout + 10*time.Minute
	tasks := make([]store.Task, len(nodes))
	byID := map[string]int{}
	for i, n := range nodes {
		tasks[i] = store.Task{ID: newTaskID(), Fn: TaskFetch, Args: []any{n.Name},
			Kwargs: map[string]any{"address": n.Address, "method": n.Method}}
		byID[tasks[i].ID] = i
	}
	if err := st.Enqueue(ctx, tasks, resultTTL); err != nil {
		return nil, nil, 0, err
	}
	hosts = map[string]*netinfo.Host{}
	open := slices.Clone(tasks)
	// lost counts the passes in which a pending task was neither queued
	// nor leased: it may be between a worker's take and its lease.
	lost := map[string]time.Time{}
	deadline := time.Now().Add(o.TaskTimeout)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for len(open) > 0 {
		select {
		case <-ctx.Done():
			_ = st.RemoveTasks(context.WithoutCancel(ctx), open)
			return nil, nil, requeued, ctx.Err()
		case <-tick.C:
		}
		ids := make([]string, len(open))
		for i, t := range open {
			ids[i] = t.ID
		}
		results, leased, err := st.TaskStates(ctx, ids)
		if err != nil {
			return nil, nil, requeued, err
		}
		var queued map[string]bool
		var still []store.Task
		for i, t := range open {
			node := nodes[byID[t.ID]].Name
			r := results[i]
			if r.Status == store.Ready {
				var tr taskResult
				switch err := json.Unmarshal(r.Result, &tr); {
				case err != nil:
					failed = append(failed, Failure{Node: node, Err: "a worker sent a result that is not JSON"})
				case tr.Error != "":
					failed = append(failed, Failure{Node: node, Err: tr.Error})
				case tr.Host == nil:
					failed = append(failed, Failure{Node: node, Err: "a worker sent an empty result"})
				default:
					hosts[node] = tr.Host
				}
				if o.Progress != nil {
					o.Progress(len(hosts)+len(failed), len(nodes))
				}
				continue
			}
			if leased[i] {
				delete(lost, t.ID)
				still = append(still, t)
				continue
			}
			// Not ready and not leased: queued, lost on the way to a
			// worker, or its worker died.
			if queued == nil {
				if queued, err = st.QueuedTasks(ctx); err != nil {
					return nil, nil, requeued, err
				}
			}
			if queued[t.ID] {
				still = append(still, t)
				continue
			}
			since, seen := lost[t.ID]
			if !seen {
				lost[t.ID] = time.Now()
			}
			// A worker whose lease ran out died (or stalled); one that
			// took the task a moment ago is about to lease it.
			if r.Status == store.Processing || (seen && time.Since(since) > visibility) {
				if err := st.Enqueue(ctx, []store.Task{t}, resultTTL); err != nil {
					return nil, nil, requeued, err
				}
				delete(lost, t.ID)
				requeued++
			}
			still = append(still, t)
		}
		open = still
		if len(open) > 0 && time.Now().After(deadline) {
			_ = st.RemoveTasks(ctx, open)
			for _, t := range open {
				failed = append(failed, Failure{Node: nodes[byID[t.ID]].Name,
					Err: fmt.Sprintf("no worker finished its fetch within --task-timeout %s; are dotm workers running?", o.TaskTimeout)})
			}
			break
		}
	}
	slices.SortFunc(failed, func(a, b Failure) int { return strings.Compare(a.Node, b.Node) })
	return hosts, failed, requeued, nil
}

// WorkerOptions tune a worker.
type WorkerOptions struct {
	// Concurrency bounds the tasks in progress (default 20).
	Concurrency int
	// Timeout bounds each fetch (default 10s).
	Timeout time.Duration
	// Visibility is the lease on a task (default DefaultVisibility).
	Visibility time.Duration
	// Idle ends the worker after this long without a task (0: never).
	Idle time.Duration
	// Fetchers replaces the fetch methods (nil: Fetchers).
	Fetchers map[string]FetchFunc
	// Name identifies the worker in results (default host:pid).
	Name string
	// Log receives problems worth telling (a store that went away, a bad
	// task); nil discards them.
	Log func(string)
}

// Work takes fetch tasks from dotm::queue until ctx ends (or it was idle
// for o.Idle), fetches each node and reports the result. A store that is
// unreachable is retried; Work returns only when told to stop.
func Work(ctx context.Context, st TaskStore, o WorkerOptions) error {
	o.Concurrency = cmp.Or(o.Concurrency, 20)
	o.Timeout = cmp.Or(o.Timeout, 10*time.Second)
	o.Visibility = cmp.Or(o.Visibility, DefaultVisibility)
	if o.Fetchers == nil {
		o.Fetchers = fetchers
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = fmt.Sprintf("%s:%d", cmp.Or(host, "worker"), os.Getpid())
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			o.Log(fmt.Sprintf(format, a...))
		}
	}
	slots := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	var lastBusy atomic.Int64 // unix nanoseconds
	lastBusy.Store(time.Now().UnixNano())
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		t, ok, err := st.TakeTask(ctx, time.Second)
		if err != nil {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			logf("%v", err)
			if !errors.Is(err, store.ErrNotATask) {
				time.Sleep(time.Second) // the store is away: do not spin
			}
			continue
		}
		if !ok {
			<-slots
			if o.Idle > 0 && time.Since(time.Unix(0, lastBusy.Load())) > o.Idle && len(slots) == 0 {
				return nil
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := work(context.WithoutCancel(ctx), st, t, o); err != nil {
				logf("task %s: %v", t.ID, err)
			}
			lastBusy.Store(time.Now().UnixNano())
		}()
	}
	return nil
}

// work runs one task under a lease renewed until it is done.
func work(ctx context.Context, st TaskStore, t store.Task, o WorkerOptions) error {
	resultTTL := time.Hour
	if err := st.LeaseTask(ctx, t.ID, o.Name, o.Visibility, resultTTL); err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(o.Visibility / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_ = st.RenewLease(ctx, t.ID, o.Name, o.Visibility)
			}
		}
	}()
	var res taskResult
	if h, err := runTask(ctx, st, t, o); err != nil {
		res.Error = err.Error()
	} else {
		res.Host = h
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = st.FinishTask(ctx, t.ID, b, resultTTL)
	return err
}

// runTask fetches the node a fetch task names.
func runTask(ctx context.Context, st TaskStore, t store.Task, o WorkerOptions) (*netinfo.Host, error) {
	if t.Fn != TaskFetch || len(t.Args) != 1 {
		return nil, fmt.Errorf("worker %s cannot run task %q with %d arguments; only %q with a node name", o.Name, t.Fn, len(t.Args), TaskFetch)
	}
	name, _ := t.Args[0].(string)
	if err := domain.ValidateNodeName(name); err != nil {
		return nil, err
	}
	conf, err := st.LoadConf(ctx)
	if err != nil {
		return nil, err
	}
	address, _ := t.Kwargs["address"].(string)
	method, _ := t.Kwargs["method"].(string)
	return fetchOne(ctx, store.Node{Name: name, Address: address, Method: method}, conf,
		Options{Timeout: o.Timeout, Fetchers: o.Fetchers})
}
