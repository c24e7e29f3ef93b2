package netinfo

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Header lines of `netstat -antp` (net-tools), without their newlines. The
// second one ends in padding, as netstat prints it.
const (
	netstatTitle  = "Active Internet connections (servers and established)"
	netstatHeader = "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    "
)

// netstatAddrWidth is the least width netstat gives the address columns.
const netstatAddrWidth = 23

// WriteAgent writes h in the DOTM agent protocol, as the original C agent
// answered every connection: a "hostname=<name>" line, the `netstat -antp`
// table (WriteNetstat), an empty line and the `ip addr` listing
// (WriteIPAddr). Names are sanitised so they cannot break the line format:
// control characters (newline, NUL, ...), other non-printable runes and
// invalid UTF-8 in the hostname and program names become '?'; in
// interface names spaces and '/' do too (the kernel allows neither), and
// an empty name is written as "?". A state that is not 1 to 20 of A-Z, 0-9
// and '_' (netstat's spelling) is written as UNKNOWN.
func WriteAgent(w io.Writer, h *Host) error {
	if h == nil {
		return errors.New("write agent answer: nil host")
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "hostname=%s\n", sanitize(h.Hostname, true))
	writeNetstat(bw, hostSockets(h.Sockets))
	writeNetnsSections(bw, h)
	bw.WriteString("\n")
	writeIPAddr(bw, h.Interfaces)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write agent answer: %w", err)
	}
	return nil
}

// WriteNetstat writes sockets as `netstat -antp` of net-tools prints them:
// the two header lines, then one line per socket in the given order, with
// netstat's column widths and padding. Sockets with an IPv4 local address
// are "tcp", others "tcp6" (netstat also prints IPv4-mapped sockets of
// /proc/net/tcp6 as "tcp6", but Socket no longer knows they were mapped).
// Port 0 and a zero remote end print as netstat's "*" and "0.0.0.0:*" or
// ":::*"; an unknown owner (PID 0) prints as "-". Receive and send queues
// are not known and print as 0. Unlike netstat without -W, long IPv6
// addresses are not truncated to fit the column; the column widens as
// with -W. Program names are sanitised as described at WriteAgent.
// Sockets of other network namespaces (Netns set) follow in one section
// per namespace, titled as in an agent answer with the name only.
func WriteNetstat(w io.Writer, sockets []Socket) error {
	bw := bufio.NewWriter(w)
	writeNetstat(bw, hostSockets(sockets))
	var names []string
	byNs := map[string][]Socket{}
	for _, s := range sockets {
		if s.Netns == "" {
			continue
		}
		if _, seen := byNs[s.Netns]; !seen {
			names = append(names, s.Netns)
		}
		byNs[s.Netns] = append(byNs[s.Netns], s)
	}
	for _, name := range names {
		fmt.Fprintf(bw, "%sname=%s)\n", netnsTitlePrefix, cleanNetnsName(name))
		bw.WriteString(netstatHeader + "\n")
		writeSocketLines(bw, byNs[name])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write netstat table: %w", err)
	}
	return nil
}

// WriteIPAddr writes ifaces in the shape of `ip addr` (iproute2): per
// interface a header line "N: name: <>" and one line per address,
// "    inet 127.0.0.1/8 scope host lo" or "    inet6 ::1/128 scope host ".
// Interface does not carry the kernel's index, flags, MTU, link address,
// broadcast address or lifetimes, so N is the position in ifaces counting
// from 1, the flags are left empty and the other fields and lines are left
// out. The scope is derived from the address (host for loopback, link for
// link-local, global otherwise). Invalid prefixes are skipped.
func WriteIPAddr(w io.Writer, ifaces []Interface) error {
	bw := bufio.NewWriter(w)
	writeIPAddr(bw, ifaces)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write ip addr listing: %w", err)
	}
	return nil
}

// writeNetstat is WriteNetstat on a bufio.Writer, which keeps the first
// write error for Flush to report.
func writeNetstat(bw *bufio.Writer, sockets []Socket) {
	bw.WriteString(netstatTitle + "\n")
	bw.WriteString(netstatHeader + "\n")
	writeSocketLines(bw, sockets)
}

// hostSockets are the sockets of the host's own namespace.
func hostSockets(sockets []Socket) []Socket {
	out := make([]Socket, 0, len(sockets))
	for _, s := range sockets {
		if s.Netns == "" {
			out = append(out, s)
		}
	}
	return out
}

// writeSocketLines writes the socket lines of a netstat table: tcp and
// tcp6, and udp and udp6 for UDP listeners, whose State column netstat
// leaves empty.
func writeSocketLines(bw *bufio.Writer, sockets []Socket) {
	for _, s := range sockets {
		v6 := isV6Socket(s)
		proto := "tcp"
		if s.UDP {
			proto = "udp"
		}
		if v6 {
			proto += "6"
		}
		state := netstatState(s.State)
		if s.UDP {
			state = ""
		}
		local := netstatAddr(s.Local, v6)
		remote := netstatAddr(s.Remote, v6)
		fmt.Fprintf(bw, "%-4s  %6d %6d %-*s %-*s %-11s %-20s\n",
			proto, 0, 0,
			max(netstatAddrWidth, len(local)), local,
			max(netstatAddrWidth, len(remote)), remote,
			state, netstatProgram(s))
	}
}

// isV6Socket tells whether s belongs in netstat's tcp6 lines: its local
// address, or if that is unset its remote address, is IPv6.
func isV6Socket(s Socket) bool {
	if s.Local.Addr().IsValid() {
		return s.Local.Addr().Is6()
	}
	return s.Remote.Addr().Is6()
}

// netstatAddr prints one end as netstat -n does: "127.0.0.1:80", ":::80",
// "0.0.0.0:*" for an unset end. Zones are dropped; netstat has none.
func netstatAddr(ap netip.AddrPort, v6 bool) string {
	host := "0.0.0.0"
	if v6 {
		host = "::"
	}
	if a := ap.Addr(); a.IsValid() {
		host = a.WithZone("").String()
	}
	port := "*"
	if ap.Port() != 0 {
		port = fmt.Sprint(ap.Port())
	}
	return host + ":" + port
}

// netstatState returns state if it is spelled like a netstat state (1 to
// 20 of A-Z, 0-9 and '_'), else "UNKNOWN", so the column stays one word.
func netstatState(state string) string {
	if state == "" || len(state) > 20 {
		return "UNKNOWN"
	}
	for _, c := range state {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return "UNKNOWN"
		}
	}
	return state
}

// netstatProgram is the PID/Program name column: "1234/sshd" or "-". It
// carries the title when there is one, as netstat would, so a reader
// gets both the title and, through CanonicalProcess, the same name.
func netstatProgram(s Socket) string {
	if s.PID <= 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%s", s.PID, sanitize(cmp.Or(s.Title, s.Program), true))
}

// writeIPAddr is WriteIPAddr on a bufio.Writer.
func writeIPAddr(bw *bufio.Writer, ifaces []Interface) {
	for i, ifc := range ifaces {
		name := ifaceName(ifc.Name)
		fmt.Fprintf(bw, "%d: %s: <>\n", i+1, name)
		for _, p := range ifc.Addrs {
			if !p.IsValid() {
				continue
			}
			if p.Addr().Is4() {
				fmt.Fprintf(bw, "    inet %s scope %s %s\n", p, addrScope(p.Addr()), name)
			} else {
				fmt.Fprintf(bw, "    inet6 %s scope %s \n", p, addrScope(p.Addr()))
			}
		}
	}
}

// ifaceName sanitises an interface name for the ip addr listing: no
// spaces, '/' or non-printable characters, not empty.
func ifaceName(name string) string {
	if name == "" {
		return "?"
	}
	return strings.ReplaceAll(sanitize(name, false), "/", "?")
}

// addrScope guesses the scope ip addr shows for an address.
func addrScope(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "host"
	case a.IsLinkLocalUnicast():
		return "link"
	}
	return "global"
}

// sanitize replaces what could break a line of the agent protocol with
// '?': control characters such as newline and NUL, other non-printable
// runes (e.g. U+2028 LINE SEPARATOR), invalid UTF-8 and, unless
// allowSpace, spaces.
func sanitize(s string, allowSpace bool) string {
	clean := func(r rune) bool {
		return r != utf8.RuneError && unicode.IsPrint(r) && (allowSpace || r != ' ')
	}
	if strings.IndexFunc(s, func(r rune) bool { return !clean(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !clean(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
