package analyze

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/impact"
	"github.com/lwindolf/dotm/store"
)

// Model is everything the site and the report show, read from the store
// once and computed once.
type Model struct {
	// Now is the time the model describes (--now, or the clock).
	Now      int64
	Conf     *domain.Conf
	Settings []store.SettingValue
	State    store.State
	Nodes    []*Node // sorted by name
	byName   map[string]*Node
	// Processes groups services by process name, sorted by process.
	Processes []*Process
	// Alerts are the non-OK checks of the fleet, worst first.
	Alerts   []Alert
	Coverage *Coverage
	Graph    *impact.Graph
	// Current is the store's data as read, before hiding.
	Current *store.Current
	// History are the snapshots' summaries, oldest first, and Windows
	// the changes of the last day and week (LoadHistory).
	History []store.SnapshotSummary
	Windows []Window

	archOnce sync.Once
	arch     *domain.Architecture
	// GeoTypes are the geoip database types AddGeo used (nil: no geo
	// data); Endpoints are the external addresses nodes talk to, sorted
	// by IP, node, port. GeoErrors name the databases whose lookups
	// failed (Geo.Errors).
	GeoTypes  []string
	Endpoints []Endpoint
	GeoErrors []string
}

// Node is one node with all that is known about it.
type Node struct {
	store.Node
	Services    []store.Service    // sorted by port
	Connections []store.Connection // sorted by port, remote
	Checks      store.Checks
	Monitored   bool
	// Worst is the worst state among the node's own state and its checks
	// ("" when monitoring does not know the node).
	Worst string
	// Locations of the node's IPs and GeoLabels of its Internet
	// connections (AddGeo).
	Locations []NodeLocation
	GeoLabels map[store.ConnectionID]string
}

// Process is a process name and where it serves.
type Process struct {
	Name     string
	Services []store.Service // sorted by node, port
	Worst    string
}

// Alert is one non-OK check with what it hits.
type Alert struct {
	Node    string
	Check   string
	Service string // the process it maps to, "" if none
	Status  string
	Since   int64
	Output  string
	Impact  []impact.Dependent
}

// Load reads the store into a Model as of now.
func Load(ctx context.Context, st Reader, now time.Time) (*Model, error) {
	m := &Model{Now: now.Unix(), byName: map[string]*Node{}}
	var err error
	if m.Settings, err = st.Config(ctx); err != nil {
		return nil, err
	}
	if m.Conf, err = st.LoadConf(ctx); err != nil {
		return nil, err
	}
	if m.State, err = st.State(ctx); err != nil {
		return nil, err
	}
	cur, err := st.ReadCurrent(ctx)
	if err != nil {
		return nil, err
	}
	mon, monitored, err := m.State.Monitoring()
	if err != nil {
		return nil, err
	}
	m.build(cur, mon, monitored)
	return m, nil
}

// build computes the model from the store's current data.
func (m *Model) build(cur *store.Current, mon store.MonitoringStatus, monitored bool) {
	m.Current = cur
	for _, info := range cur.Infos {
		n := &Node{Node: info}
		m.Nodes = append(m.Nodes, n)
		m.byName[n.Name] = n
	}
	slices.SortFunc(m.Nodes, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
	m.attach(cur.Services, cur.Connections, cur.Checks)
	m.Graph = impact.New(cur.Connections, cur.Services)
	m.alerts()
	m.Coverage = &Coverage{}
	if monitored {
		m.Coverage = CoverageOf(cur.Nodes, cur.Services, cur.Checks, m.Conf.Mapping)
		m.Coverage.Monitored, m.Coverage.Sources, m.Coverage.Uncollected = true, mon.Sources, mon.UnknownHosts
	}
}

// AsOf is the time the data describes: the last collection, or Now when
// nothing was collected yet. Ages are measured from it, so the same data
// renders the same however much later the render runs.
func (m *Model) AsOf() int64 {
	if m.State.LastUpdated != 0 {
		return m.State.LastUpdated
	}
	return m.Now
}

// Node returns the node called name, or nil.
func (m *Model) Node(name string) *Node { return m.byName[name] }

// attach hangs services, connections and checks on their nodes and groups
// services by process. Data of nodes no longer listed is left out.
func (m *Model) attach(services []store.Service, conns []store.Connection, checks map[string]store.Checks) {
	procs := map[string]*Process{}
	for _, sv := range services {
		n := m.byName[sv.Node]
		if n == nil || m.Hidden(sv.LastSeen, "Services") {
			continue
		}
		n.Services = append(n.Services, sv)
		p := procs[sv.Process]
		if p == nil {
			p = &Process{Name: sv.Process}
			procs[sv.Process] = p
		}
		p.Services = append(p.Services, sv)
		p.Worst = domain.WorstOf(p.Worst, sv.AlertStatus)
	}
	for _, c := range conns {
		if n := m.byName[c.Node]; n != nil && !m.Hidden(c.LastSeen, "Connections") {
			n.Connections = append(n.Connections, c)
		}
	}
	for name, c := range checks {
		n := m.byName[name]
		if n == nil {
			continue
		}
		n.Checks, n.Monitored = c, true
		n.Worst = domain.WorstOf("", c.Node.Status)
		for _, sc := range c.Services {
			n.Worst = domain.WorstOf(n.Worst, sc.Status)
		}
	}
	for _, p := range procs {
		m.Processes = append(m.Processes, p)
	}
	slices.SortFunc(m.Processes, func(a, b *Process) int { return strings.Compare(a.Name, b.Name) })
}

// alerts collects the non-OK checks, worst first, each with its impact.
func (m *Model) alerts() {
	for _, n := range m.Nodes {
		if !n.Monitored {
			continue
		}
		if s := n.Checks.Node.Status; s != "" && s != "UP" {
			m.Alerts = append(m.Alerts, Alert{Node: n.Name, Check: "host " + n.Name, Status: s,
				Since: n.Checks.Node.LastStatusChange, Output: n.Checks.Node.StatusInformation,
				Impact: m.Graph.Impact(n.Name, "")})
		}
		for _, sc := range n.Checks.Services {
			if sc.Status == "OK" {
				continue
			}
			a := Alert{Node: n.Name, Check: sc.Service, Service: sc.Mapping, Status: sc.Status,
				Since: sc.LastStatusChange, Output: sc.StatusInformation}
			for _, sv := range n.Services {
				if sc.Mapping != "" && slices.Contains(strings.Split(sc.Mapping, ","), sv.Process) {
					a.Impact = mergeImpact(a.Impact, m.Graph.Impact(n.Name, strconv.Itoa(sv.Port)))
				}
			}
			m.Alerts = append(m.Alerts, a)
		}
	}
	slices.SortStableFunc(m.Alerts, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(domain.Severity(b.Status), domain.Severity(a.Status)), strings.Compare(a.Node, b.Node),
			strings.Compare(a.Check, b.Check))
	})
}

// mergeImpact joins two impact lists, keeping each node at its nearest.
func mergeImpact(a, b []impact.Dependent) []impact.Dependent {
	out := append([]impact.Dependent(nil), a...)
	for _, d := range b {
		i := slices.IndexFunc(out, func(x impact.Dependent) bool { return x.Node == d.Node })
		switch {
		case i < 0:
			out = append(out, d)
		case d.Depth < out[i].Depth:
			out[i] = d
		}
	}
	slices.SortFunc(out, func(x, y impact.Dependent) int {
		return cmp.Or(cmp.Compare(x.Depth, y.Depth), strings.Compare(x.Node, y.Node))
	})
	return out
}

// Old reports whether something last seen at t is past the aging setting
// for its kind ("Services" or "Connections"): shown dashed.
func (m *Model) Old(t int64, kind string) bool {
	limit := m.Conf.AgingServices
	if kind == "Connections" {
		limit = m.Conf.AgingConns
	}
	return time.Duration(m.AsOf()-t)*time.Second >= limit
}

// Hidden reports whether something last seen at t is past the hiding
// setting (days) for its kind, and so left out of graphs and pages.
func (m *Model) Hidden(t int64, kind string) bool {
	days := m.Conf.HidingDays[kind]
	return days > 0 && m.AsOf()-t > int64(days)*86400
}
