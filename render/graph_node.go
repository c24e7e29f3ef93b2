package render

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/store"
)

// Keys of a node's aggregated connections.
type (
	inKey   struct{ client, port string }    // a client uses a local port
	outKey  struct{ process, remote string } // a local process uses a remote
	loopKey struct{ process, port string }   // a local process uses a local port
)

// nodeFacts are one node's connections, aggregated: what its own records
// say, completed by its peers' records of it (a node that could not be
// fetched is still seen through its peers).
type nodeFacts struct {
	in   links[inKey]
	out  links[outKey]
	loop links[loopKey]
}

// factsOf collects the connections of n: its own records, and peers, the
// records other nodes hold of connections with it (peersOf).
func factsOf(n *analyze.Node, peers []peerRecord) nodeFacts {
	f := nodeFacts{in: links[inKey]{}, out: links[outKey]{}, loop: links[loopKey]{}}
	own := map[pair]bool{} // remote and port of n's own outgoing records
	for _, c := range n.Connections {
		if port, ok := isLoopback(c); ok {
			f.loop.add(loopKey{inCtr(c.Process, c.Container), loopPort(c, port)}, port, c.LastSeen)
			continue
		}
		switch {
		case c.Remote == n.Name:
		case c.Direction == store.In:
			f.in.add(inKey{c.Remote, inCtr(c.Port, c.Container)}, c.Port, c.LastSeen)
		case c.Direction == store.Out:
			f.out.add(outKey{inCtr(c.Process, c.Container), c.Remote}, c.Port, c.LastSeen)
			own[pair{c.Remote, c.Port}] = true
		}
	}
	for _, p := range peers {
		if p.from == n {
			continue
		}
		switch c := p.c; {
		case c.Direction == store.Out:
			f.in.add(inKey{p.from.Name, inCtr(c.Port, "")}, c.Port, c.LastSeen)
		case c.Direction == store.In && !own[pair{p.from.Name, c.Port}]:
			f.out.add(outKey{"", p.from.Name}, c.Port, c.LastSeen)
		}
	}
	return f
}

// peerRecord is a node's record of a connection with another node.
type peerRecord struct {
	from *analyze.Node
	c    *store.Connection
}

// peersOf indexes the fleet's non-loopback records by their remote, in
// the order of m.Nodes and their records, so that drawing every node's
// graph reads each record once instead of once a node.
func peersOf(m *analyze.Model) map[string][]peerRecord {
	idx := map[string][]peerRecord{}
	for _, o := range m.Nodes {
		for i := range o.Connections {
			c := &o.Connections[i]
			if _, loop := isLoopback(*c); !loop {
				idx[c.Remote] = append(idx[c.Remote], peerRecord{o, c})
			}
		}
	}
	return idx
}

// nodeView is one node's graph while it is drawn.
type nodeView struct {
	m       *analyze.Model
	lk      linker
	name    string // the node's
	d       *dotGraph
	cluster dotCluster
	svc     map[string]string // local port → id of its box
	proc    map[string]string // local process → id it connects out from
}

// NodeDOT is one node's graph, left to right: its clients, the node as a
// frame holding its services (process and port), and what it connects to
// (nodes, IPs, the Internet). Arrows carry the ports; loopback connections
// are drawn inside the frame from the client process to the service.
// Clients or remotes beyond maxDrawn are drawn by group.
func NodeDOT(m *analyze.Model, name string) []byte {
	return nodeDOT(m, name, peersOf(m), Groups(m))
}

// nodeDOT is NodeDOT with the fleet's records indexed by peersOf and the
// groups of the global graph (which have a page to link).
func nodeDOT(m *analyze.Model, name string, peers map[string][]peerRecord, groups []Group) []byte {
	n := m.Node(name)
	if n == nil {
		d := &dotGraph{nodes: []dotNode{{"n0", []kv{{"label", label(name, "not a known node")}, {"shape", "plaintext"}}}}}
		return d.bytes()
	}
	f := factsOf(n, peers[n.Name])
	v := &nodeView{m: m, lk: newLinker(m, "../", groups), d: &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"fontname", "Helvetica"}}},
		svc: map[string]string{}, proc: map[string]string{}}
	v.name = n.Name
	v.cluster.attrs = append(clusterAttrs(label(n.Name, n.Worst), n.Worst), kv{"tooltip", nodeTip(n)})
	v.services(n)
	v.unknownPorts(f)
	v.processes(f)
	if v.cluster.empty() {
		v.cluster.nodes = append(v.cluster.nodes, dotNode{"e0", []kv{{"label", "no services seen"}, {"shape", "plaintext"}}})
	}
	v.d.clusters = []dotCluster{v.cluster}
	v.clients(f)
	v.remotes(f)
	v.loops(f)
	v.forwards(n)
	return v.d.bytes()
}

// services draws the node's services, sorted by port.
func (v *nodeView) services(n *analyze.Node) {
	svcs := slices.Clone(n.Services)
	slices.SortFunc(svcs, func(a, b store.Service) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), strings.Compare(a.Container, b.Container))
	})
	for i, sv := range svcs {
		id, port := "s"+strconv.Itoa(i), strconv.Itoa(sv.Port)
		key := inCtr(port, sv.Container)
		if _, dup := v.svc[key]; dup {
			continue
		}
		v.svc[key] = id
		if _, ok := v.proc[inCtr(sv.Process, sv.Container)]; !ok {
			v.proc[inCtr(sv.Process, sv.Container)] = id
		}
		a := []kv{{"label", label(cut(processName(sv.Process), maxLabel-8)+" :"+port, sv.AlertStatus)}}
		a = append(a, stateAttrs(sv.AlertStatus, v.m.Old(sv.LastSeen, "Services"))...)
		v.place(sv.Container, dotNode{id, append(a, v.lk.service(n.Name, sv.Process, port, sv.AlertStatus)...)})
	}
}

// unknownPorts draws local ports that are used but have no service box
// (the service is hidden, or was never seen listening).
func (v *nodeView) unknownPorts(f nodeFacts) {
	var ports []string
	for k := range f.in {
		ports = append(ports, k.port)
	}
	for k := range f.loop {
		ports = append(ports, k.port)
	}
	slices.SortFunc(ports, store.ComparePorts)
	for _, p := range slices.Compact(ports) {
		if _, ok := v.svc[p]; ok {
			continue
		}
		id := "u" + strconv.Itoa(len(v.svc))
		v.svc[p] = id
		port, ctr, _ := strings.Cut(p, "\x00")
		v.place(ctr, dotNode{id, []kv{{"label", label("? :"+cut(port, 12), "no service seen")},
			{"color", "#9e9e9e"}, {"fontcolor", "#616161"},
			{"tooltip", "port " + cut(port, 12) + " used, but no service was seen listening on it"}}})
	}
}

// processes draws the local client processes that serve no port, from
// which their outgoing connections start.
func (v *nodeView) processes(f nodeFacts) {
	var procs []string
	for k := range f.out {
		procs = append(procs, k.process)
	}
	for k := range f.loop {
		procs = append(procs, k.process)
	}
	slices.Sort(procs)
	for i, p := range slices.Compact(procs) {
		if _, ok := v.proc[p]; ok {
			continue
		}
		id := "q" + strconv.Itoa(i)
		v.proc[p] = id
		name, ctr, _ := strings.Cut(p, "\x00")
		a := []kv{{"label", label(processName(name))}, {"shape", "ellipse"}}
		v.place(ctr, dotNode{id, append(a, linkAttrs(v.lk.processHref(name), cut(processName(name), maxLabel)+" · a client process")...)})
	}
}

// clients draws who uses the node, on the left, with arrows to the ports
// they use.
func (v *nodeView) clients(f nodeFacts) {
	var names []string
	for k := range f.in {
		names = append(names, k.client)
	}
	ids, g, titles := v.boxes("c", names)
	grouped := links[inKey]{}
	as := arrows[inKey]{}
	for k, l := range f.in {
		gk := inKey{g.key(k.client), k.port}
		grouped.add(gk, k.port, l.lastSeen)
		for _, p := range l.ports {
			as.add(gk, titles[gk.client], v.name, fact{k.client, v.name, p})
		}
	}
	v.d.edges = append(v.d.edges, sortedEdges(v.m, grouped, func(k inKey) (string, string) {
		return ids[k.client], v.svc[k.port]
	}, func(k inKey, l *link) []kv { return v.lk.edge(as[k], l.ports) })...)
}

// remotes draws what the node uses, on the right, with arrows from the
// local processes.
func (v *nodeView) remotes(f nodeFacts) {
	var names []string
	for k := range f.out {
		names = append(names, k.remote)
	}
	ids, g, titles := v.boxes("r", names)
	grouped := links[outKey]{}
	as := arrows[outKey]{}
	for k, l := range f.out {
		gk := outKey{k.process, g.key(k.remote)}
		for _, p := range l.ports {
			grouped.add(gk, p, l.lastSeen)
			as.add(gk, v.name, titles[gk.remote], fact{v.name, k.remote, p})
		}
	}
	v.d.edges = append(v.d.edges, sortedEdges(v.m, grouped, func(k outKey) (string, string) {
		return v.proc[k.process], ids[k.remote]
	}, func(k outKey, l *link) []kv { return v.lk.edge(as[k], l.ports) })...)
}

// loops draws the node's loopback connections inside its frame.
func (v *nodeView) loops(f nodeFacts) {
	v.d.edges = append(v.d.edges, sortedEdges(v.m, f.loop, func(k loopKey) (string, string) {
		return v.proc[k.process], v.svc[k.port]
	}, func(k loopKey, l *link) []kv {
		proc, _, _ := strings.Cut(k.process, "\x00")
		return linkAttrs("", cut(processName(proc), maxLabel)+" → "+clean(v.name)+" :"+portList(l.ports)+" (loopback)")
	})...)
}

// boxes draws names (clients or remotes) as boxes with ids prefix0,
// prefix1, …, grouped when there are many; it returns the id of each box
// key, the grouper, and the title of each box key.
func (v *nodeView) boxes(prefix string, names []string) (map[string]string, grouper, map[string]string) {
	g := newGrouper(names)
	keys, byKey := g.boxes(names)
	ids, titles := map[string]string{}, map[string]string{}
	for i, k := range keys {
		ids[k] = prefix + strconv.Itoa(i)
		shape := remoteShape(v.m, ids[k], k, byKey[k])
		shape.attrs = append(shape.attrs, v.lk.box(k, byKey[k])...)
		v.d.nodes = append(v.d.nodes, shape)
		titles[k] = boxTitle(k, byKey[k])
	}
	return ids, g, titles
}
