package netinfo

import (
	"bufio"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The agent answer carries the sockets of the host's other network
// namespaces, and its published ports, in sections after the host's own
// table, each started by a title line that begins with "Active", as
// netstat -a starts its next section ("Active UNIX domain sockets"):
//
//	Active Internet connections (netns name=web kind=docker inode=4026532286 pid=4711 addrs=172.17.0.2)
//	Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
//	tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      4711/nginx
//	Active port forwards (published ports)
//	tcp 0.0.0.0:8080 172.17.0.2:80 docker-proxy
//
// A reader that knows nothing of them (dotm before namespaces, anything
// that reads netstat's Internet section) stops at the first such title
// and sees the host's sockets as before; the ip addr part that follows
// the empty line is unchanged. UDP listeners are "udp"/"udp6" lines in
// netstat -anup's form (an empty State column), which such readers skip
// too.
const netnsTitlePrefix = "Active Internet connections (netns "

// writeNetnsSections writes the sections of h's namespaces and forwards.
func writeNetnsSections(bw *bufio.Writer, h *Host) {
	byNs := map[string][]Socket{}
	for _, s := range h.Sockets {
		if s.Netns != "" {
			byNs[s.Netns] = append(byNs[s.Netns], s)
		}
	}
	for _, ns := range h.Netns {
		addrs := make([]string, len(ns.Addrs))
		for i, a := range ns.Addrs {
			addrs[i] = a.String()
		}
		fmt.Fprintf(bw, "%sname=%s kind=%s inode=%d pid=%d addrs=%s)\n", netnsTitlePrefix,
			cleanNetnsName(ns.Name), cleanNetnsName(ns.Kind), ns.Inode, max(ns.PID, 0), strings.Join(addrs, ","))
		bw.WriteString(netstatHeader + "\n")
		writeSocketLines(bw, byNs[ns.Name])
	}
	writeForwards(bw, h.Forwards)
}

// parseNetnsTitle reads a namespace section's title; ok is false for
// any other line.
func parseNetnsTitle(s string) (NetnsInfo, bool, error) {
	rest, ok := strings.CutPrefix(s, netnsTitlePrefix)
	if !ok {
		return NetnsInfo{}, false, nil
	}
	rest, ok = strings.CutSuffix(strings.TrimSpace(rest), ")")
	if !ok {
		return NetnsInfo{}, true, fmt.Errorf("bad namespace title %s; want \"(netns name=... kind=...)\"", quoteShort(s))
	}
	var ns NetnsInfo
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			continue // "name" or "name=" says nothing; "_" would be a name
		}
		var err error
		switch k {
		case "name":
			ns.Name = cleanNetnsName(v)
		case "kind":
			ns.Kind = cleanNetnsName(v)
		case "inode":
			ns.Inode, err = strconv.ParseUint(v, 10, 64)
		case "pid":
			ns.PID, err = strconv.Atoi(v)
		case "addrs":
			ns.Addrs, err = parseAddrList(v)
		}
		if err != nil {
			return NetnsInfo{}, true, fmt.Errorf("bad %s in namespace title %s", k, quoteShort(s))
		}
	}
	if ns.Name == "" {
		return NetnsInfo{}, true, fmt.Errorf("namespace title without a name: %s", quoteShort(s))
	}
	return ns, true, nil
}

// parseAddrList reads "10.0.0.2,fd00::2" ("" is none).
func parseAddrList(s string) ([]netip.Addr, error) {
	if s == "" {
		return nil, nil
	}
	var out []netip.Addr
	for _, a := range strings.Split(s, ",") {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return nil, err
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}

// section handles an "Active ..." title inside the socket table: a
// namespace or forwards section of an agent answer (true), or netstat's
// next section, which ends the table (false).
func (p *netstatParser) section(s string) (bool, error) {
	if strings.HasPrefix(s, forwardsTitle) {
		p.inForwards = true
		return true, nil
	}
	ns, ok, err := parseNetnsTitle(s)
	if !ok || err != nil {
		return ok, err
	}
	for _, have := range p.netnsList {
		if have.Name == ns.Name {
			return true, fmt.Errorf("namespace %q listed twice", ns.Name)
		}
	}
	p.netnsList = append(p.netnsList, ns)
	p.netns, p.inForwards = ns.Name, false
	return true, nil
}

// parseNetstatUDP parses what follows the proto field of a udp line, in
// netstat -anup's form: Recv-Q, Send-Q, local and foreign address, an
// optional State (netstat leaves it empty for an unconnected socket) and
// the PID/Program column. ok is true only for a listener (no peer).
func parseNetstatUDP(s string) (sock Socket, ok bool, err error) {
	recvQ, s := cutField(s)
	sendQ, s := cutField(s)
	local, s := cutField(s)
	remote, s := cutField(s)
	if remote == "" || !isDigits(recvQ) || !isDigits(sendQ) {
		return Socket{}, false, fmt.Errorf("bad udp line; want Proto, Recv-Q, Send-Q, Local Address, Foreign Address, [State,] PID/Program name")
	}
	if next, rest := cutField(s); isStateName(next) {
		if next != "CLOSE" && next != "UNCONN" {
			return Socket{}, false, nil // a connected socket: no listener
		}
		s = rest
	}
	if sock.Local, err = parseEndpoint(local); err != nil {
		return Socket{}, false, fmt.Errorf("bad local address %s: %w", quoteShort(local), err)
	}
	r, err := parseEndpoint(remote)
	if err != nil {
		return Socket{}, false, fmt.Errorf("bad foreign address %s: %w", quoteShort(remote), err)
	}
	if listenRemote(r).IsValid() {
		return Socket{}, false, nil
	}
	sock.State, sock.UDP = StateListen, true
	if sock.PID, sock.Program, err = parsePIDProgram(strings.TrimSpace(s)); err != nil {
		return Socket{}, false, err
	}
	sock.Program, sock.Title = CanonicalProcess(sock.Program)
	return sock, true, nil
}
