// Package nstest makes real network namespaces for tests: `ip netns add`
// namespaces, `unshare --net` processes, veth pairs with addresses, DNAT
// rules, and listeners and clients inside them. Everything a test makes
// has a name of its own (the test process's pid and a counter) and is
// removed in t.Cleanup. It needs root and iproute2 (iptables for DNAT):
// without them a test is skipped, or fails with CI=true.
package nstest

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// seq numbers what one test process makes.
var seq atomic.Int64

// Need skips t (fails it under CI=true) unless the process is root and
// each program is installed.
func Need(t testing.TB, progs ...string) {
	t.Helper()
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root"
	}
	for _, p := range append([]string{"ip", "python3"}, progs...) {
		if _, err := exec.LookPath(p); err != nil && missing == "" {
			missing = p + " (install iproute2, iptables, nftables, python3)"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("network namespace tests need %s", missing)
	}
	t.Skipf("network namespace tests need %s", missing)
}

// Unique is a name no other test process or call uses: prefix, the pid
// and a counter (at most 15 bytes, an interface name's limit, for
// prefixes of up to 5 bytes and fewer than 46656 names).
func Unique(prefix string) string {
	return fmt.Sprintf("%s%d-%s", prefix, os.Getpid()%100000, strconv.FormatInt(seq.Add(1), 36))
}

// run runs a command, failing t with its output.
func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Netns adds an `ip netns` namespace with its loopback up; it is deleted,
// and its processes killed, at cleanup.
func Netns(t testing.TB) string {
	t.Helper()
	name := Unique("dotmt")
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				_ = exec.Command("kill", "-9", pid).Run()
			}
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
	})
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// subnet is a /24 of 10.0.0.0/8 for one veth pair, from the pid and the
// counter, so concurrent test processes rarely share one.
func subnet() (a, b netip.Addr) {
	n := os.Getpid()*7 + int(seq.Add(1))
	base := [4]byte{10, byte(200 + n%50), byte(n / 50 % 250), 0}
	base[3] = 1
	a = netip.AddrFrom4(base)
	base[3] = 2
	return a, netip.AddrFrom4(base)
}

// Veth links namespace a ("" for the host's) to namespace b by a veth
// pair and gives each end an address of a fresh /24; it returns them.
// The pair goes with its namespace, or at cleanup.
func Veth(t testing.TB, a, b string) (addrA, addrB netip.Addr) {
	t.Helper()
	ifA, ifB := Unique("va"), Unique("vb")
	run(t, "ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", ifA).Run() })
	addrA, addrB = subnet()
	for _, end := range []struct {
		ns, ifc string
		addr    netip.Addr
	}{{a, ifA, addrA}, {b, ifB, addrB}} {
		if end.ns != "" {
			run(t, "ip", "link", "set", end.ifc, "netns", end.ns)
			t.Cleanup(func() { _ = exec.Command("ip", "-n", end.ns, "link", "del", end.ifc).Run() })
		}
		ip := []string{"ip"}
		if end.ns != "" {
			ip = append(ip, "-n", end.ns)
		}
		run(t, append(ip, "addr", "add", end.addr.String()+"/24", "dev", end.ifc)...)
		run(t, append(ip, "link", "set", end.ifc, "up")...)
	}
	return addrA, addrB
}

// listener is a Python program that listens on argv[1]:argv[2] (tcp or
// udp as argv[3]), says "ready" and holds what it accepts.
const listener = `import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[3] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen(64)
print("ready", s.getsockname()[1], flush=True)
held = []
while True:
    if kind == socket.SOCK_STREAM:
        held.append(s.accept()[0])
    else:
        s.recv(65535)
`

// client connects to argv[1]:argv[2], says "ready" and holds it.
const client = `import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print("ready", c.getsockname()[1], flush=True)
time.sleep(3600)
`

// Proc is a process a test started.
type Proc struct {
	Cmd *exec.Cmd
	// Port is what the program reported: the bound port of a listener,
	// the local port of a client.
	Port int
}

// Start runs argv (prefixed by `ip netns exec NS` when ns is not "") and
// waits for its "ready PORT" line; it is killed at cleanup.
func Start(t testing.TB, ns string, argv ...string) Proc {
	t.Helper()
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		var p Proc
		if _, err := fmt.Sscanf(l, "ready %d", &p.Port); err != nil {
			t.Fatalf("%s: said %q, want \"ready PORT\"", strings.Join(argv, " "), l)
		}
		p.Cmd = cmd
		return p
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not ready within 30s", strings.Join(argv, " "))
	}
	return Proc{}
}

// Listen starts a TCP ("tcp") or UDP ("udp") listener on addr:port in ns.
func Listen(t testing.TB, ns, proto, addr string, port int) Proc {
	t.Helper()
	return Start(t, ns, "python3", "-c", listener, addr, fmt.Sprint(port), proto)
}

// Connect starts a client in ns holding a TCP connection to addr:port.
func Connect(t testing.TB, ns, addr string, port int) Proc {
	t.Helper()
	return Start(t, ns, "python3", "-c", client, addr, fmt.Sprint(port))
}

// Unshare starts a TCP listener on 0.0.0.0:port in a namespace of its
// own (`unshare --net`), with its loopback up.
func Unshare(t testing.TB, proto string, port int) Proc {
	t.Helper()
	return Start(t, "", "unshare", "--net", "sh", "-c",
		`ip link set lo up && exec python3 -c "$0" 0.0.0.0 "$1" "$2"`, listener, fmt.Sprint(port), proto)
}

// DNAT adds a rule to the host's nat OUTPUT chain that sends locally made
// TCP connections to dst:port on to target, removed at cleanup.
func DNAT(t testing.TB, dst netip.Addr, port int, target netip.AddrPort) {
	t.Helper()
	rule := []string{"OUTPUT", "-d", dst.String() + "/32", "-p", "tcp", "-m", "tcp", "--dport", fmt.Sprint(port),
		"-m", "comment", "--comment", Unique("dotm-test-"), "-j", "DNAT", "--to-destination", target.String()}
	run(t, append([]string{"iptables", "-w", "-t", "nat", "-A"}, rule...)...)
	t.Cleanup(func() { _ = exec.Command("iptables", append([]string{"-w", "-t", "nat", "-D"}, rule...)...).Run() })
}

// NftDNAT is DNAT with a rule made by nft itself, in a table of its own
// (which iptables cannot list): connections from this host to dst:port
// go to target. The table is deleted at cleanup.
func NftDNAT(t testing.TB, dst netip.Addr, port int, target netip.AddrPort) {
	t.Helper()
	table := strings.ReplaceAll(Unique("dotm_test_"), "-", "_")
	run(t, "nft", "add", "table", "ip", table)
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "ip", table).Run() })
	run(t, "nft", "add", "chain", "ip", table, "out", "{ type nat hook output priority -100; }")
	run(t, "nft", "add", "rule", "ip", table, "out", "ip", "daddr", dst.String(), "tcp", "dport", fmt.Sprint(port),
		"dnat", "to", target.String())
}
