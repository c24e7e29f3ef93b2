package render

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/store"
)

// Internet is the remote of connections to addresses outside the internal
// networks (as collect stores them).
const Internet = "Internet"

// Dependent is a node that an alert reaches: it connects to the failing
// service (Depth 1), or to a node that does (Depth 2), and so on.
type Dependent struct {
	Node  string
	Depth int
	// Via is the node it reaches the failing service through (the failing
	// node itself at depth 1).
	Via string
	// Ports are the ports of Via that it uses.
	Ports []string
}

// edge is one "client uses server:port" fact.
type edge struct{ client, server, port string }

// Graph is who uses whom, built once from the stored connections.
type Graph struct {
	// clients maps a server node to the edges into it.
	clients map[string][]edge
}

// NewGraph builds the dependency graph from connections as both ends
// stored them: an incoming record on the server and an outgoing one on
// the client each prove the edge, so a node that could not be fetched is
// still seen through its peers. Loopback connections (a node using itself)
// are not dependencies between nodes.
func NewGraph(conns []store.Connection) *Graph {
	g := &Graph{clients: map[string][]edge{}}
	seen := map[edge]bool{}
	add := func(e edge) {
		if e.client == e.server || seen[e] {
			return
		}
		seen[e] = true
		g.clients[e.server] = append(g.clients[e.server], e)
	}
	for _, c := range conns {
		switch c.Direction {
		case store.In:
			add(edge{client: c.Remote, server: c.Node, port: c.LocalPort})
		case store.Out:
			if c.LocalService == "" {
				add(edge{client: c.Node, server: c.Remote, port: c.Port})
			}
		}
	}
	return g
}

// Impact lists what depends on the service on node:port, transitively:
// the nodes whose clients are hit when it fails, nearest first. Clients
// that are not nodes (an internal IP, the Internet) are listed but not
// followed. port "" means any service of the node (a node that is down).
func (g *Graph) Impact(node, port string) []Dependent {
	type hop struct {
		node  string
		depth int
	}
	best := map[string]*Dependent{node: nil}
	queue := []hop{{node, 0}}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		for _, e := range g.clients[h.node] {
			if h.depth == 0 && port != "" && e.port != port {
				continue
			}
			if d, ok := best[e.client]; ok {
				if d != nil && d.Depth == h.depth+1 && d.Via == h.node && !slices.Contains(d.Ports, e.port) {
					d.Ports = append(d.Ports, e.port)
				}
				continue
			}
			best[e.client] = &Dependent{Node: e.client, Depth: h.depth + 1, Via: h.node, Ports: []string{e.port}}
			if isNode(e.client) {
				queue = append(queue, hop{e.client, h.depth + 1})
			}
		}
	}
	var out []Dependent
	for _, d := range best {
		if d != nil {
			slices.SortFunc(d.Ports, comparePorts)
			out = append(out, *d)
		}
	}
	slices.SortFunc(out, func(a, b Dependent) int {
		return cmp.Or(cmp.Compare(a.Depth, b.Depth), strings.Compare(a.Node, b.Node))
	})
	return out
}

// isNode tells node names from remotes that are not nodes.
func isNode(remote string) bool {
	if remote == Internet {
		return false
	}
	_, err := netip.ParseAddr(remote)
	return err != nil
}

func comparePorts(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}
