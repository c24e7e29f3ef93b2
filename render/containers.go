package render

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/store"
)

// A node's containers (store/container.go) are drawn inside its frame on
// the node page: each container is a frame of its own holding its
// services and client processes, named after the container. Services
// and processes are told apart by container as well as by port and name,
// so two containers serving :80 are two boxes. A published port of the
// node is joined to the container service it leads to by a dashed arrow
// labelled with what forwards it (docker-proxy, DNAT); connections
// between containers are drawn inside the node like loopback ones.

// inCtr keys a port or process of a container of the node; the node's
// own namespace keeps the plain port or name. A NUL in s (hostile data;
// the labels show it as a space anyway) becomes a space, so the first
// NUL of a key always starts its container.
func inCtr(s, container string) string {
	s = strings.ReplaceAll(s, "\x00", " ")
	if container == "" {
		return s
	}
	return s + "\x00" + container
}

// place puts a box of the node's graph into its container's frame, or
// the node's own when container is "".
func (v *nodeView) place(container string, n dotNode) {
	if container == "" {
		v.cluster.nodes = append(v.cluster.nodes, n)
		return
	}
	i := slices.IndexFunc(v.cluster.sub, func(c dotCluster) bool { return c.name == container })
	if i < 0 {
		v.cluster.sub = append(v.cluster.sub, dotCluster{name: container,
			attrs: []kv{{"label", label("container " + container)}, {"style", "rounded,dashed"}, {"color", "#607d8b"}, {"fontcolor", "#455a64"}}})
		i = len(v.cluster.sub) - 1
	}
	v.cluster.sub[i].nodes = append(v.cluster.sub[i].nodes, n)
}

// empty tells whether the node's frame has no box, its containers'
// frames included.
func (c dotCluster) empty() bool {
	return len(c.nodes) == 0 && len(c.sub) == 0
}

// forwards draws the arrows from the node's published ports to the
// services behind them.
func (v *nodeView) forwards(n *analyze.Node) {
	for _, sv := range n.Services {
		if sv.Forward == "" || sv.Container != "" {
			continue
		}
		ctr, port, ok := strings.Cut(sv.Forward, ":")
		from, to := v.svc[strconv.Itoa(sv.Port)], v.svc[inCtr(port, ctr)]
		if !ok || from == "" || to == "" {
			continue
		}
		via := sv.ForwardVia
		if via == "dnat" {
			via = "DNAT"
		}
		v.d.edges = append(v.d.edges, dotEdge{from, to, []kv{{"label", clean(via)}, {"style", "dashed"}, {"color", "#607d8b"}}})
	}
}

// loopPort is the key of the service a loopback-like connection reaches.
func loopPort(c store.Connection, port string) string {
	if c.LocalService == "" {
		return inCtr(port, c.Container)
	}
	return inCtr(port, c.RemoteContainer)
}
