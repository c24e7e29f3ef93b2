// Package simfleet simulates a realistic fleet for the demo, tests and
// benchmarks: tiers of hosts (load balancers → web → app → databases,
// caches and queues, plus monitoring and a bastion) whose services and
// connections are declared up front, each host answering the real DOTM
// agent protocol on its own loopback address (127.x.y.z:PORT).
//
// What the fleet declares (Services, Edges) is the truth a collect run must
// reproduce; Host.Report turns it into the socket table an agent would
// send.
package simfleet

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Service is a listening port of a host.
type Service struct {
	Port    uint16
	Process string
}

// Edge is an established client connection: Count sockets from From's
// Process to To's service on Port. A nil From or To is the Internet, at
// ExtIP.
type Edge struct {
	From, To *Host
	Port     uint16
	Process  string
	Count    int
	ExtIP    netip.Addr // the external address when To or From is the Internet
	id       int        // spreads client ports
}

// Host is one simulated host.
type Host struct {
	Name string
	Tier string
	// IP is the host's address as its interface list reports it.
	IP netip.Addr
	// Agent is where its agent answers (a loopback address).
	Agent    netip.AddrPort
	Services []Service
	// Out are the connections this host opens; In those it accepts (each
	// edge is in both lists, of its two hosts).
	Out, In []*Edge
	// Silent hosts accept connections and never answer; Garbage hosts
	// answer with something that is not the agent protocol.
	Silent, Garbage bool
	// Delay holds each answer back this long, like a slow host.
	Delay time.Duration
}

// Fleet is a simulated fleet.
type Fleet struct {
	Hosts []*Host
	// AgentPort is the port every host's agent listens on.
	AgentPort uint16
	edges     int
}

// tier is a kind of host and how it connects.
type tier struct {
	name     string
	share    float64 // of the fleet
	min      int
	services []Service
}

var tiers = []tier{
	{"lb", 0.02, 2, []Service{{80, "haproxy"}, {443, "haproxy"}}},
	{"web", 0.20, 2, []Service{{80, "nginx"}, {9100, "node_exporter"}}},
	{"app", 0.30, 2, []Service{{8080, "java"}, {9100, "node_exporter"}}},
	{"db", 0.10, 1, []Service{{3306, "mysqld"}, {9100, "node_exporter"}}},
	{"cache", 0.10, 1, []Service{{6379, "redis-server"}, {11211, "memcached"}, {9100, "node_exporter"}}},
	{"queue", 0.05, 1, []Service{{5672, "beam.smp"}, {15672, "beam.smp"}, {9100, "node_exporter"}}},
	{"mon", 0, 1, []Service{{9090, "prometheus"}, {3000, "grafana"}}},
	{"bastion", 0, 1, nil},
}

// Generate builds a fleet of about n hosts (at least one of every tier),
// the same for the same seed. Host i answers on 127.1.x.y:agentPort.
// Client ports are 32768-60767 (Linux's ephemeral range): choose an
// agentPort outside it, as real agents (4848) are.
func Generate(n int, seed uint64, agentPort uint16) *Fleet {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	f := &Fleet{AgentPort: agentPort}
	byTier := map[string][]*Host{}
	for _, t := range tiers {
		count := max(t.min, int(float64(n)*t.share))
		for i := range count {
			h := f.add(fmt.Sprintf("%s%02d", t.name, i+1), t)
			byTier[t.name] = append(byTier[t.name], h)
		}
	}
	pick := func(tier string) *Host { hs := byTier[tier]; return hs[r.IntN(len(hs))] }

	for _, lb := range byTier["lb"] {
		for i := range 3 { // visitors
			f.connect(nil, lb, 443, "", 1+r.IntN(20), extIP(r, i))
		}
		for _, w := range byTier["web"] {
			f.connect(lb, w, 80, "haproxy", 1+r.IntN(4), netip.Addr{})
		}
		// A backend on the Internet: the lb serves :443 to the Internet
		// and calls it on :443 too, two records of one port and remote.
		f.connect(lb, nil, 443, "haproxy", 2, netip.AddrFrom4([4]byte{203, 0, 113, 250}))
	}
	for _, w := range byTier["web"] {
		for range 2 {
			f.connect(w, pick("app"), 8080, "nginx", 1+r.IntN(8), netip.Addr{})
		}
	}
	for _, a := range byTier["app"] {
		f.connect(a, pick("db"), 3306, "java", 2+r.IntN(10), netip.Addr{})
		f.connect(a, pick("cache"), 6379, "java", 1+r.IntN(4), netip.Addr{})
		f.connect(a, pick("queue"), 5672, "java", 1, netip.Addr{})
		if r.IntN(4) == 0 { // some apps call out to a payment API
			f.connect(a, nil, 443, "java", 1, extIP(r, 7))
		}
	}
	for _, m := range byTier["mon"] {
		for _, h := range f.Hosts {
			if h.has(9100) {
				f.connect(m, h, 9100, "prometheus", 1, netip.Addr{})
			}
		}
	}
	return f
}

// extIP is a documentation-range (TEST-NET) address: the Internet.
func extIP(r *rand.Rand, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i*20 + r.IntN(20))})
}

func (f *Fleet) add(name string, t tier) *Host {
	i := len(f.Hosts)
	h := &Host{
		Name:     name,
		Tier:     t.name,
		IP:       netip.AddrFrom4([4]byte{10, byte(1 + i/62500), byte(i / 250 % 250), byte(1 + i%250)}),
		Agent:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(i / 250), byte(1 + i%250)}), f.AgentPort),
		Services: append([]Service(nil), t.services...),
	}
	f.Hosts = append(f.Hosts, h)
	return h
}

func (f *Fleet) connect(from, to *Host, port uint16, proc string, count int, ext netip.Addr) {
	e := &Edge{From: from, To: to, Port: port, Process: proc, Count: count, ExtIP: ext, id: f.edges}
	f.edges++
	if from != nil {
		from.Out = append(from.Out, e)
	}
	if to != nil {
		to.In = append(to.In, e)
	}
}

func (h *Host) has(port uint16) bool {
	for _, s := range h.Services {
		if s.Port == port {
			return true
		}
	}
	return false
}

// Service returns the host's service on port.
func (h *Host) Service(port uint16) (Service, bool) {
	for _, s := range h.Services {
		if s.Port == port {
			return s, true
		}
	}
	return Service{}, false
}

// Lookup finds a host by name.
func (f *Fleet) Lookup(name string) *Host {
	for _, h := range f.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Disconnect removes every connection from host from to host to, as when
// a client stops using a service.
func (f *Fleet) Disconnect(from, to string) {
	keep := func(edges []*Edge) []*Edge {
		var out []*Edge
		for _, e := range edges {
			if e.From == nil || e.To == nil || e.From.Name != from || e.To.Name != to {
				out = append(out, e)
			}
		}
		return out
	}
	for _, h := range f.Hosts {
		h.Out, h.In = keep(h.Out), keep(h.In)
	}
}
