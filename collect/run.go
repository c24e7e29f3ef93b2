// Package collect gathers what runs where: it fetches every node's TCP
// sockets and interfaces (dotm agent, SSH or this machine), aggregates them
// into services and connections by the rules of DESIGN.md, and writes them
// through package store.
package collect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/store"
	"golang.org/x/sync/errgroup"
)

// Options tune a collect run.
type Options struct {
	// Now is the time written into the data; zero means time.Now().
	Now time.Time
	// Concurrency bounds the fetches in flight (default 100).
	Concurrency int
	// Timeout bounds each node's fetch (default 10s).
	Timeout time.Duration
	// Progress, when set, is called after each node is fetched.
	Progress func(done, total int)
	// Fetchers replaces the fetch methods (nil: Fetchers).
	Fetchers map[string]FetchFunc
}

// Summary is the outcome of a run.
type Summary struct {
	Nodes   int
	Fetched int
	Failed  []Failure
	Elapsed time.Duration
	// Skipped is set when another run held the update lock.
	Skipped bool
	// AddedLocal names this machine when the run added it because no node
	// was configured.
	AddedLocal string
}

// Failure is a node that could not be fetched, and why.
type Failure struct {
	Node string
	Err  string
}

// String is the one-line summary, e.g. "collected 48/50 nodes in 1.2s;
// 2 failed: web07 (connection refused), db03 (no interface listing)".
func (s Summary) String() string {
	if s.Skipped {
		return "another collect run is in progress; this one did nothing"
	}
	line := fmt.Sprintf("collected %d/%d nodes in %s", s.Fetched, s.Nodes, s.Elapsed.Round(time.Millisecond))
	if len(s.Failed) > 0 {
		parts := make([]string, len(s.Failed))
		for i, f := range s.Failed {
			parts[i] = fmt.Sprintf("%s (%s)", f.Node, f.Err)
		}
		line += fmt.Sprintf("; %d failed: %s", len(s.Failed), strings.Join(parts, ", "))
	}
	return line
}

// lockTTL bounds how long a crashed run's lock blocks the next runs.
const lockTTL = 15 * time.Minute

// Run collects every node once. Nodes that cannot be fetched are recorded
// with their error and keep their data; an error return means the store
// failed, and no node was left half-written.
func Run(ctx context.Context, st *store.Store, o Options) (Summary, error) {
	start := time.Now()
	if o.Now.IsZero() {
		o.Now = start
	}
	o.Concurrency = cmp.Or(o.Concurrency, 100)
	o.Timeout = cmp.Or(o.Timeout, 10*time.Second)
	if o.Fetchers == nil {
		o.Fetchers = Fetchers
	}
	lock, ok, err := st.LockUpdate(ctx, lockTTL)
	if err != nil {
		return Summary{}, err
	}
	if !ok {
		return Summary{Skipped: true}, nil
	}
	defer lock.Unlock(context.WithoutCancel(ctx))

	sum, err := collect(ctx, st, o)
	sum.Elapsed = time.Since(start)
	if err != nil {
		return sum, err
	}
	if err := st.SetLastUpdated(ctx, o.Now.Unix()); err != nil {
		return sum, err
	}
	return sum, st.Checkpoint()
}

func collect(ctx context.Context, st *store.Store, o Options) (Summary, error) {
	var sum Summary
	conf, err := st.LoadConf(ctx)
	if err != nil {
		return sum, err
	}
	names, err := st.Nodes(ctx)
	if err != nil {
		return sum, err
	}
	if len(names) == 0 {
		if sum.AddedLocal, err = addThisMachine(ctx, st); err != nil {
			return sum, err
		}
		names = []string{sum.AddedLocal}
	}
	info, err := st.NodeInfo(ctx, names)
	if err != nil {
		return sum, err
	}
	sum.Nodes = len(info)
	hosts, failed := fetchAll(ctx, info, conf, o)
	if ctx.Err() != nil {
		return sum, fmt.Errorf("collect interrupted: %w; nothing was written", ctx.Err())
	}
	sum.Fetched, sum.Failed = len(hosts), failed
	return sum, write(ctx, st, conf, hosts, failed, o.Now.Unix())
}

// addThisMachine makes this machine the one node, fetched locally, so a
// first "dotm collect" shows something without any set-up.
func addThisMachine(ctx context.Context, st *store.Store) (string, error) {
	name, err := os.Hostname()
	if err != nil || store.ValidateNodeName(name) != nil {
		name = "localhost"
	}
	_, err = st.AddNodes(ctx, []store.NodeSpec{{Name: name, Method: "local"}})
	return name, err
}

// fetchAll fetches nodes concurrently, each within its own deadline.
func fetchAll(ctx context.Context, nodes []store.Node, conf *store.Conf, o Options) (map[string]*netinfo.Host, []Failure) {
	var mu sync.Mutex
	hosts := map[string]*netinfo.Host{}
	var failed []Failure
	done := 0
	g := errgroup.Group{}
	g.SetLimit(o.Concurrency)
	for _, n := range nodes {
		g.Go(func() error {
			h, err := fetchOne(ctx, n, conf, o)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, Failure{Node: n.Name, Err: err.Error()})
			} else {
				hosts[n.Name] = h
			}
			done++
			if o.Progress != nil {
				o.Progress(done, len(nodes))
			}
			return nil
		})
	}
	_ = g.Wait()
	slices.SortFunc(failed, func(a, b Failure) int { return strings.Compare(a.Node, b.Node) })
	return hosts, failed
}

func fetchOne(ctx context.Context, n store.Node, conf *store.Conf, o Options) (*netinfo.Host, error) {
	method := cmp.Or(n.Method, conf.FetchMethod)
	fetch, ok := o.Fetchers[method]
	if !ok {
		return nil, fmt.Errorf("unknown fetch method %q; use agent, ssh or local", method)
	}
	fctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	h, err := fetch(fctx, Target{Name: n.Name, Address: n.Address, Method: method, Conf: conf})
	if err != nil && (errors.Is(err, errTimeout) || fctx.Err() != nil) && ctx.Err() == nil {
		return nil, fmt.Errorf("no answer within %s", o.Timeout)
	}
	return h, err
}

// write aggregates and stores every fetched node, records the failures,
// and updates the resolver.
func write(ctx context.Context, st *store.Store, conf *store.Conf, hosts map[string]*netinfo.Host,
	failed []Failure, now int64) error {
	services, err := st.Services(ctx, "")
	if err != nil {
		return err
	}
	conns, err := st.Connections(ctx, "")
	if err != nil {
		return err
	}
	resolver, err := st.Resolver(ctx)
	if err != nil {
		return err
	}
	priors := map[string]prior{}
	var ports []int
	for _, sv := range services {
		p := priorOf(priors, sv.Node)
		p.services[sv.Port] = sv
		ports = append(ports, sv.Port)
	}
	for _, c := range conns {
		priorOf(priors, c.Node).connections[store.ConnectionID{Port: c.Port, Remote: c.Remote}] = c
	}
	f := newFleet(conf, hosts, resolver, ports)
	for _, name := range slices.Sorted(maps.Keys(hosts)) {
		d := f.aggregate(name, hosts[name], now, priorOf(priors, name))
		if err := st.WriteNodeData(ctx, d); err != nil {
			return err
		}
	}
	for _, fl := range failed {
		if err := st.SetNodeStatus(ctx, fl.Node, now, fl.Err); err != nil {
			return err
		}
	}
	return st.SetResolver(ctx, f.resolverEntries())
}

func priorOf(m map[string]prior, node string) prior {
	p, ok := m[node]
	if !ok {
		p = prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}}
		m[node] = p
	}
	return p
}
