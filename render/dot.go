package render

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/lwindolf/dotm/store"
)

// The DOT graphs of the site. Every name in them (nodes, processes, ports,
// states) is untrusted: it only ever appears inside a double-quoted label,
// escaped and cut to maxLabel runes; DOT ids are generated ("n3"), never a
// name. Output is sorted, so the same Model gives the same bytes, and it
// holds no volatile figures (times, socket counts): the .dot files are
// archived, and a diff of them is a real architecture change.

const (
	// maxLabel is the most runes one line of untrusted text shows.
	maxLabel = 60
	// maxDrawn is the most boxes a graph draws one by one; beyond it
	// nodes are drawn by group (GroupOf).
	maxDrawn = 40
	// maxPorts is the most ports an edge label lists before "+N".
	maxPorts = 4
)

// kv is one DOT attribute; the value is quoted when written.
type kv struct{ k, v string }

// dotNode is a box, ellipse or other shape of a graph.
type dotNode struct {
	id    string
	attrs []kv
}

// dotEdge is an arrow between two dotNodes.
type dotEdge struct {
	from, to string
	attrs    []kv
}

// dotCluster is a framed group of nodes.
type dotCluster struct {
	attrs []kv
	nodes []dotNode
	// name and sub: frames inside this one (containers, containers.go).
	name string
	sub  []dotCluster
}

// dotGraph collects a graph before writing it, so that the layout engine
// can follow its size.
type dotGraph struct {
	attrs    []kv
	clusters []dotCluster
	nodes    []dotNode
	edges    []dotEdge
}

// size is the number of nodes of g.
func (g *dotGraph) size() int {
	n := len(g.nodes)
	for _, c := range g.clusters {
		n += len(c.nodes)
		for _, s := range c.sub {
			n += len(s.nodes)
		}
	}
	return n
}

// bytes writes g as DOT.
func (g *dotGraph) bytes() []byte {
	var b bytes.Buffer
	b.WriteString("digraph \"dotm\" {\n")
	attrs := append([]kv{{"layout", layoutFor(g.size())}}, g.attrs...)
	if layoutFor(g.size()) != "dot" {
		// overlap=scale, not false: false (prism) takes 20 s and more for
		// 1000 nodes in the embedded (WebAssembly) Graphviz.
		attrs = append(attrs, kv{"overlap", "scale"}, kv{"outputorder", "edgesfirst"})
	}
	writeStmt(&b, "\t", "graph", attrs)
	writeStmt(&b, "\t", "node", []kv{{"fontname", "Helvetica"}, {"fontsize", "10"}, {"shape", "box"}})
	writeStmt(&b, "\t", "edge", []kv{{"fontname", "Helvetica"}, {"fontsize", "9"}, {"color", "#555555"}})
	for i, c := range g.clusters {
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n", i)
		writeStmt(&b, "\t\t", "graph", c.attrs)
		for _, n := range c.nodes {
			writeStmt(&b, "\t\t", n.id, n.attrs)
		}
		for j, sub := range c.sub {
			fmt.Fprintf(&b, "\t\tsubgraph cluster_%d_%d {\n", i, j)
			writeStmt(&b, "\t\t\t", "graph", sub.attrs)
			for _, n := range sub.nodes {
				writeStmt(&b, "\t\t\t", n.id, n.attrs)
			}
			b.WriteString("\t\t}\n")
		}
		b.WriteString("\t}\n")
	}
	for _, n := range g.nodes {
		writeStmt(&b, "\t", n.id, n.attrs)
	}
	for _, e := range g.edges {
		writeStmt(&b, "\t", e.from+" -> "+e.to, e.attrs)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// writeStmt writes one statement (a node, an edge or an attribute
// statement) with its attributes, each value quoted.
func writeStmt(b *bytes.Buffer, indent, head string, attrs []kv) {
	b.WriteString(indent + head)
	for i, a := range attrs {
		sep := ", "
		if i == 0 {
			sep = " ["
		}
		b.WriteString(sep + a.k + "=" + quote(a.v))
	}
	if len(attrs) > 0 {
		b.WriteString("]")
	}
	b.WriteString(";\n")
}

// quote makes s a DOT double-quoted string: backslashes and quotes are
// escaped, so nothing in s can end the string or form an escape such as
// \N; a newline becomes a centred line break; carriage returns go.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// clean makes untrusted text fit for one line of a label: valid UTF-8,
// control and format characters (newlines, bidi overrides) as spaces, at
// most maxLabel runes (cut with "…").
func clean(s string) string { return cut(s, maxLabel) }

// cut is clean with room for at most n runes.
func cut(s string, n int) string {
	rs := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	if len(rs) > n {
		rs = append(rs[:max(n-1, 0)], '…')
	}
	for i, r := range rs {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			rs[i] = ' '
		}
	}
	return string(rs)
}

// label joins cleaned lines of a label; empty lines are left out.
func label(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l = clean(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// palette is how a monitoring state is drawn.
type palette struct{ line, fill string }

// colours gives the palette of a state: OK green, WARNING orange,
// UNKNOWN purple, CRITICAL/DOWN red, PENDING grey, none white.
func colours(state string) palette {
	switch state {
	case "OK", "UP":
		return palette{"#2e7d32", "#c8e6c9"}
	case "PENDING":
		return palette{"#616161", "#e0e0e0"}
	case "WARNING":
		return palette{"#e65100", "#ffe0b2"}
	case "UNKNOWN", "UNREACHABLE":
		return palette{"#6a1b9a", "#e1bee7"}
	case "CRITICAL", "DOWN":
		return palette{"#b71c1c", "#ffcdd2"}
	}
	return palette{"#424242", "#ffffff"}
}

// bad reports whether a state is drawn as a problem (thick double border),
// so that it shows without colour too.
func bad(state string) bool { return store.Severity(state) > 0 }

// styleOf is the style attribute of a filled shape, dashed when old.
func styleOf(base string, old bool) string {
	if old {
		return base + ",dashed"
	}
	return base
}

// stateAttrs are the attributes of a shape in the given state.
func stateAttrs(state string, old bool) []kv {
	p := colours(state)
	a := []kv{{"color", p.line}, {"fillcolor", p.fill}, {"style", styleOf("filled", old)}}
	if bad(state) {
		a = append(a, kv{"penwidth", "3"}, kv{"peripheries", "2"})
	}
	return a
}

// clusterAttrs are the attributes of a cluster (a node's frame) in the
// given state: clusters have no peripheries, so a problem is a thick line.
func clusterAttrs(lbl, state string) []kv {
	p := colours(state)
	a := []kv{{"label", lbl}, {"color", p.line}, {"fillcolor", "#fafafa"}, {"style", "filled,rounded"}}
	if bad(state) {
		a = append(a, kv{"penwidth", "3"})
	}
	return a
}

// edgeAttrs are the attributes of an arrow labelled with ports, dashed
// when all connections behind it are old.
func edgeAttrs(ports []string, old bool) []kv {
	a := []kv{{"label", portList(ports)}}
	if old {
		a = append(a, kv{"style", "dashed"})
	}
	return a
}

// portList shows ports sorted, at most maxPorts of them then "+N".
func portList(ports []string) string {
	ports = slices.Clone(ports)
	slices.SortFunc(ports, comparePorts)
	ports = slices.Compact(ports)
	for i, p := range ports {
		ports[i] = cut(p, 12)
	}
	if len(ports) > maxPorts {
		return strings.Join(ports[:maxPorts], ",") + fmt.Sprintf(" +%d", len(ports)-maxPorts)
	}
	return strings.Join(ports, ",")
}

// processName shows a process name, or that it is not known.
func processName(p string) string { return cmp.Or(p, "(unknown process)") }

// GroupOf is the group a node is drawn in when a graph has too many nodes
// to draw one by one: the domain of an FQDN ("web01.eu.example.com" →
// "eu.example.com"), else the name without trailing digits and separators
// ("web01", "web-02" → "web").
func GroupOf(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 && i < len(name)-1 {
		return name[i+1:]
	}
	if g := strings.TrimRight(name, "0123456789-_"); g != "" {
		return g
	}
	return name
}

// hostGroup is GroupOf applied to the host part of a name only
// ("web01.example.com" → "web"): for fleets that all share one domain.
func hostGroup(name string) string {
	host, _, _ := strings.Cut(name, ".")
	return GroupOf(cmp.Or(host, name))
}

// remoteGroup groups a remote that is no node: the Internet stays itself,
// an IP goes into its /24 (IPv6: /64).
func remoteGroup(remote string) (string, bool) {
	if remote == Internet {
		return Internet, true
	}
	ip, err := netip.ParseAddr(remote)
	if err != nil {
		return "", false
	}
	bits := 64
	if ip.Unmap().Is4() {
		ip, bits = ip.Unmap(), 24
	}
	p, _ := ip.Prefix(bits)
	return p.String(), true
}

// grouper maps names to the boxes they are drawn in: each its own box for
// few names, else one box per group.
type grouper struct{ key func(string) string }

// newGrouper picks how names are drawn: one by one up to maxDrawn, else
// by GroupOf, or by hostGroup when GroupOf would put them all in one box.
func newGrouper(names []string) grouper {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	if len(names) <= maxDrawn {
		return grouper{func(s string) string { return s }}
	}
	for _, f := range []func(string) string{GroupOf, hostGroup} {
		groups := map[string]bool{}
		for _, n := range names {
			if _, ok := remoteGroup(n); !ok {
				groups[f(n)] = true
			}
		}
		if len(groups) > 1 {
			return grouper{groupWith(f)}
		}
	}
	return grouper{groupWith(GroupOf)}
}

// groupWith groups nodes by f and remotes by remoteGroup.
func groupWith(f func(string) string) func(string) string {
	return func(s string) string {
		if g, ok := remoteGroup(s); ok {
			return g
		}
		return f(s)
	}
}

// box is one drawn box: a name or a group of names.
type box struct {
	members []string
}

// boxes draws names as boxes by g: the box keys sorted, each with its
// members sorted.
func (g grouper) boxes(names []string) (keys []string, byKey map[string]*box) {
	byKey = map[string]*box{}
	for _, n := range names {
		k := g.key(n)
		if byKey[k] == nil {
			byKey[k] = &box{}
		}
		byKey[k].members = append(byKey[k].members, n)
	}
	for _, b := range byKey {
		slices.Sort(b.members)
		b.members = slices.Compact(b.members)
	}
	return slices.Sorted(maps.Keys(byKey)), byKey
}

// remoteShape draws a node, an IP, the Internet, or a group of them: its
// name ("web ×12" for a group) and the worst state of the nodes in it.
func remoteShape(m *Model, id, key string, b *box) dotNode {
	worst := ""
	for _, name := range b.members {
		if n := m.Node(name); n != nil && name != Internet {
			worst = store.WorstOf(worst, n.Worst)
		}
	}
	title := b.members[0]
	if len(b.members) > 1 {
		title = cut(key, maxLabel-8) + fmt.Sprintf(" ×%d", len(b.members))
	}
	a := append([]kv{{"label", label(title, worst)}}, stateAttrs(worst, false)...)
	if key == Internet {
		a = append(a, kv{"shape", "ellipse"})
	}
	return dotNode{id: id, attrs: a}
}

// link is an aggregated arrow: the ports it carries and when any of its
// connections was last seen.
type link struct {
	ports    []string
	lastSeen int64
}

// links collects arrows by key, in no order until sorted.
type links[K comparable] map[K]*link

// add records one connection on port for key k.
func (ls links[K]) add(k K, port string, lastSeen int64) {
	l := ls[k]
	if l == nil {
		l = &link{}
		ls[k] = l
	}
	if !slices.Contains(l.ports, port) {
		l.ports = append(l.ports, port)
	}
	l.lastSeen = max(l.lastSeen, lastSeen)
}

// isLoopback tells a connection between two processes of its own node,
// and the service port it reaches.
func isLoopback(c store.Connection) (port string, ok bool) {
	switch {
	case c.LocalService != "":
		return c.LocalService, true
	case c.Remote == c.Node && c.Direction == store.Out:
		return c.Port, true
	}
	return "", false
}

// pair is a client → server fact between nodes or remotes.
type pair struct{ client, server string }

// fleetLinks are all client → server arrows between nodes and remotes,
// proven by either end's record; loopbacks are left out.
func fleetLinks(m *Model) links[pair] {
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
func GlobalDOT(m *Model) []byte {
	ls, g, names := fleetGrouping(m)
	return globalGraph(m, ls, g, names).bytes()
}

// fleetGrouping is what the global graph draws: the fleet's links, how
// names are grouped into boxes, and every name (nodes and link ends).
func fleetGrouping(m *Model) (links[pair], grouper, []string) {
	m.groupingOnce.Do(func() { m.grouping = computeGrouping(m) })
	g := m.grouping
	return g.links, g.grouper, g.names
}

// grouping is fleetGrouping's result, computed once per model.
type grouping struct {
	links   links[pair]
	grouper grouper
	names   []string
}

func computeGrouping(m *Model) *grouping {
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
	Members []*Node // sorted by name
}

// Groups are the global graph's boxes of more than one node, sorted by
// key; none when the graph draws every node on its own.
func (m *Model) Groups() []Group {
	_, g, names := fleetGrouping(m)
	keys, byKey := g.boxes(names)
	var out []Group
	for _, k := range keys {
		var members []*Node
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
func GroupDOT(m *Model, key string) []byte {
	ls, g, names := fleetGrouping(m)
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
	return globalGraph(m, near, inner, subNames).bytes()
}

// globalGraph draws the fleet's links with boxes by grouper g.
func globalGraph(m *Model, ls links[pair], g grouper, names []string) *dotGraph {
	d := &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"fontname", "Helvetica"}}}
	keys, byKey := g.boxes(names)
	ids := map[string]string{}
	for i, k := range keys {
		ids[k] = "n" + strconv.Itoa(i)
		d.nodes = append(d.nodes, remoteShape(m, ids[k], k, byKey[k]))
	}
	grouped := links[pair]{}
	for p, l := range ls {
		for _, port := range l.ports {
			grouped.add(pair{g.key(p.client), g.key(p.server)}, port, l.lastSeen)
		}
	}
	d.edges = sortedEdges(m, grouped, func(p pair) (string, string) { return ids[p.client], ids[p.server] })
	return d
}

// sortedEdges turns links into arrows sorted by their ends' ids.
func sortedEdges[K comparable](m *Model, ls links[K], ends func(K) (string, string)) []dotEdge {
	var out []dotEdge
	for k, l := range ls {
		from, to := ends(k)
		out = append(out, dotEdge{from: from, to: to, attrs: edgeAttrs(l.ports, m.Old(l.lastSeen, "Connections"))})
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
		dotNode{"l9", []kv{{"label", Internet}, {"shape", "ellipse"}}},
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
func factsOf(n *Node, peers []peerRecord) nodeFacts {
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
			f.in.add(inKey{p.from.Name, c.Port}, c.Port, c.LastSeen)
		case c.Direction == store.In && !own[pair{p.from.Name, c.Port}]:
			f.out.add(outKey{"", p.from.Name}, c.Port, c.LastSeen)
		}
	}
	return f
}

// peerRecord is a node's record of a connection with another node.
type peerRecord struct {
	from *Node
	c    *store.Connection
}

// peersOf indexes the fleet's non-loopback records by their remote, in
// the order of m.Nodes and their records, so that drawing every node's
// graph reads each record once instead of once a node.
func peersOf(m *Model) map[string][]peerRecord {
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
	m       *Model
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
func NodeDOT(m *Model, name string) []byte {
	return nodeDOT(m, name, peersOf(m))
}

// nodeDOT is NodeDOT with the fleet's records indexed by peersOf.
func nodeDOT(m *Model, name string, peers map[string][]peerRecord) []byte {
	n := m.Node(name)
	if n == nil {
		d := &dotGraph{nodes: []dotNode{{"n0", []kv{{"label", label(name, "not a known node")}, {"shape", "plaintext"}}}}}
		return d.bytes()
	}
	f := factsOf(n, peers[n.Name])
	v := &nodeView{m: m, d: &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"fontname", "Helvetica"}}},
		svc: map[string]string{}, proc: map[string]string{}}
	v.cluster.attrs = clusterAttrs(label(n.Name, n.Worst), n.Worst)
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
func (v *nodeView) services(n *Node) {
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
		v.place(sv.Container, dotNode{id, append(a, stateAttrs(sv.AlertStatus, v.m.Old(sv.LastSeen, "Services"))...)})
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
	slices.SortFunc(ports, comparePorts)
	for _, p := range slices.Compact(ports) {
		if _, ok := v.svc[p]; ok {
			continue
		}
		id := "u" + strconv.Itoa(len(v.svc))
		v.svc[p] = id
		port, ctr, _ := strings.Cut(p, "\x00")
		v.place(ctr, dotNode{id, []kv{{"label", label("? :"+cut(port, 12), "no service seen")},
			{"color", "#9e9e9e"}, {"fontcolor", "#616161"}}})
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
		v.place(ctr, dotNode{id, []kv{{"label", label(processName(name))}, {"shape", "ellipse"}}})
	}
}

// clients draws who uses the node, on the left, with arrows to the ports
// they use.
func (v *nodeView) clients(f nodeFacts) {
	var names []string
	for k := range f.in {
		names = append(names, k.client)
	}
	ids, g := v.boxes("c", names)
	grouped := links[inKey]{}
	for k, l := range f.in {
		grouped.add(inKey{g.key(k.client), k.port}, k.port, l.lastSeen)
	}
	v.d.edges = append(v.d.edges, sortedEdges(v.m, grouped, func(k inKey) (string, string) {
		return ids[k.client], v.svc[k.port]
	})...)
}

// remotes draws what the node uses, on the right, with arrows from the
// local processes.
func (v *nodeView) remotes(f nodeFacts) {
	var names []string
	for k := range f.out {
		names = append(names, k.remote)
	}
	ids, g := v.boxes("r", names)
	grouped := links[outKey]{}
	for k, l := range f.out {
		for _, p := range l.ports {
			grouped.add(outKey{k.process, g.key(k.remote)}, p, l.lastSeen)
		}
	}
	v.d.edges = append(v.d.edges, sortedEdges(v.m, grouped, func(k outKey) (string, string) {
		return v.proc[k.process], ids[k.remote]
	})...)
}

// loops draws the node's loopback connections inside its frame.
func (v *nodeView) loops(f nodeFacts) {
	v.d.edges = append(v.d.edges, sortedEdges(v.m, f.loop, func(k loopKey) (string, string) {
		return v.proc[k.process], v.svc[k.port]
	})...)
}

// boxes draws names (clients or remotes) as boxes with ids prefix0,
// prefix1, …, grouped when there are many; it returns the id of each box
// key and the grouper.
func (v *nodeView) boxes(prefix string, names []string) (map[string]string, grouper) {
	g := newGrouper(names)
	keys, byKey := g.boxes(names)
	ids := map[string]string{}
	for i, k := range keys {
		ids[k] = prefix + strconv.Itoa(i)
		v.d.nodes = append(v.d.nodes, remoteShape(v.m, ids[k], k, byKey[k]))
	}
	return ids, g
}

// Vertex keys of the service graph besides "p:<process>".
const (
	vInternetIn  = "i:in"  // clients on the Internet
	vInternetOut = "i:out" // servers on the Internet
	vOtherIn     = "x:in"  // clients that are no node
	vUnknownPfx  = "u:"    // a port of a server that is no node or has no such service
	vProcessPfx  = "p:"
)

// serviceFacts are the process → process arrows of the fleet and the
// nodes each process runs on.
type serviceFacts struct {
	ls    links[pair]
	nodes map[string]map[string]bool // vertex key → node names
}

// ServiceDOT is process → process across all nodes (haproxy → nginx →
// java → mysqld): the client process of each connection to the process
// serving the port on the server side, each labelled with the number of
// nodes it runs on.
func ServiceDOT(m *Model) []byte {
	f := serviceFactsOf(m)
	d := &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"fontname", "Helvetica"}}}
	keys := map[string]bool{}
	for p := range f.ls {
		keys[p.client], keys[p.server] = true, true
	}
	for k := range f.nodes {
		keys[k] = true
	}
	ids := map[string]string{}
	for i, k := range slices.Sorted(maps.Keys(keys)) {
		ids[k] = "v" + strconv.Itoa(i)
		d.nodes = append(d.nodes, vertexShape(m, ids[k], k, len(f.nodes[k])))
	}
	d.edges = sortedEdges(m, f.ls, func(p pair) (string, string) { return ids[p.client], ids[p.server] })
	return d.bytes()
}

// serviceFactsOf collects the process → process arrows of the fleet.
func serviceFactsOf(m *Model) serviceFacts {
	f := serviceFacts{ls: links[pair]{}, nodes: map[string]map[string]bool{}}
	outSeen := map[[3]string]bool{} // client node, server node, port of outgoing records
	for _, n := range m.Nodes {
		for _, c := range n.Connections {
			if _, loop := isLoopback(c); !loop && c.Direction == store.Out {
				outSeen[[3]string{n.Name, c.Remote, c.Port}] = true
			}
		}
	}
	for _, n := range m.Nodes {
		for _, sv := range n.Services {
			f.runs(vProcessPfx+sv.Process, n.Name)
		}
		for _, c := range n.Connections {
			f.connection(m, n, c, outSeen)
		}
	}
	return f
}

// runs records that the process of vertex k runs on node.
func (f serviceFacts) runs(k, node string) {
	if f.nodes[k] == nil {
		f.nodes[k] = map[string]bool{}
	}
	f.nodes[k][node] = true
}

// connection adds the arrows one connection record of n proves.
func (f serviceFacts) connection(m *Model, n *Node, c store.Connection, outSeen map[[3]string]bool) {
	if port, loop := isLoopback(c); loop {
		f.runs(vProcessPfx+c.Process, n.Name)
		f.ls.add(pair{vProcessPfx + c.Process, serverOf(n, port, "")}, port, c.LastSeen)
		return
	}
	switch {
	case c.Remote == n.Name:
	case c.Direction == store.Out:
		f.runs(vProcessPfx+c.Process, n.Name)
		server := vInternetOut
		if c.Remote != Internet {
			server = serverOf(m.Node(c.Remote), c.Port, "")
		}
		f.ls.add(pair{vProcessPfx + c.Process, server}, c.Port, c.LastSeen)
	case c.Direction == store.In:
		if outSeen[[3]string{c.Remote, n.Name, c.Port}] {
			return // the client's own record tells its process
		}
		server := serverOf(n, c.Port, c.Process)
		for _, client := range clientsOf(m, c.Remote) {
			f.ls.add(pair{client, server}, c.Port, c.LastSeen)
		}
	}
}

// serverOf is the vertex of the process serving port on n: its service's
// process, else fallback, else an unknown server on that port.
func serverOf(n *Node, port, fallback string) string {
	if n != nil {
		for _, sv := range n.Services {
			if strconv.Itoa(sv.Port) == port {
				return vProcessPfx + sv.Process
			}
		}
	}
	if fallback != "" {
		return vProcessPfx + fallback
	}
	return vUnknownPfx + port
}

// clientsOf are the vertices a client known only from the server's record
// stands for: the processes of the remote node's services (or an unknown
// process there), the Internet, or other hosts.
func clientsOf(m *Model, remote string) []string {
	rn := m.Node(remote)
	switch {
	case remote == Internet:
		return []string{vInternetIn}
	case rn == nil:
		return []string{vOtherIn}
	}
	var out []string
	for _, sv := range rn.Services {
		out = append(out, vProcessPfx+sv.Process)
	}
	slices.Sort(out)
	if out = slices.Compact(out); len(out) == 0 {
		out = []string{vProcessPfx}
	}
	return out
}

// vertexShape draws one vertex of the service graph.
func vertexShape(m *Model, id, key string, nodes int) dotNode {
	switch {
	case key == vInternetIn:
		return dotNode{id, []kv{{"label", "Internet (clients)"}, {"shape", "ellipse"}}}
	case key == vInternetOut:
		return dotNode{id, []kv{{"label", Internet}, {"shape", "ellipse"}}}
	case key == vOtherIn:
		return dotNode{id, []kv{{"label", "other hosts (clients)"}}}
	case strings.HasPrefix(key, vUnknownPfx):
		return dotNode{id, []kv{{"label", label("? :"+cut(strings.TrimPrefix(key, vUnknownPfx), 12), "not a known service")},
			{"color", "#9e9e9e"}, {"fontcolor", "#616161"}}}
	}
	name := strings.TrimPrefix(key, vProcessPfx)
	worst, old := "", false
	if i, ok := slices.BinarySearchFunc(m.Processes, name, func(p *Process, s string) int { return strings.Compare(p.Name, s) }); ok {
		p := m.Processes[i]
		worst = p.Worst
		old = !slices.ContainsFunc(p.Services, func(sv store.Service) bool { return !m.Old(sv.LastSeen, "Services") })
	}
	count := fmt.Sprintf(" (%d nodes)", nodes)
	if nodes == 1 {
		count = " (1 node)"
	}
	a := []kv{{"label", label(cut(processName(name), maxLabel-12)+count, worst)}}
	return dotNode{id, append(a, stateAttrs(worst, old)...)}
}
