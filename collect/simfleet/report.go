package simfleet

import (
	"net/netip"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// Report is what the host's agent tells: its listening services (plus
// sshd and the agent itself, which dotm ignores), both ends of every
// connection it takes part in, an admin's ssh session and TIME_WAIT
// leftovers, and its interfaces.
func (h *Host) Report() *netinfo.Host {
	r := &netinfo.Host{Hostname: h.Name, Interfaces: []netinfo.Interface{
		{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
		{Name: "eth0", Addrs: []netip.Prefix{netip.PrefixFrom(h.IP, 16)}},
	}}
	add := func(state string, local, remote netip.AddrPort, pid int, prog string) {
		r.Sockets = append(r.Sockets, netinfo.Socket{State: state, Local: local, Remote: remote, PID: pid,
			Program: prog, Title: titles[[2]string{prog, state}]})
	}
	any4 := netip.IPv4Unspecified()
	add(netinfo.StateListen, netip.AddrPortFrom(any4, 22), netip.AddrPort{}, 501, "sshd")
	add(netinfo.StateListen, netip.AddrPortFrom(any4, h.Agent.Port()), netip.AddrPort{}, 502, "dotm-agent")
	for i, s := range h.Services {
		add(netinfo.StateListen, netip.AddrPortFrom(any4, s.Port), netip.AddrPort{}, 1000+i, s.Process)
	}
	for _, e := range h.Out {
		for k := range e.Count {
			add(netinfo.StateEstablished, netip.AddrPortFrom(h.IP, e.clientPort(k)),
				netip.AddrPortFrom(e.serverIP(), e.Port), 2000+e.id%1000, e.Process)
		}
		add("TIME_WAIT", netip.AddrPortFrom(h.IP, e.clientPort(e.Count)), netip.AddrPortFrom(e.serverIP(), e.Port), 0, "")
	}
	for _, e := range h.In {
		s, _ := h.Service(e.Port)
		for k := range e.Count {
			add(netinfo.StateEstablished, netip.AddrPortFrom(h.IP, e.Port),
				netip.AddrPortFrom(e.clientIP(), e.clientPort(k)), 1000, s.Process)
		}
	}
	if h.Tier != "bastion" { // an admin logged in from the bastion
		add(netinfo.StateEstablished, netip.AddrPortFrom(h.IP, 22),
			netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 255, 255, 1}), 50022), 503, "sshd")
	}
	return r
}

// titles are what netstat -p prints for daemons that rewrite their argv,
// by program and socket state, as captured on a real host
// (collect/netinfo/testdata/titles-netstat-antp.txt): the agent's answer
// carries them, and the collector must still store the program's name.
var titles = map[[2]string]string{
	{"nginx", netinfo.StateListen}:      "nginx: master",
	{"nginx", netinfo.StateEstablished}: "nginx: worker",
	{"sshd", netinfo.StateListen}:       "sshd: /usr/sb",
	{"sshd", netinfo.StateEstablished}:  "sshd: root@pt",
}

// clientPort is the ephemeral port of the k-th socket of an edge.
func (e *Edge) clientPort(k int) uint16 {
	return uint16(32768 + (e.id*61+k)%28000)
}

func (e *Edge) serverIP() netip.Addr {
	if e.To == nil {
		return e.ExtIP
	}
	return e.To.IP
}

func (e *Edge) clientIP() netip.Addr {
	if e.From == nil {
		return e.ExtIP
	}
	return e.From.IP
}
