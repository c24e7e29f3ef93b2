// Package netinfo describes what a host tells about its TCP sockets and
// network interfaces, and reads and writes the formats that carry it: the
// DOTM agent protocol, `netstat -antp`, `ss -tanp` and `ip addr`, plus the
// host's own /proc.
//
// It imports nothing that talks to Redis or draws graphs, so the small
// dotm-agent binary can use it.
package netinfo

import "net/netip"

// TCP socket states as netstat prints them. ss prints other spellings
// (ESTAB, UNCONN, TIME-WAIT); parsers normalise them to these.
const (
	StateListen      = "LISTEN"
	StateEstablished = "ESTABLISHED"
)

// Socket is one TCP socket of a host.
type Socket struct {
	// Local and Remote are the two ends. Remote is the zero AddrPort with
	// port 0 for a listening socket. IPv4-mapped IPv6 addresses
	// (::ffff:10.0.0.1) are unmapped to plain IPv4 by the parsers.
	Local  netip.AddrPort
	Remote netip.AddrPort
	// State is the TCP state in netstat's spelling (LISTEN, ESTABLISHED,
	// TIME_WAIT, ...).
	State string
	// PID and Program identify the owning process; 0 and "" when the
	// source did not say (netstat without -p, or a socket of another user
	// seen without privileges). Program is the canonical name
	// (CanonicalProcess) whatever tool reported it; Title is what the tool
	// printed when that differs ("nginx: worker"), else "".
	PID     int
	Program string
	Title   string
	// UDP marks a UDP listener (a bound socket without a peer, State
	// LISTEN); other sockets are TCP.
	UDP bool
	// Netns is the name of the network namespace the socket lives in
	// (Host.Netns), "" for the host's own.
	Netns string
}

// Interface is one network interface and its addresses.
type Interface struct {
	Name  string
	Addrs []netip.Prefix
}

// Host is everything one host reported in one fetch.
type Host struct {
	// Hostname is what the host calls itself (the agent's hostname= line);
	// empty when the source does not say.
	Hostname   string
	Sockets    []Socket
	Interfaces []Interface
	// Netns are the host's other network namespaces (containers, ip
	// netns), named by their sockets' Netns, sorted by name.
	Netns []NetnsInfo
	// Forwards are the host's published ports (docker-proxy, DNAT).
	Forwards []Forward
}

// NetnsInfo is a network namespace with its addresses.
type NetnsInfo struct {
	Netns
	// Addrs are the namespace's own addresses (not loopback or
	// link-local): where a connection from another namespace of the host
	// or a forward arrives.
	Addrs []netip.Addr
}

// IPs returns the host's interface addresses, without prefix lengths, in
// the order reported.
func (h *Host) IPs() []netip.Addr {
	var ips []netip.Addr
	for _, ifc := range h.Interfaces {
		for _, p := range ifc.Addrs {
			ips = append(ips, p.Addr())
		}
	}
	return ips
}
