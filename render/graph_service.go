package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

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
func ServiceDOT(m *analyze.Model) []byte {
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
	lk := newLinker(m, "", nil)
	for i, k := range slices.Sorted(maps.Keys(keys)) {
		ids[k] = "v" + strconv.Itoa(i)
		shape := vertexShape(m, ids[k], k, len(f.nodes[k]))
		if name, ok := strings.CutPrefix(k, vProcessPfx); ok {
			shape.attrs = append(shape.attrs, linkAttrs(lk.processHref(name), vertexTip(k, len(f.nodes[k])))...)
		} else {
			shape.attrs = append(shape.attrs, kv{"tooltip", vertexTip(k, 0)})
		}
		d.nodes = append(d.nodes, shape)
	}
	d.edges = sortedEdges(m, f.ls, func(p pair) (string, string) { return ids[p.client], ids[p.server] },
		func(p pair, l *link) []kv {
			return []kv{{"tooltip", cut(vertexTip(p.client, 0)+" → "+vertexTip(p.server, 0)+" :"+portList(l.ports), maxTip)}}
		})
	return d.bytes()
}

// serviceFactsOf collects the process → process arrows of the fleet.
func serviceFactsOf(m *analyze.Model) serviceFacts {
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
func (f serviceFacts) connection(m *analyze.Model, n *analyze.Node, c store.Connection, outSeen map[[3]string]bool) {
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
		if c.Remote != domain.Internet {
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
func serverOf(n *analyze.Node, port, fallback string) string {
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
func clientsOf(m *analyze.Model, remote string) []string {
	rn := m.Node(remote)
	switch {
	case remote == domain.Internet:
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

// vertexTip says what a vertex is, with the number of nodes it runs on
// (if not 0).
func vertexTip(key string, nodes int) string {
	switch {
	case key == vInternetIn:
		return "clients on the Internet"
	case key == vInternetOut:
		return domain.Internet
	case key == vOtherIn:
		return "clients that are no node"
	case strings.HasPrefix(key, vUnknownPfx):
		return "an unknown service on port " + cut(strings.TrimPrefix(key, vUnknownPfx), 12)
	}
	tip := cut(processName(strings.TrimPrefix(key, vProcessPfx)), maxLabel)
	if nodes > 0 {
		tip += fmt.Sprintf(" · runs on %d node(s)", nodes)
	}
	return tip
}

// vertexShape draws one vertex of the service graph.
func vertexShape(m *analyze.Model, id, key string, nodes int) dotNode {
	switch {
	case key == vInternetIn:
		return dotNode{id, []kv{{"label", "Internet (clients)"}, {"shape", "ellipse"}}}
	case key == vInternetOut:
		return dotNode{id, []kv{{"label", domain.Internet}, {"shape", "ellipse"}}}
	case key == vOtherIn:
		return dotNode{id, []kv{{"label", "other hosts (clients)"}}}
	case strings.HasPrefix(key, vUnknownPfx):
		return dotNode{id, []kv{{"label", label("? :"+cut(strings.TrimPrefix(key, vUnknownPfx), 12), "not a known service")},
			{"color", "#9e9e9e"}, {"fontcolor", "#616161"}}}
	}
	name := strings.TrimPrefix(key, vProcessPfx)
	worst, old := "", false
	if i, ok := slices.BinarySearchFunc(m.Processes, name, func(p *analyze.Process, s string) int { return strings.Compare(p.Name, s) }); ok {
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
