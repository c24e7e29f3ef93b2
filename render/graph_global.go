package render

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

type pair struct{ client, server string }

// fleetLinks are all client → server arrows between nodes and remotes,
// proven by either end's record; loopbacks are left out.
func fleetLinks(m *analyze.Model) links[pair] {
	ls := links[pair]{}
	for _, n := range m.Nodes {
		for _, c := range n.Connections {
			if _, loop := isLoopback(c); loop || c.Remote == n.Name {
				continue
			}
			switch c.Direction {
			case store.In:
				ls.add(pair{c.Remote, n.Name}, c.Port, c.LastSeen)
			case store.Out:
				ls.add(pair{n.Name, c.Remote}, c.Port, c.LastSeen)
			}
		}
	}
	return ls
}

// GlobalDOT is the fleet: one box per node (or per group of nodes, for
// fleets larger than maxDrawn), an arrow per client → server pair labelled
// with the ports used.
func GlobalDOT(m *analyze.Model) []byte { return computeGrouping(m).globalDOT(m) }

func (fg *grouping) globalDOT(m *analyze.Model) []byte {
	return globalGraph(newLinker(m, "", fg.groups(m)), fg.links, fg.grouper, fg.names).bytes()
}

// grouping is what the global graph draws: the fleet's links, how names
// are grouped into boxes, and every name (nodes and link ends). A site
// build computes it once.
type grouping struct {
	links   links[pair]
	grouper grouper
	names   []string
}

func computeGrouping(m *analyze.Model) *grouping {
	ls := fleetLinks(m)
	var names []string
	for _, n := range m.Nodes {
		names = append(names, n.Name)
	}
	for p := range ls {
		names = append(names, p.client, p.server)
	}
	return &grouping{ls, newGrouper(names), names}
}

// Group is a box of the global graph that holds several nodes.
type Group struct {
	Key     string
	Members []*analyze.Node // sorted by name
}

// Groups are the global graph's boxes of more than one node, sorted by
// key; none when the graph draws every node on its own.
func Groups(m *analyze.Model) []Group { return computeGrouping(m).groups(m) }

func (fg *grouping) groups(m *analyze.Model) []Group {
	g, names := fg.grouper, fg.names
	keys, byKey := g.boxes(names)
	var out []Group
	for _, k := range keys {
		var members []*analyze.Node
		for _, name := range byKey[k].members {
			if n := m.Node(name); n != nil {
				members = append(members, n)
			}
		}
		if len(byKey[k].members) > 1 && len(members) > 0 {
			out = append(out, Group{Key: k, Members: members})
		}
	}
	return out
}

// GroupDOT is one group's neighbourhood: the group's nodes one by one (if
// there are at most maxDrawn of them; else the group as one box), the
// groups and nodes they talk to as in the global graph, and only the
// arrows that touch the group.
func GroupDOT(m *analyze.Model, key string) []byte { return computeGrouping(m).groupDOT(m, key) }

func (fg *grouping) groupDOT(m *analyze.Model, key string) []byte {
	ls, g, names := fg.links, fg.grouper, fg.names
	var members []string
	for _, n := range names {
		if g.key(n) == key {
			members = append(members, n)
		}
	}
	members = slices.Compact(slices.Sorted(slices.Values(members)))
	inner := grouper{func(s string) string {
		if k := g.key(s); k != key || len(members) > maxDrawn {
			return k
		}
		return s
	}}
	near := links[pair]{}
	subNames := slices.Clone(members)
	for p, l := range ls {
		if g.key(p.client) == key || g.key(p.server) == key {
			near[p] = l
			subNames = append(subNames, p.client, p.server)
		}
	}
	return globalGraph(newLinker(m, "../", fg.groups(m)), near, inner, subNames).bytes()
}

// globalGraph draws the fleet's links with boxes by grouper g, linked by
// lk.
func globalGraph(lk linker, ls links[pair], g grouper, names []string) *dotGraph {
	m := lk.m
	d := &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"fontname", "Helvetica"}}}
	keys, byKey := g.boxes(names)
	ids := map[string]string{}
	titles := map[string]string{}
	for i, k := range keys {
		ids[k] = "n" + strconv.Itoa(i)
		shape := remoteShape(m, ids[k], k, byKey[k])
		shape.attrs = append(shape.attrs, lk.box(k, byKey[k])...)
		d.nodes = append(d.nodes, shape)
		titles[k] = boxTitle(k, byKey[k])
	}
	grouped := links[pair]{}
	as := arrows[pair]{}
	for p, l := range ls {
		gp := pair{g.key(p.client), g.key(p.server)}
		for _, port := range l.ports {
			grouped.add(gp, port, l.lastSeen)
			as.add(gp, titles[gp.client], titles[gp.server], fact{p.client, p.server, port})
		}
	}
	d.edges = sortedEdges(m, grouped, func(p pair) (string, string) { return ids[p.client], ids[p.server] },
		func(p pair, l *link) []kv { return lk.edge(as[p], l.ports) })
	return d
}

// sortedEdges turns links into arrows sorted by their ends' ids, each
// with the attributes extra gives (if not nil).
func sortedEdges[K comparable](m *analyze.Model, ls links[K], ends func(K) (string, string), extra func(K, *link) []kv) []dotEdge {
	var out []dotEdge
	for k, l := range ls {
		from, to := ends(k)
		a := edgeAttrs(l.ports, m.Old(l.lastSeen, "Connections"))
		if extra != nil {
			a = append(a, extra(k, l)...)
		}
		out = append(out, dotEdge{from: from, to: to, attrs: a})
	}
	slices.SortFunc(out, func(a, b dotEdge) int {
		return cmp.Or(cmpID(a.from, b.from), cmpID(a.to, b.to), strings.Compare(a.attrs[0].v, b.attrs[0].v))
	})
	return out
}

// cmpID orders generated ids ("n2" before "n10").
func cmpID(a, b string) int {
	pa, na := splitID(a)
	pb, nb := splitID(b)
	return cmp.Or(strings.Compare(pa, pb), cmp.Compare(na, nb), strings.Compare(a, b))
}

// splitID splits a generated id into its letters and number.
func splitID(id string) (string, int) {
	i := strings.IndexFunc(id, unicode.IsDigit)
	if i < 0 {
		return id, 0
	}
	n, _ := strconv.Atoi(id[i:])
	return id[:i], n
}

// LegendDOT explains the graphs: the colours (with the state written in
// the label, so colour is never the only sign), the thick double border
// of a problem, and dashed for things not seen within the aging setting.
func LegendDOT() []byte {
	d := &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"label", "Legend"}, {"fontname", "Helvetica"}, {"fontsize", "11"}}}
	states := []struct{ id, text, state string }{
		{"l0", "no monitoring", ""}, {"l1", "OK / UP", "OK"}, {"l2", "PENDING", "PENDING"},
		{"l3", "WARNING", "WARNING"}, {"l4", "UNKNOWN / UNREACHABLE", "UNKNOWN"},
		{"l5", "CRITICAL / DOWN", "CRITICAL"},
	}
	for _, s := range states {
		d.nodes = append(d.nodes, dotNode{s.id, append([]kv{{"label", s.text}}, stateAttrs(s.state, false)...)})
	}
	d.nodes = append(d.nodes,
		dotNode{"l6", append([]kv{{"label", "client"}}, stateAttrs("", false)...)},
		dotNode{"l7", append([]kv{{"label", "service, old\n(not seen lately)"}}, stateAttrs("", true)...)},
		dotNode{"l8", append([]kv{{"label", "service"}}, stateAttrs("", false)...)},
		dotNode{"l9", []kv{{"label", domain.Internet}, {"shape", "ellipse"}}},
	)
	for i := range len(states) - 1 { // one row of states
		d.edges = append(d.edges, dotEdge{states[i].id, states[i+1].id, []kv{{"style", "invis"}}})
	}
	d.edges = append(d.edges, []dotEdge{
		{"l6", "l8", []kv{{"label", "port in use"}}},
		{"l6", "l7", []kv{{"label", "old connection"}, {"style", "dashed"}}},
		{"l8", "l9", []kv{{"label", "443"}}},
	}...)
	return d.bytes()
}
