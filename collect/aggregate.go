package collect

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// high is the port of an ephemeral client-side socket.
const high = "high"

// fleet is what aggregation knows about the whole fleet in one run, so the
// result does not depend on the order in which nodes were fetched.
type fleet struct {
	conf *domain.Conf
	// owners maps an IP to the nodes that have it. An IP with several
	// owners (docker0's 172.17.0.1, a VIP that moved) resolves to no node.
	owners map[netip.Addr][]string
	// servicePorts are the ports some node listens on (this run's fetches
	// and stored services): such a port is never "high".
	servicePorts map[uint16]bool
	// agentPort is skipped: dotm's own fetches are not architecture.
	agentPort uint16
	// ignoredNames are service_name_whitelist's names made canonical
	// (netinfo.CanonicalProcess), as the sockets' programs are: an entry
	// written as netstat printed it ("redis-server *", "/usr/sbin/rpc.mountd")
	// hides that program too.
	ignoredNames map[string]bool
	// clock is the system clock of the run: stored times up to it that
	// are newer than the run's stay (store.Newest). retain is the time
	// expire measures age against (store.RetentionTime); 0 means the
	// run's time.
	clock, retain int64
}

// newFleet learns IP owners and service ports from this run's hosts (by
// node name) and what the store knew of the nodes not fetched this run.
func newFleet(conf *domain.Conf, hosts map[string]*netinfo.Host, stored map[string]string, storedPorts []int) *fleet {
	f := &fleet{conf: conf, owners: map[netip.Addr][]string{}, servicePorts: map[uint16]bool{},
		agentPort: uint16(conf.AgentPort), ignoredNames: map[string]bool{}}
	for n := range conf.IgnoredNames {
		name, _ := netinfo.CanonicalProcess(n)
		f.ignoredNames[name] = true
	}
	for name, h := range hosts {
		for _, ip := range hostIPs(h) {
			f.addOwner(ip, name)
		}
		for _, s := range h.Sockets {
			if s.State == netinfo.StateListen && f.isServicePort(s.Local.Port(), s.Program) {
				f.servicePorts[s.Local.Port()] = true
			}
		}
		f.learnNetns(name, h)
	}
	for ipStr, node := range stored {
		ip, err := netip.ParseAddr(ipStr)
		if _, fetched := hosts[node]; err == nil && !fetched {
			f.addOwner(ip.Unmap(), node)
		}
	}
	for _, p := range storedPorts {
		f.servicePorts[uint16(p)] = true
	}
	return f
}

func (f *fleet) addOwner(ip netip.Addr, node string) {
	if !slices.Contains(f.owners[ip], node) {
		f.owners[ip] = append(f.owners[ip], node)
	}
}

// hostIPs are the addresses that identify a host: loopback and link-local
// ones are on every host and identify none.
func hostIPs(h *netinfo.Host) []netip.Addr {
	var out []netip.Addr
	for _, ip := range h.IPs() {
		ip = ip.Unmap()
		if !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !ip.IsUnspecified() {
			out = append(out, ip)
		}
	}
	return out
}

// resolverEntries is the IP → node map to store: IPs with one owner, and
// the IPs now ambiguous mapped to "" so they are deleted.
func (f *fleet) resolverEntries() map[string]string {
	out := make(map[string]string, len(f.owners))
	for ip, nodes := range f.owners {
		if len(nodes) == 1 {
			out[ip.String()] = nodes[0]
		} else {
			out[ip.String()] = ""
		}
	}
	return out
}

// isServicePort reports whether a listening socket is a service: its port
// and process are not on the ignore lists, and it is not dotm's agent.
func (f *fleet) isServicePort(port uint16, program string) bool {
	return port != 0 && port != f.agentPort && !f.conf.IgnoredPorts[int(port)] && !f.ignoredNames[program]
}

// ignored reports whether an established socket is left out: it touches an
// ignored port or the agent on either side (an ssh session into :22 is not
// an outgoing connection to a high port).
func (f *fleet) ignored(s netinfo.Socket) bool {
	for _, p := range []uint16{s.Local.Port(), s.Remote.Port()} {
		if p == f.agentPort || f.conf.IgnoredPorts[int(p)] {
			return true
		}
	}
	return f.ignoredNames[s.Program]
}

// portName is a port as stored: the number, or "high" for an ephemeral
// client port (above 1023 and no node's service port).
func (f *fleet) portName(p uint16) string {
	if p > 1023 && !f.servicePorts[p] {
		return high
	}
	return strconv.Itoa(int(p))
}

// remote names the other end of a connection: the node that owns the IP,
// the IP itself when internal but unknown or ambiguous, or Internet.
func (f *fleet) remote(ip netip.Addr) string {
	ip = ip.Unmap()
	if nodes := f.owners[ip]; len(nodes) == 1 {
		return nodes[0]
	}
	if f.conf.IsInternal(ip) {
		return ip.String()
	}
	return domain.Internet
}

// prior is what the store held about a node before this run.
type prior struct {
	services    map[int]store.Service
	connections map[store.ConnectionID]store.Connection
}

// aggregate turns one node's sockets into its services and connections,
// keeping first_seen and last_connection from before.
func (f *fleet) aggregate(node string, h *netinfo.Host, now int64, old prior) store.NodeData {
	own := map[netip.Addr]bool{}
	for _, ip := range h.IPs() {
		own[ip.Unmap()] = true
	}
	self := func(ip netip.Addr) bool { ip = ip.Unmap(); return ip.IsLoopback() || own[ip] }

	services := map[int]store.Service{}
	for _, s := range h.Sockets {
		p := s.Local.Port()
		if s.State != netinfo.StateListen || !f.isServicePort(p, s.Program) {
			continue
		}
		sv, seen := services[int(p)]
		if !seen || sv.Process == "" {
			services[int(p)] = store.Service{Port: int(p), Process: s.Program, Title: s.Title, LastSeen: now}
		}
	}

	conns := map[dirKey]*store.Connection{}
	remoteIPs := map[dirKey]map[netip.Addr]bool{} // of Internet remotes
	for _, s := range h.Sockets {
		if s.State != netinfo.StateEstablished || f.ignored(s) {
			continue
		}
		lp, rp := s.Local.Port(), s.Remote.Port()
		_, localService := services[int(lp)]
		_, remoteService := services[int(rp)]
		c := store.Connection{Process: s.Program, Title: s.Title, LastSeen: now, LastConnection: now}
		switch {
		case self(s.Remote.Addr()) && localService && !remoteService:
			continue // the server end of a loopback connection: counted at its client end
		case self(s.Remote.Addr()):
			c.Direction, c.Port, c.Remote = store.Out, f.portName(rp), node
			c.RemoteHost, c.RemotePort, c.LocalPort = node, f.portName(rp), f.portName(lp)
			if remoteService {
				c.LocalService = strconv.Itoa(int(rp))
			}
		case localService:
			c.Direction, c.Port, c.Remote = store.In, strconv.Itoa(int(lp)), f.remote(s.Remote.Addr())
			c.RemoteHost, c.RemotePort, c.LocalPort = c.Remote, f.portName(rp), strconv.Itoa(int(lp))
		default:
			c.Direction, c.Port, c.Remote = store.Out, f.portName(rp), f.remote(s.Remote.Addr())
			c.RemoteHost, c.RemotePort, c.LocalPort = c.Remote, f.portName(rp), f.portName(lp)
		}
		id := dirKeyOf(c)
		if c.Remote == domain.Internet {
			if remoteIPs[id] == nil {
				remoteIPs[id] = map[netip.Addr]bool{}
			}
			remoteIPs[id][s.Remote.Addr().Unmap()] = true
		}
		if have := conns[id]; have != nil {
			have.Connections++
			if have.Process == "" {
				have.Process, have.Title = c.Process, c.Title
			}
			continue
		}
		c.Connections = 1
		conns[id] = &c
	}
	for id, ips := range remoteIPs {
		conns[id].RemoteIPs = ipList(ips)
	}
	for port, sv := range services {
		sv.Process = cmp.Or(sv.Process, hiddenOwner)
		services[port] = sv
	}
	for _, c := range conns {
		c.Process = cmp.Or(c.Process, hiddenOwner)
	}
	return f.merge(node, h, now, services, conns, old)
}

// merge carries history over from the stored data and drops stored keys
// the new run proves stale.
func (f *fleet) merge(node string, h *netinfo.Host, now int64, services map[int]store.Service,
	conns map[dirKey]*store.Connection, old prior) store.NodeData {
	d := store.NodeData{Node: store.Node{Name: node, LastFetch: now, FetchStatus: "OK"}}
	for _, ip := range h.IPs() {
		d.Node.IPs = append(d.Node.IPs, ip.Unmap().String())
	}

	// A connection stored under a remote IP that now resolves to a node is
	// the same connection under a better name: drop the old key and let
	// its twin inherit the earlier first_seen.
	first := map[dirKey]int64{}
	moved := map[dirKey]store.Connection{}
	stored := map[dirKey]store.Connection{} // the old records by direction
	for _, oc := range old.connections {
		stored[dirKeyOf(oc)] = oc
	}
	for id, oc := range old.connections {
		k := dirKeyOf(oc)
		if oc.FirstSeen != 0 {
			first[k] = earliest(first[k], oc.FirstSeen)
		}
		ip, err := netip.ParseAddr(id.Remote)
		if err != nil {
			continue
		}
		if better := f.remote(ip); better != id.Remote {
			d.DropConnections = append(d.DropConnections, id)
			twin := dirKey{port: k.port, remote: better, dir: k.dir}
			first[twin] = earliest(first[twin], oc.FirstSeen)
			if _, had := stored[twin]; conns[twin] == nil && !had {
				// Not seen now: keep its history under the new name.
				oc.Remote, oc.RemoteHost = better, better
				if better == domain.Internet {
					oc.RemoteIPs = ip.Unmap().String()
				}
				oc.FirstSeen = first[twin]
				moved[twin] = oc
			}
		}
	}
	for _, c := range moved {
		d.Connections = append(d.Connections, c)
	}

	incoming := map[int]bool{}
	for id, c := range conns {
		c.FirstSeen = cmp.Or(first[id], now)
		if oc, had := stored[id]; had {
			c.LastSeen = store.Newest(oc.LastSeen, now, f.clock)
			c.LastConnection = store.Newest(oc.LastConnection, now, f.clock)
		}
		if c.Direction == store.In {
			incoming[atoi(c.LocalPort)] = true
		}
		if c.LocalService != "" {
			incoming[atoi(c.LocalService)] = true
		}
		d.Connections = append(d.Connections, *c)
	}
	for port, sv := range services {
		prev, had := old.services[port]
		sv.FirstSeen, sv.LastConnection = now, 0
		if had {
			sv.FirstSeen, sv.LastConnection = cmp.Or(prev.FirstSeen, now), prev.LastConnection
			sv.AlertStatus = prev.AlertStatus
			sv.LastSeen = store.Newest(prev.LastSeen, now, f.clock)
		}
		if incoming[port] {
			sv.LastConnection = store.Newest(sv.LastConnection, now, f.clock)
		}
		sv.Age = ageFresh
		d.Services = append(d.Services, sv)
	}
	f.expire(&d, cmp.Or(f.retain, now), services, conns, old)
	f.ageUnseen(&d, now, services, old)
	splitDirections(&d, old)
	slices.SortFunc(d.Services, func(a, b store.Service) int { return cmp.Compare(a.Port, b.Port) })
	slices.SortFunc(d.Connections, func(a, b store.Connection) int {
		return cmp.Or(strings.Compare(a.Port, b.Port), strings.Compare(a.Remote, b.Remote),
			strings.Compare(a.Direction, b.Direction))
	})
	slices.SortFunc(d.DropConnections, func(a, b store.ConnectionID) int {
		return cmp.Or(strings.Compare(a.Port, b.Port), strings.Compare(a.Remote, b.Remote),
			cmp.Compare(b2i(a.Split), b2i(b.Split)))
	})
	return d
}

// expire drops the stored services and connections that were not seen
// in this run and were last seen longer ago than the expire setting's
// days (0: never) before now, the run's retention time. Only a successful fetch expires anything, so a node that stops
// answering keeps its last picture.
func (f *fleet) expire(d *store.NodeData, now int64, services map[int]store.Service,
	conns map[dirKey]*store.Connection, old prior) {
	if days := f.conf.ExpireDays["Services"]; days > 0 {
		for port, sv := range old.services {
			if _, seen := services[port]; !seen && sv.LastSeen < now-int64(days)*86400 {
				d.DropServices = append(d.DropServices, port)
			}
		}
		slices.Sort(d.DropServices)
	}
	if days := f.conf.ExpireDays["Connections"]; days > 0 {
		for id, c := range old.connections {
			if conns[dirKeyOf(c)] == nil && c.LastSeen < now-int64(days)*86400 && !slices.Contains(d.DropConnections, id) {
				d.DropConnections = append(d.DropConnections, id)
			}
		}
	}
}

// Values of a service's age field.
const (
	ageFresh = "fresh"
	ageOld   = "old"
)

// ageUnseen marks the stored services this fetch did not see and that were
// last seen longer ago than the aging setting as old, rewriting their
// record; the services seen now are fresh.
func (f *fleet) ageUnseen(d *store.NodeData, now int64, services map[int]store.Service, old prior) {
	limit := now - int64(f.conf.AgingServices.Seconds())
	for port, sv := range old.services {
		if _, seen := services[port]; seen || sv.LastSeen >= limit || sv.Age == ageOld || slices.Contains(d.DropServices, port) {
			continue
		}
		sv.Age = ageOld
		d.Services = append(d.Services, sv)
	}
}

// hiddenOwner is the process of a socket whose owner the host did not show
// (netstat's "-"), as the original stored it.
const hiddenOwner = "-"

// ipList is a set of addresses as stored in remote_ips: sorted, at most
// store.MaxRemoteIPs (the lowest), comma-separated.
func ipList(set map[netip.Addr]bool) string {
	ips := slices.SortedFunc(maps.Keys(set), netip.Addr.Compare)
	out := make([]string, 0, min(len(ips), store.MaxRemoteIPs))
	for _, ip := range ips[:min(len(ips), store.MaxRemoteIPs)] {
		out = append(out, ip.String())
	}
	return strings.Join(out, ",")
}

// earliest is the earlier of two times, where 0 means unknown.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
