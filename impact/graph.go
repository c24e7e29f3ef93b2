// Package impact is the dependency graph of a fleet: who uses a service,
// and so whom its failure reaches. It is computed from the store's
// services and connections alone.
package impact

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// Dependent is a node that an alert reaches: a process of it uses the
// failing service (Depth 1), or a service that such a process serves
// (Depth 2), and so on.
type Dependent struct {
	Node  string
	Depth int
	// Via is the node it reaches the failing service through (the failing
	// node itself at depth 1).
	Via string
	// Ports are the ports of Via that it uses.
	Ports []string
	// Process is the client process of Node that uses Via ("" when only
	// the server's record of the connection is known).
	Process string
	// Hops are the services from the one Node uses to the failing one.
	Hops []Hop
}

// Hop is one service on an impact path.
type Hop struct{ Node, Process, Port string }

func (h Hop) String() string {
	if h.Process == "" {
		return h.Node + ":" + h.Port
	}
	return h.Node + " " + h.Process + ":" + h.Port
}

// Path tells how the alert reaches the node: "app03 java → db01
// mysqld:3306" at depth 1, "web03 via app03 java:8080 → db01 mysqld:3306"
// further away.
func (d Dependent) Path() string {
	hops := make([]string, len(d.Hops))
	for i, h := range d.Hops {
		hops[i] = h.String()
	}
	if len(d.Hops) > 1 {
		return d.Node + " via " + strings.Join(hops, " → ")
	}
	return strings.TrimSpace(d.Node+" "+d.Process) + " → " + strings.Join(hops, " → ")
}

// service is one listening port of one node.
type service struct{ node, port string }

// client is one process of one node ("" when not known).
type client struct{ node, process string }

// Graph is which process uses which service, built once from the stored
// connections and services.
type Graph struct {
	clients map[service][]client // who uses a service
	serves  map[client][]string  // the ports a process listens on
	process map[service]string   // the process behind a service
	ports   map[string][]string  // the used ports of each node
}

// NewGraph builds the dependency graph from connections as both ends
// stored them: an outgoing record names the client process; an incoming
// record on the server proves the edge when the client's record is
// missing (a node that could not be fetched is still seen through its
// peers), with the client process unknown. A loopback connection makes a
// process depend on another process of the same node.
func New(conns []store.Connection, services []store.Service) *Graph {
	g := &Graph{clients: map[service][]client{}, serves: map[client][]string{},
		process: map[service]string{}, ports: map[string][]string{}}
	for _, sv := range services {
		p := strconv.Itoa(sv.Port)
		g.process[service{sv.Node, p}] = sv.Process
		c := client{sv.Node, sv.Process}
		if !slices.Contains(g.serves[c], p) {
			g.serves[c] = append(g.serves[c], p)
		}
	}
	seen := map[service]map[client]bool{}
	known := map[[3]string]bool{} // client node, server node, port with a named client
	add := func(s service, c client) {
		if seen[s] == nil {
			seen[s] = map[client]bool{}
		}
		if seen[s][c] {
			return
		}
		seen[s][c] = true
		g.clients[s] = append(g.clients[s], c)
		if !slices.Contains(g.ports[s.node], s.port) {
			g.ports[s.node] = append(g.ports[s.node], s.port)
		}
	}
	for _, c := range conns {
		switch {
		case c.Direction != store.Out || c.Port == "high":
		case c.LocalService != "":
			add(service{c.Node, c.LocalService}, client{c.Node, c.Process})
		case c.Remote != c.Node:
			add(service{c.Remote, c.Port}, client{c.Node, c.Process})
			known[[3]string{c.Node, c.Remote, c.Port}] = true
		}
	}
	for _, c := range conns {
		if c.Direction != store.In || c.Remote == c.Node || known[[3]string{c.Remote, c.Node, c.LocalPort}] {
			continue
		}
		add(service{c.Node, c.LocalPort}, client{c.Remote, ""})
		if s := (service{c.Node, c.LocalPort}); g.process[s] == "" {
			g.process[s] = c.Process
		}
	}
	for _, cs := range g.clients {
		slices.SortFunc(cs, func(a, b client) int {
			return cmp.Or(strings.Compare(a.node, b.node), strings.Compare(a.process, b.process))
		})
	}
	for _, ps := range g.ports {
		slices.SortFunc(ps, store.ComparePorts)
	}
	return g
}

// Impact lists what depends on the service on node:port, transitively and
// process by process: the client processes that use it, then the services
// those processes serve, and their clients, nearest first. A node that
// uses one service of a host (a monitoring server scraping an exporter)
// is not hit by the host's other services. Clients that are not nodes (an
// internal IP, the Internet) and clients whose process is unknown are
// listed but not followed. port "" means every service of the node (a
// node that is down).
func (g *Graph) Impact(node, port string) []Dependent {
	type hit struct {
		svc   service
		depth int
		hops  []Hop // from this service to the failing one
	}
	var queue []hit
	visited := map[service]bool{}
	start := []string{port}
	if port == "" {
		start = g.ports[node]
	}
	for _, p := range start {
		s := service{node, p}
		visited[s] = true
		queue = append(queue, hit{s, 0, []Hop{{node, g.process[s], p}}})
	}
	best := map[string]*Dependent{node: nil}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		for _, c := range g.clients[h.svc] {
			d, ok := best[c.node]
			switch {
			case !ok:
				best[c.node] = &Dependent{Node: c.node, Depth: h.depth + 1, Via: h.svc.node,
					Ports: []string{h.svc.port}, Process: c.process, Hops: h.hops}
			case d != nil && d.Depth == h.depth+1 && d.Via == h.svc.node && !slices.Contains(d.Ports, h.svc.port):
				d.Ports = append(d.Ports, h.svc.port)
			}
			if !isNode(c.node) || c.process == "" {
				continue
			}
			for _, p := range g.serves[c] {
				s := service{c.node, p}
				if visited[s] {
					continue
				}
				visited[s] = true
				hops := append([]Hop{{c.node, c.process, p}}, h.hops...)
				queue = append(queue, hit{s, h.depth + 1, hops})
			}
		}
	}
	var out []Dependent
	for _, d := range best {
		if d != nil {
			slices.SortFunc(d.Ports, store.ComparePorts)
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
	if remote == domain.Internet {
		return false
	}
	_, err := netip.ParseAddr(remote)
	return err != nil
}
