package store

import (
	"context"
	"slices"

	"github.com/lwindolf/dotm/domain"
)

// Current is what the store holds now.
type Current struct {
	Nodes       []string
	Infos       []Node
	Services    []Service
	Connections []Connection
	Checks      map[string]Checks
	// Problems are the records that were skipped because they cannot be
	// read (ReadCurrent), by key within each kind.
	Problems []Problem
}

// Latest maps each node to the time of its last successful fetch: its
// last_fetch when that fetch was OK, else the newest last_seen of its data
// (a failed fetch leaves the data as it was, so a node that stopped
// answering keeps its last picture). What a node showed then has a
// last_seen at or after it; older records are gone from the node.
func (c *Current) Latest() map[string]int64 {
	out := map[string]int64{}
	for _, sv := range c.Services {
		out[sv.Node] = max(out[sv.Node], sv.LastSeen)
	}
	for _, cn := range c.Connections {
		out[cn.Node] = max(out[cn.Node], cn.LastSeen)
	}
	for _, n := range c.Infos {
		if n.FetchStatus == "OK" {
			out[n.Name] = n.LastFetch
		}
	}
	return out
}

// Architecture builds the architecture of the current data at time ts:
// listed nodes, and the services and connections their last successful
// fetch showed.
func (c *Current) Architecture(ts int64) *domain.Architecture {
	a := &domain.Architecture{Version: domain.ArchitectureVersion, Time: ts, Nodes: slices.Sorted(slices.Values(c.Nodes))}
	listed := map[string]bool{}
	for _, n := range c.Nodes {
		listed[n] = true
	}
	latest := c.Latest()
	for _, sv := range c.Services {
		if listed[sv.Node] && sv.LastSeen >= latest[sv.Node] {
			a.Services = append(a.Services, domain.ArchService{Node: sv.Node, Port: sv.Port, Process: sv.Process, Container: sv.Container})
		}
	}
	var live []Connection
	for _, cn := range c.Connections {
		if listed[cn.Node] && cn.LastSeen >= latest[cn.Node] {
			live = append(live, cn)
		}
	}
	for _, cn := range Links(live) {
		a.Connections = append(a.Connections, domain.ArchLink{Node: cn.Node, Direction: cn.Direction, Port: cn.Port,
			Remote: cn.Remote, Process: cn.Process, Container: cn.Container})
	}
	for _, n := range a.Nodes {
		ch, ok := c.Checks[n]
		if !ok {
			continue
		}
		if s := ch.Node.Status; s != "" && s != "UP" {
			a.Alerts = append(a.Alerts, domain.ArchAlert{Node: n, Check: "host", Status: s})
		}
		for _, sc := range ch.Services {
			if sc.Status != "OK" {
				a.Alerts = append(a.Alerts, domain.ArchAlert{Node: n, Check: sc.Service, Status: sc.Status})
			}
		}
	}
	a.Sort()
	return a
}

// Links drops the incoming half of every connection between two nodes
// whose outgoing half is in conns too, so each connection counts once.
func Links(conns []Connection) []Connection {
	outs := map[[3]string]bool{}
	for _, c := range conns {
		if c.Direction == Out {
			outs[[3]string{c.Node, c.Port, c.Remote}] = true
		}
	}
	var out []Connection
	for _, c := range conns {
		if c.Direction == In && outs[[3]string{c.Remote, c.Port, c.Node}] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// ReadCurrent reads what Current holds from the store. Records that
// cannot be read are skipped and listed in Problems; an error is a store
// that failed, or a dotm::nodes that is not a list.
func (s *Store) ReadCurrent(ctx context.Context) (*Current, error) {
	c := &Current{}
	var err error
	var bad []Problem
	add := func(ps []Problem) { c.Problems = append(c.Problems, ps...) }
	if c.Nodes, bad, err = s.nodes(ctx); err != nil {
		return nil, err
	}
	add(bad)
	if c.Infos, bad, err = s.nodeInfo(ctx, c.Nodes); err != nil {
		return nil, err
	}
	add(bad)
	if c.Services, bad, err = s.services(ctx, ""); err != nil {
		return nil, err
	}
	add(bad)
	if c.Connections, bad, err = s.connections(ctx, ""); err != nil {
		return nil, err
	}
	add(bad)
	if c.Checks, bad, err = s.allChecks(ctx, c.Nodes); err != nil {
		return nil, err
	}
	add(bad)
	return c, nil
}
