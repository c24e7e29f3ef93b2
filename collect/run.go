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

	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
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
	// Monitoring are the monitoring sources to read (see monitor.Open);
	// none means nagios_instance's source, if set.
	Monitoring []string
	// LockTTL is how long the update lock of a run that crashed blocks
	// the next runs (default 15 minutes).
	LockTTL time.Duration
	// Distribute hands the fetches to dotm workers through dotm::queue
	// (a Redis server only) and waits up to TaskTimeout (default 5m) for
	// them; Visibility is the workers' lease (see DefaultVisibility).
	Distribute  bool
	TaskTimeout time.Duration
	Visibility  time.Duration
}

// Summary is the outcome of a run.
type Summary struct {
	Nodes   int
	Fetched int
	Failed  []Failure
	Elapsed time.Duration
	// Skipped is set when another run held the update lock; Holder says
	// which.
	Skipped bool
	Holder  *store.LockHolder
	// AddedLocal names this machine when the run added it because no node
	// was configured.
	AddedLocal string
	// Sources is how each monitoring source fared.
	Sources []SourceResult
	// Snapshot is set when the run stored a history snapshot.
	Snapshot bool
	// Requeued counts the tasks of a distributed run handed out again
	// because their worker went silent.
	Requeued int
}

// Failure is a node that could not be fetched, and why.
type Failure struct {
	Node string
	Err  string
}

// MaxNamed is how many failed nodes the summary names; it counts the
// rest, so that a fleet that cannot be reached (100,000 nodes behind a
// broken network) makes a line, not megabytes of cron mail.
const MaxNamed = 10

// String is the one-line summary, e.g. "collected 48/50 nodes in 1.2s;
// 2 failed: web07 (connection refused), db03 (no interface listing)".
func (s Summary) String() string {
	if s.Skipped {
		return s.skipped(time.Now())
	}
	line := fmt.Sprintf("collected %d/%d nodes in %s", s.Fetched, s.Nodes, s.Elapsed.Round(time.Millisecond))
	if len(s.Failed) > 0 {
		parts := make([]string, 0, min(len(s.Failed), MaxNamed))
		for _, f := range s.Failed[:min(len(s.Failed), MaxNamed)] {
			parts = append(parts, fmt.Sprintf("%s (%s)", f.Node, f.Err))
		}
		line += fmt.Sprintf("; %d failed: %s", len(s.Failed), strings.Join(parts, ", "))
		if more := len(s.Failed) - len(parts); more > 0 {
			line += fmt.Sprintf(" and %d more (every failed node: dotm report --format json, fetch_errors)", more)
		}
	}
	if len(s.Sources) > 0 {
		checks, orphans := 0, 0
		var bad []string
		for _, r := range s.Sources {
			checks, orphans = checks+r.Checks, orphans+r.Orphans
			if r.Err != "" {
				// Source errors usually start with the source's name.
				bad = append(bad, fmt.Sprintf("%s (%s)", r.Source, strings.TrimPrefix(r.Err, r.Source+": ")))
			}
		}
		line += fmt.Sprintf("; monitoring: %d checks from %d/%d sources", checks, len(s.Sources)-len(bad), len(s.Sources))
		if orphans > 0 {
			line += fmt.Sprintf(" (%d more dropped: their hosts are not in the source's host list)", orphans)
		}
		if len(bad) > 0 {
			line += "; failed: " + strings.Join(bad, ", ")
		}
	}
	return line
}

// skipped says that another run holds the update lock: which, since when
// and until when, as of now.
func (s Summary) skipped(now time.Time) string {
	h := s.Holder
	if h == nil {
		return "another collect run is in progress; this one did nothing"
	}
	var about []string
	if h.By != "" {
		about = append(about, "held by "+h.By)
	}
	if !h.Since.IsZero() {
		about = append(about, fmt.Sprintf("since %s (%s ago)", stamp(h.Since), max(now.Sub(h.Since), 0).Round(time.Second)))
	}
	if !h.Until.IsZero() {
		about = append(about, "lapsing at "+stamp(h.Until)+" if that run is gone")
	}
	if len(about) == 0 {
		return "another collect run is in progress; this one did nothing"
	}
	return "another collect run holds the update lock (" + strings.Join(about, ", ") + "); this one did nothing"
}

// LockAge is how long the run that made this one step aside has held the
// update lock, as of now; 0 when the run was not skipped or the holder did
// not record when it started.
func (s Summary) LockAge(now time.Time) time.Duration {
	if !s.Skipped || s.Holder == nil || s.Holder.Since.IsZero() {
		return 0
	}
	return max(now.Sub(s.Holder.Since), 0)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Problems reports whether anything failed: a node or a monitoring source.
func (s Summary) Problems() bool {
	for _, r := range s.Sources {
		if r.Err != "" {
			return true
		}
	}
	return len(s.Failed) > 0
}

// lockTTL bounds how long a crashed run's lock blocks the next runs.
const lockTTL = 15 * time.Minute

// unlockWait bounds releasing the update lock at the end of a run.
const unlockWait = 10 * time.Second

// runTimes are the clocks of a run: now is the time it records (Options.
// Now), clock the system clock when it started (stored times ahead of it
// are not trusted, see store.Newest), retain the time retention measures
// age against (see store.RetentionTime).
type runTimes struct{ now, clock, retain int64 }

// Run collects every node once. Nodes that cannot be fetched are recorded
// with their error and keep their data; an error return means the store
// failed, and no node was left half-written. The update lock is released
// however the run ends (unless the store cannot be reached at all, when it
// lapses after LockTTL).
func Run(ctx context.Context, st *store.Store, o Options) (sum Summary, err error) {
	start := time.Now()
	if o.Now.IsZero() {
		o.Now = start
	}
	o.Concurrency = cmp.Or(o.Concurrency, 100)
	o.Timeout = cmp.Or(o.Timeout, 10*time.Second)
	if o.Fetchers == nil {
		o.Fetchers = fetchers
	}
	lock, holder, err := st.LockUpdate(ctx, cmp.Or(o.LockTTL, lockTTL))
	if err != nil {
		return Summary{}, err
	}
	if lock == nil {
		return Summary{Skipped: true, Holder: holder}, nil
	}
	defer func() {
		// A fresh context: a cancelled run releases its lock too.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockWait)
		defer cancel()
		if uerr := lock.Unlock(uctx); uerr != nil {
			err = errors.Join(err, fmt.Errorf("%w; the next runs step aside until it lapses at %s",
				uerr, stamp(start.Add(cmp.Or(o.LockTTL, lockTTL)))))
		}
	}()

	state, err := st.State(ctx)
	if err != nil {
		return sum, err
	}
	tm := runTimes{now: o.Now.Unix(), clock: start.Unix()}
	tm.retain = store.RetentionTime(tm.now, tm.clock, state.LastUpdated)
	sum, cur, err := collect(ctx, st, o, tm)
	sum.Elapsed = time.Since(start)
	if err != nil && ctx.Err() == nil && store.DataError(err) {
		return sum, fmt.Errorf("%w; the store (%s) holds a key dotm cannot use: fix or delete that key, then run collect again", err, st.Where())
	}
	if err != nil && ctx.Err() == nil {
		return sum, fmt.Errorf("%w; the store (%s) failed during the run: each node keeps its old data or has "+
			"all of its new data, none a mix; run collect again once the store answers", err, st.Where())
	}
	if err != nil {
		return sum, err
	}
	if err := st.SetLastUpdated(ctx, tm.now); err != nil {
		return sum, err
	}
	if sum.Snapshot, err = snapshot(ctx, st, cur, tm); err != nil {
		return sum, err
	}
	return sum, st.Checkpoint()
}

// collect runs one collection and returns what the store holds after it
// (for the history snapshot, without reading it all back).
func collect(ctx context.Context, st *store.Store, o Options, tm runTimes) (Summary, *store.Current, error) {
	var sum Summary
	conf, err := st.LoadConf(ctx)
	if err != nil {
		return sum, nil, err
	}
	names, err := st.Nodes(ctx)
	if err != nil {
		return sum, nil, err
	}
	if len(names) == 0 {
		if sum.AddedLocal, err = addThisMachine(ctx, st); err != nil {
			return sum, nil, err
		}
		names = []string{sum.AddedLocal}
	}
	info, err := st.NodeInfo(ctx, names)
	if err != nil {
		return sum, nil, err
	}
	sum.Nodes = len(info)
	var hosts map[string]*netinfo.Host
	var failed []Failure
	if o.Distribute {
		if st.Embedded() {
			return sum, nil, errors.New("--distribute needs a Redis server that the workers share: give --redis")
		}
		o.TaskTimeout = cmp.Or(o.TaskTimeout, 5*time.Minute)
		if hosts, failed, sum.Requeued, err = fetchDistributed(ctx, st, info, o); err != nil && ctx.Err() == nil {
			return sum, nil, err
		}
	} else {
		hosts, failed = fetchAll(ctx, info, conf, o)
	}
	if ctx.Err() != nil {
		return sum, nil, fmt.Errorf("collect interrupted: %w; nothing was written", ctx.Err())
	}
	sum.Fetched, sum.Failed = len(hosts), failed
	data, err := write(ctx, st, conf, hosts, failed, tm)
	if err != nil {
		return sum, nil, err
	}
	cur := current(info, data, hosts, failed, tm)
	sum.Sources, err = monitoring(ctx, st, conf, names, o)
	return sum, cur, err
}

// monitoring reads the monitoring sources and stores their checks mapped
// onto nodes and services. A failing source is reported, recorded in
// dotm::state, and leaves its previous data to expire.
func monitoring(ctx context.Context, st *store.Store, conf *domain.Conf, nodes []string, o Options) ([]SourceResult, error) {
	specs := o.Monitoring
	if len(specs) == 0 && conf.Nagios["source"] != "" {
		specs = []string{conf.Nagios["source"]}
	}
	if len(specs) == 0 {
		return nil, nil
	}
	auth, err := monitor.InstanceAuth(conf.Nagios)
	if err != nil {
		return []SourceResult{{Source: "nagios_instance", Err: err.Error()}}, nil
	}
	var sources []monitor.Source
	var results []SourceResult
	for _, spec := range specs {
		src, err := monitor.Open(spec, auth)
		if err != nil {
			results = append(results, SourceResult{Source: monitor.Redact(spec), Err: err.Error()})
			continue
		}
		sources = append(sources, src)
	}
	state, fetched := fetchMonitoring(ctx, sources, cmp.Or(o.Timeout, 10*time.Second)*3)
	results = append(results, fetched...)
	status := store.MonitoringStatus{Time: o.Now.Unix()}
	answered := 0
	for _, r := range results {
		status.Sources = append(status.Sources, store.SourceStatus{Source: r.Source, Status: cmp.Or(r.Err, "OK"),
			Hosts: r.Hosts, Checks: r.Checks})
		if r.Err == "" {
			answered++
		}
	}
	if answered > 0 {
		all, err := st.Services(ctx, "")
		if err != nil {
			return results, err
		}
		services := map[string][]store.Service{}
		for _, sv := range all {
			services[sv.Node] = append(services[sv.Node], sv)
		}
		namer := newNodeNamer(nodes, conf.NodeAliases)
		mapped, unknown := mapChecks(state, conf, services, namer, conf.Nagios["use_aliases"] == "1")
		status.UnknownHosts = unknown
		ttl := time.Duration(atoi(cmp.Or(conf.Nagios["expire"], "86400"))) * time.Second
		if err := writeMonitoring(ctx, st, mapped, services, ttl, answered == len(results)); err != nil {
			return results, err
		}
	}
	return results, st.SetMonitoringStatus(ctx, status)
}

// addThisMachine makes this machine the one node, fetched locally, so a
// first "dotm collect" shows something without any set-up.
func addThisMachine(ctx context.Context, st *store.Store) (string, error) {
	name, err := os.Hostname()
	if err != nil || domain.ValidateNodeName(name) != nil {
		name = "localhost"
	}
	_, err = st.AddNodes(ctx, []domain.NodeSpec{{Name: name, Method: "local"}})
	return name, err
}

// fetchAll fetches nodes concurrently, each within its own deadline.
func fetchAll(ctx context.Context, nodes []store.Node, conf *domain.Conf, o Options) (map[string]*netinfo.Host, []Failure) {
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

func fetchOne(ctx context.Context, n store.Node, conf *domain.Conf, o Options) (*netinfo.Host, error) {
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

// writers is how many nodes' data writes go to the store at once: enough
// to keep a store on another machine busy across its round trips.
var writers = 8 // a variable for BenchmarkWrite2000 to compare

// write aggregates and stores every fetched node, records the failures,
// and updates the resolver. It returns every node's services and
// connections as the store holds them afterwards.
func write(ctx context.Context, st nodeWriter, conf *domain.Conf, hosts map[string]*netinfo.Host,
	failed []Failure, tm runTimes) (map[string]prior, error) {
	services, err := st.Services(ctx, "")
	if err != nil {
		return nil, err
	}
	conns, err := st.Connections(ctx, "")
	if err != nil {
		return nil, err
	}
	resolver, err := st.Resolver(ctx)
	if err != nil {
		return nil, err
	}
	priors := map[string]prior{}
	var ports []int
	for _, sv := range services {
		p := priorOf(priors, priorKey(sv.Node, sv.Container))
		p.services[sv.Port] = sv
		ports = append(ports, sv.Port)
	}
	for _, c := range conns {
		priorOf(priors, priorKey(c.Node, c.Container)).connections[c.ID()] = c
	}
	f := newFleet(conf, hosts, resolver, ports)
	f.clock, f.retain = tm.clock, tm.retain
	twin := twins(hosts)
	// Aggregation goes node by node (it learns from the nodes before);
	// each node's data is then written in its own transaction, up to
	// writers at once, as a node's write depends on no other's.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(writers)
	for _, name := range slices.Sorted(maps.Keys(hosts)) {
		if gctx.Err() != nil {
			break
		}
		d := f.aggregateNode(name, hosts[name], tm.now, priors)
		hosts[name] = nil // aggregated: its sockets can go (the key stays: it was fetched)
		d.Node.FetchStatus = cmp.Or(twin[name], d.Node.FetchStatus)
		g.Go(func() error { return st.WriteNodeData(gctx, d) })
		applyNode(priors, d)
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, fl := range failed {
		if err := st.SetNodeStatus(ctx, fl.Node, tm.now, fl.Err); err != nil {
			return nil, err
		}
	}
	return priors, st.SetResolver(ctx, f.resolverEntries())
}

func fetched(hosts map[string]*netinfo.Host, name string) bool {
	_, ok := hosts[name]
	return ok
}

// current is what the store holds after a run wrote its results: the
// data of every node as written (or kept), without the checks.
func current(info []store.Node, data map[string]prior, hosts map[string]*netinfo.Host, failed []Failure, tm runTimes) *store.Current {
	cur := &store.Current{}
	errs := map[string]string{}
	for _, fl := range failed {
		errs[fl.Node] = fl.Err
	}
	for _, n := range info {
		newer := store.Newest(n.LastFetch, tm.now, tm.clock) != tm.now // a later run's fetch stays
		switch {
		case newer:
		case fetched(hosts, n.Name):
			n.LastFetch, n.FetchStatus = tm.now, "OK"
		case errs[n.Name] != "":
			n.LastFetch, n.FetchStatus = tm.now, errs[n.Name]
		}
		cur.Nodes, cur.Infos = append(cur.Nodes, n.Name), append(cur.Infos, n)
	}
	for _, p := range data {
		for _, sv := range p.services {
			cur.Services = append(cur.Services, sv)
		}
		for _, c := range p.connections {
			cur.Connections = append(cur.Connections, c)
		}
	}
	return cur
}

func priorOf(m map[string]prior, node string) prior {
	p, ok := m[node]
	if !ok {
		p = prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}}
		m[node] = p
	}
	return p
}
