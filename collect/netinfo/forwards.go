package netinfo

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Forward is a published port: the host passes what reaches Listen on to
// Target, an address of one of its containers or namespaces, so a client
// of host:8080 is served by the container's :80.
type Forward struct {
	UDP bool
	// Listen is the host's end; its address is unspecified (0.0.0.0 or
	// ::) when every address of the host is meant.
	Listen netip.AddrPort
	Target netip.AddrPort
	// Via is what forwards: "docker-proxy" (a process listening on the
	// port) or "dnat" (a DNAT rule of the host's firewall).
	Via string
}

// Forwarders: the Via of a Forward.
const (
	ViaDockerProxy = "docker-proxy"
	ViaDNAT        = "dnat"
)

// maxCmdline bounds what is read of /proc/<pid>/cmdline.
const maxCmdline = 64 << 10

// readDockerProxies reads the forwards of the docker-proxy processes
// among pids (see ParseDockerProxy).
func readDockerProxies(procRoot string, pids []int) []Forward {
	var out []Forward
	for _, pid := range pids {
		f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "cmdline"))
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(f, maxCmdline))
		f.Close()
		if fw, ok := ParseDockerProxy(b); ok {
			out = append(out, fw)
		}
	}
	return out
}

// ParseDockerProxy reads the command line of a docker-proxy process, as
// /proc/<pid>/cmdline holds it (NUL-separated): dockerd starts one per
// published port as `docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port
// 8080 -container-ip 172.17.0.2 -container-port 80`. ok is false for any
// other program or a line missing a part.
func ParseDockerProxy(cmdline []byte) (Forward, bool) {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "docker-proxy" {
		return Forward{}, false
	}
	opt := map[string]string{}
	for i := 1; i+1 < len(args); i++ {
		if name, ok := strings.CutPrefix(args[i], "-"); ok {
			opt[strings.TrimPrefix(name, "-")] = args[i+1]
			i++
		}
	}
	hostIP, err1 := netip.ParseAddr(orDefault(opt["host-ip"], "0.0.0.0"))
	hostPort, err2 := strconv.ParseUint(opt["host-port"], 10, 16)
	ctrIP, err3 := netip.ParseAddr(opt["container-ip"])
	ctrPort, err4 := strconv.ParseUint(opt["container-port"], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Forward{}, false
	}
	return Forward{
		UDP:    opt["proto"] == "udp",
		Listen: netip.AddrPortFrom(hostIP.Unmap(), uint16(hostPort)),
		Target: netip.AddrPortFrom(ctrIP.Unmap(), uint16(ctrPort)),
		Via:    ViaDockerProxy,
	}, true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ParseIPTablesNAT reads the rules of `iptables -t nat -S` (or
// `ip6tables -t nat -S`; iptables-legacy and iptables-nft print the same)
// and returns the DNAT rules that publish a port: `-A CHAIN ... -p tcp
// ... --dport 8080 ... -j DNAT --to-destination 10.0.0.2:80`, with an
// optional `-d ADDR[/32]` as the host's end. Rules without a single
// destination port, with a port range or without a target address are
// left out, as is every other line. A line longer than MaxLineLen or a
// NUL byte is an error.
func ParseIPTablesNAT(r io.Reader) ([]Forward, error) {
	var out []Forward
	err := scanLines(r, "iptables -t nat -S output", func(line string) error {
		if fw, ok := parseDNATRule(strings.Fields(line)); ok {
			out = append(out, fw)
		}
		return nil
	})
	return out, err
}

// parseDNATRule reads the fields of one `-A` line.
func parseDNATRule(f []string) (Forward, bool) {
	if len(f) < 2 || f[0] != "-A" {
		return Forward{}, false
	}
	opt := map[string]string{}
	for i := 2; i+1 < len(f); i++ {
		if f[i] == "!" { // a negated match names no address of ours
			i += 2
			continue
		}
		if strings.HasPrefix(f[i], "-") {
			opt[f[i]] = f[i+1]
			i++
		}
	}
	if opt["-j"] != "DNAT" || (opt["-p"] != "tcp" && opt["-p"] != "udp") {
		return Forward{}, false
	}
	port, err := strconv.ParseUint(opt["--dport"], 10, 16)
	if err != nil || port == 0 {
		return Forward{}, false
	}
	listen := netip.IPv4Unspecified()
	if d := opt["-d"]; d != "" {
		p, err := netip.ParsePrefix(d)
		if err != nil {
			a, aerr := netip.ParseAddr(d)
			if aerr != nil {
				return Forward{}, false
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if !p.IsSingleIP() {
			return Forward{}, false
		}
		listen = p.Addr()
	}
	target, ok := parseDNATTarget(opt["--to-destination"], uint16(port))
	if !ok {
		return Forward{}, false
	}
	return Forward{UDP: opt["-p"] == "udp", Listen: netip.AddrPortFrom(listen.Unmap(), uint16(port)),
		Target: target, Via: ViaDNAT}, true
}

// parseDNATTarget reads --to-destination: "10.0.0.2", "10.0.0.2:80",
// "[fd00::2]:80"; without a port the connection keeps its own.
func parseDNATTarget(s string, port uint16) (netip.AddrPort, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), ap.Port() != 0
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), port), true
}

// writeForwards writes the "Active port forwards" section of an agent
// answer: one line per forward, "tcp 0.0.0.0:8080 172.17.0.2:80
// docker-proxy".
func writeForwards(bw *bufio.Writer, fws []Forward) {
	if len(fws) == 0 {
		return
	}
	bw.WriteString(forwardsTitle + "\n")
	for _, fw := range fws {
		proto := "tcp"
		if fw.UDP {
			proto = "udp"
		}
		fmt.Fprintf(bw, "%s %s %s %s\n", proto, fw.Listen, fw.Target, sanitize(fw.Via, false))
	}
}

// forwardsTitle starts the forwards section. A reader that knows nothing
// of it stops reading sockets at its "Active" (netstat's title of its
// next section), so it sees the host's table as before.
const forwardsTitle = "Active port forwards (published ports)"

// parseForwardLine reads one line of the forwards section.
func parseForwardLine(s string) (Forward, error) {
	f := strings.Fields(s)
	if len(f) != 4 || (f[0] != "tcp" && f[0] != "udp") {
		return Forward{}, fmt.Errorf("bad port forward %s; want \"tcp LISTEN TARGET VIA\"", quoteShort(s))
	}
	listen, err1 := netip.ParseAddrPort(f[1])
	target, err2 := netip.ParseAddrPort(f[2])
	if err1 != nil || err2 != nil {
		return Forward{}, fmt.Errorf("bad port forward %s: addresses must be ADDR:PORT", quoteShort(s))
	}
	return Forward{UDP: f[0] == "udp", Listen: netip.AddrPortFrom(listen.Addr().Unmap(), listen.Port()),
		Target: netip.AddrPortFrom(target.Addr().Unmap(), target.Port()), Via: sanitize(f[3], false)}, nil
}
