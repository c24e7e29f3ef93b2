package analyze

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lwindolf/dotm/store"
)

// LoadNode reads the part of the store that one node's findings need into
// a Model, as Load does for the whole fleet, at the cost of one node
// rather than of the fleet: what `dotm check --node` runs every minute
// for every host. Besides the node's own data it reads the other end of
// each incoming connection from another node, with that node's fetch
// state, so that FindingsOf counts a connection once, at the client, as
// it does for the fleet. (When that client's last fetch failed, the fleet
// measures its age against the newest data it still has; here only the
// one connection is known, so the server keeps the finding.) ok is false
// when name is not a listed node.
func LoadNode(ctx context.Context, st NodeReader, name string, now time.Time) (m *Model, ok bool, err error) {
	nodes, err := st.Nodes(ctx)
	if err != nil {
		return nil, false, err
	}
	if !slices.Contains(nodes, name) {
		return nil, false, nil
	}
	m = &Model{Now: now.Unix(), byName: map[string]*Node{}}
	if m.Conf, err = st.LoadConf(ctx); err != nil {
		return nil, false, err
	}
	if m.State, err = st.State(ctx); err != nil {
		return nil, false, err
	}
	cur := &store.Current{Nodes: []string{name}}
	if cur.Services, cur.Connections, err = st.NodeRecords(ctx, name); err != nil {
		return nil, false, err
	}
	if err := addClientEnds(ctx, st, cur, nodes); err != nil {
		return nil, false, err
	}
	if cur.Infos, err = st.NodeInfo(ctx, cur.Nodes); err != nil {
		return nil, false, err
	}
	if cur.Checks, err = st.AllChecks(ctx, []string{name}); err != nil {
		return nil, false, err
	}
	mon, monitored, err := m.State.Monitoring()
	if err != nil {
		return nil, false, err
	}
	m.build(cur, mon, monitored)
	return m, true, nil
}

// addClientEnds adds to cur the outgoing records that other listed nodes
// keep of cur's incoming connections, and those nodes to cur.Nodes.
func addClientEnds(ctx context.Context, st NodeReader, cur *store.Current, listed []string) error {
	node := cur.Nodes[0]
	var want []store.Connection
	for _, c := range cur.Connections {
		if c.Direction == store.In && c.Remote != node && slices.Contains(listed, c.Remote) {
			want = append(want, store.Connection{Node: c.Remote, Port: c.Port, Remote: node})
		}
	}
	if len(want) == 0 {
		return nil
	}
	ends, err := st.LookupConnections(ctx, want)
	if err != nil {
		return fmt.Errorf("read the client ends of %s's connections: %w", node, err)
	}
	for _, c := range ends {
		if c.Direction != store.Out {
			continue
		}
		cur.Connections = append(cur.Connections, c)
		if !slices.Contains(cur.Nodes, c.Node) {
			cur.Nodes = append(cur.Nodes, c.Node)
		}
	}
	return nil
}

// For returns the findings that concern node: those the fleet's report
// lists under its name. Fleet-wide facts (the last collection) stay.
func (f *Findings) For(node string) *Findings {
	g := *f
	g.Unused = keep(f.Unused, func(u UnusedService) bool { return u.Node == node })
	g.Disconnected = keep(f.Disconnected, func(c store.Connection) bool { return c.Node == node })
	g.Unmonitored = keep(f.Unmonitored, func(s store.Service) bool { return s.Node == node })
	g.UnmappedChecks = keep(f.UnmappedChecks, func(c store.ServiceCheck) bool { return c.Node == node })
	g.MissingMonitoring = keep(f.MissingMonitoring, func(n string) bool { return n == node })
	g.FetchErrors = keep(f.FetchErrors, func(e FetchError) bool { return e.Node == node })
	return &g
}

func keep[T any](in []T, ok func(T) bool) []T {
	var out []T
	for _, x := range in {
		if ok(x) {
			out = append(out, x)
		}
	}
	return out
}
