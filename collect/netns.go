package collect

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/store"
)

// A node's containers (its network namespaces other than its own) are
// aggregated one by one, each as if it were a host of its own with the
// namespace's addresses, and their records stored as the node's with the
// container named (store/container.go). Three things join them:
//
//   - A connection between two namespaces of the node (a container
//     calling another, docker-proxy passing a client on) shows at both
//     ends; like a loopback connection it is one record at the client
//     end: out, remote the node, local_service the port reached and
//     remote_container the namespace reached. The server end is left
//     out, and the service it reached counts as used.
//   - A published port (Host.Forwards): docker-proxy's listener on the
//     host, or for a DNAT rule a service the node's namespace gets for the
//     port, with forward naming the container service behind it; a DNAT'd
//     port counts as used when the service behind it is.
//   - UDP listeners are services marked protocol udp (tcp,udp when TCP
//     listens on the port too), unless the udp_services setting is off.

// priorKey is the key of a namespace's stored records in the priors of a
// run: the node's name for its own namespace.
func priorKey(node, container string) string {
	if container == "" {
		return node
	}
	return node + "\x00" + container
}

// nsPort is a port of one namespace of a node.
type nsPort struct {
	ns   string
	port uint16
}

// nodeView is what aggregation knows of one node's namespaces.
type nodeView struct {
	addrNs   map[netip.Addr]string // each namespace's addresses
	listener map[nsPort]netinfo.Socket
	byNs     map[string][]netinfo.Socket
}

// aggregateNode aggregates a node's namespace and each of its containers,
// including the containers stored before that are gone now (so their
// records age and expire), and joins them.
func (f *fleet) aggregateNode(node string, h *netinfo.Host, now int64, priors map[string]prior) store.NodeData {
	v := f.view(h)
	cross := map[dirKey]*store.Connection{}
	used := map[nsPort]bool{} // services reached from another namespace
	names := []string{""}
	for _, ns := range h.Netns {
		names = append(names, ns.Name)
	}
	var gone []string
	for key := range priors {
		if n, c, ok := strings.Cut(key, "\x00"); ok && n == node && !slices.Contains(names, c) {
			gone = append(gone, c)
		}
	}
	slices.Sort(gone)
	names = append(names, gone...)
	var d store.NodeData
	for _, ns := range names {
		sub := &netinfo.Host{Hostname: h.Hostname}
		if ns == "" {
			sub.Interfaces = h.Interfaces
		} else if i := slices.IndexFunc(h.Netns, func(n netinfo.NetnsInfo) bool { return n.Name == ns }); i >= 0 {
			sub.Interfaces = []netinfo.Interface{{Name: ns, Addrs: hostPrefixes(h.Netns[i].Addrs)}}
		}
		sub.Sockets = f.ownSockets(node, ns, v, cross, used, now)
		if ns == "" {
			sub.Sockets = append(sub.Sockets, dnatListeners(h, v)...)
		}
		nd := f.aggregate(node, sub, now, priorOf(priors, priorKey(node, ns)))
		markProtocols(nd.Services, sub.Sockets)
		if ns == "" {
			d.Node, d.Resolver = nd.Node, nd.Resolver
		}
		tagContainer(&nd, ns)
		d.Services = append(d.Services, nd.Services...)
		d.Connections = append(d.Connections, nd.Connections...)
		d.DropServices = append(d.DropServices, nd.DropServices...)
		d.DropContainerServices = append(d.DropContainerServices, nd.DropContainerServices...)
		d.DropConnections = append(d.DropConnections, nd.DropConnections...)
	}
	f.addCross(&d, node, cross, priors, now)
	for i, sv := range d.Services {
		if used[nsPort{sv.Container, uint16(sv.Port)}] {
			d.Services[i].LastConnection = store.Newest(sv.LastConnection, now, f.clock)
		}
	}
	f.addForwards(&d, h, v)
	return d
}

// view indexes a node's sockets by namespace. The UDP listeners are left
// out when the udp_services setting is off.
func (f *fleet) view(h *netinfo.Host) nodeView {
	v := nodeView{addrNs: map[netip.Addr]string{}, listener: map[nsPort]netinfo.Socket{}, byNs: map[string][]netinfo.Socket{}}
	for _, ip := range hostIPs(h) {
		v.addrNs[ip] = ""
	}
	for _, ns := range h.Netns {
		for _, ip := range ns.Addrs {
			v.addrNs[ip.Unmap()] = ns.Name
		}
	}
	for _, s := range h.Sockets {
		if s.UDP && !f.conf.UDPServices {
			continue
		}
		v.byNs[s.Netns] = append(v.byNs[s.Netns], s)
		k := nsPort{s.Netns, s.Local.Port()}
		if _, have := v.listener[k]; s.State == netinfo.StateListen && (!have || !s.UDP) {
			v.listener[k] = s
		}
	}
	return v
}

// ownSockets are the sockets of namespace ns that it aggregates itself:
// all but those of connections to another namespace of the node, which
// become records in cross (at their client end) or are left out (their
// server end).
func (f *fleet) ownSockets(node, ns string, v nodeView, cross map[dirKey]*store.Connection, used map[nsPort]bool, now int64) []netinfo.Socket {
	var out []netinfo.Socket
	for _, s := range v.byNs[ns] {
		peer, sibling := v.addrNs[s.Remote.Addr().Unmap()]
		if s.State != netinfo.StateEstablished || !sibling || peer == ns {
			out = append(out, s)
			continue
		}
		lp, rp := s.Local.Port(), s.Remote.Port()
		_, serves := v.listener[nsPort{peer, rp}]
		switch {
		case f.ignored(s):
		case serves:
			c := store.Connection{Direction: store.Out, Port: f.portName(rp), Remote: node,
				RemoteHost: node, RemotePort: f.portName(rp), LocalPort: f.portName(lp),
				LocalService: strconv.Itoa(int(rp)), Container: ns, RemoteContainer: peer,
				Process: cmp.Or(s.Program, hiddenOwner), Title: s.Title, LastSeen: now, LastConnection: now}
			k := dirKey{port: c.Port + containerSuffix(ns), remote: node + containerSuffix(peer), dir: store.Out}
			if have := cross[k]; have != nil {
				have.Connections++
				continue
			}
			c.Connections = 1
			cross[k] = &c
		case v.listener[nsPort{ns, lp}].State == netinfo.StateListen:
			// The server end: counted at the client end (which a DNAT'd
			// connection from the node itself shows as its own).
			used[nsPort{ns, lp}] = true
		default:
			out = append(out, s)
		}
	}
	return out
}

// containerSuffix marks a container in the keys of aggregation's maps.
func containerSuffix(ns string) string { return "\x00" + ns }

// addCross adds the connections between namespaces, with their history,
// and marks the services they reach as used.
func (f *fleet) addCross(d *store.NodeData, node string, cross map[dirKey]*store.Connection, priors map[string]prior, now int64) {
	for _, c := range cross {
		if old, had := priors[priorKey(node, c.Container)].connections[c.ID()]; had {
			c.FirstSeen = old.FirstSeen
			c.LastSeen = store.Newest(old.LastSeen, now, f.clock)
			c.LastConnection = store.Newest(old.LastConnection, now, f.clock)
		}
		c.FirstSeen = cmp.Or(c.FirstSeen, now)
		if i := slices.IndexFunc(d.Connections, func(o store.Connection) bool { return o.ID() == c.ID() }); i >= 0 {
			d.Connections[i].Connections += c.Connections // a loopback twin under the same key
		} else {
			d.Connections = append(d.Connections, *c)
		}
		for i, sv := range d.Services {
			if sv.Container == c.RemoteContainer && strconv.Itoa(sv.Port) == c.LocalService {
				d.Services[i].LastConnection = store.Newest(sv.LastConnection, now, f.clock)
			}
		}
	}
	slices.SortFunc(d.Connections, func(a, b store.Connection) int {
		return cmp.Or(strings.Compare(a.Container, b.Container), strings.Compare(a.Port, b.Port),
			strings.Compare(a.Remote, b.Remote), strings.Compare(a.Direction, b.Direction))
	})
}

// dnatListeners are the node's services for ports a DNAT rule publishes
// where nothing of the node's namespace listens: a client sees a service
// there, served by the process behind it.
func dnatListeners(h *netinfo.Host, v nodeView) []netinfo.Socket {
	var out []netinfo.Socket
	for _, fw := range h.Forwards {
		if _, listens := v.listener[nsPort{"", fw.Listen.Port()}]; listens {
			continue
		}
		target, ok := forwardTarget(fw, v)
		if !ok {
			continue
		}
		out = append(out, netinfo.Socket{Local: fw.Listen, State: netinfo.StateListen, UDP: fw.UDP,
			PID: target.PID, Program: target.Program, Title: target.Title})
	}
	return out
}

// forwardTarget is the listener a forward leads to.
func forwardTarget(fw netinfo.Forward, v nodeView) (netinfo.Socket, bool) {
	ns, ok := v.addrNs[fw.Target.Addr()]
	if !ok {
		return netinfo.Socket{}, false
	}
	s, ok := v.listener[nsPort{ns, fw.Target.Port()}]
	return s, ok
}

// addForwards names, on the node's services for published ports, the
// service each leads to; a DNAT'd port is used when its target is.
func (f *fleet) addForwards(d *store.NodeData, h *netinfo.Host, v nodeView) {
	for _, fw := range h.Forwards {
		target, ok := forwardTarget(fw, v)
		if !ok {
			continue
		}
		i := slices.IndexFunc(d.Services, func(sv store.Service) bool {
			return sv.Container == "" && sv.Port == int(fw.Listen.Port())
		})
		j := slices.IndexFunc(d.Services, func(sv store.Service) bool {
			return sv.Container == target.Netns && sv.Port == int(target.Local.Port())
		})
		if i < 0 || j < 0 {
			continue
		}
		d.Services[i].Forward = target.Netns + ":" + strconv.Itoa(int(target.Local.Port()))
		d.Services[i].ForwardVia = fw.Via
		if fw.Via == netinfo.ViaDNAT {
			d.Services[i].LastConnection = max(d.Services[i].LastConnection, d.Services[j].LastConnection)
		}
	}
}

// markProtocols sets Protocol on services with UDP listeners.
func markProtocols(svcs []store.Service, sockets []netinfo.Socket) {
	tcp, udp := map[int]bool{}, map[int]bool{}
	for _, s := range sockets {
		if s.State == netinfo.StateListen {
			if s.UDP {
				udp[int(s.Local.Port())] = true
			} else {
				tcp[int(s.Local.Port())] = true
			}
		}
	}
	for i, sv := range svcs {
		switch {
		case udp[sv.Port] && tcp[sv.Port]:
			svcs[i].Protocol = "tcp,udp"
		case udp[sv.Port]:
			svcs[i].Protocol = "udp"
		}
	}
}

// tagContainer puts the records of namespace ns under its name.
func tagContainer(d *store.NodeData, ns string) {
	if ns == "" {
		return
	}
	for i := range d.Services {
		d.Services[i].Container = ns
	}
	for i := range d.Connections {
		d.Connections[i].Container = ns
		if d.Connections[i].LocalService != "" {
			d.Connections[i].RemoteContainer = ns // a loopback connection inside the container
		}
	}
	for i := range d.DropConnections {
		d.DropConnections[i].Container = ns
	}
	for _, p := range d.DropServices {
		d.DropContainerServices = append(d.DropContainerServices, store.ServiceID{Port: p, Container: ns})
	}
	d.DropServices = nil
}

// hostPrefixes turns addresses into host prefixes (/32, /128).
func hostPrefixes(addrs []netip.Addr) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// applyNode makes the priors what the store holds after d was written.
func applyNode(priors map[string]prior, d store.NodeData) {
	node := d.Node.Name
	for _, port := range d.DropServices {
		delete(priorOf(priors, node).services, port)
	}
	for _, id := range d.DropContainerServices {
		delete(priorOf(priors, priorKey(node, id.Container)).services, id.Port)
	}
	for _, id := range d.DropConnections {
		delete(priorOf(priors, priorKey(node, id.Container)).connections, id)
	}
	for _, sv := range d.Services {
		sv.Node = node
		priorOf(priors, priorKey(node, sv.Container)).services[sv.Port] = sv
	}
	for _, c := range d.Connections {
		c.Node = node
		priorOf(priors, priorKey(node, c.Container)).connections[c.ID()] = c
	}
}

// learnNetns adds what fleet-wide resolution needs of a host's
// namespaces: their addresses belong to the node, and published ports
// are service ports.
func (f *fleet) learnNetns(node string, h *netinfo.Host) {
	for _, ns := range h.Netns {
		for _, ip := range ns.Addrs {
			f.addOwner(ip.Unmap(), node)
		}
	}
	for _, fw := range h.Forwards {
		if f.isServicePort(fw.Listen.Port(), "") {
			f.servicePorts[fw.Listen.Port()] = true
		}
	}
}
