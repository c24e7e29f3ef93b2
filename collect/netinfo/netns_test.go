package netinfo

import (
	"bytes"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/nstest"
)

// find returns the sockets of h in namespace ns listening (or, with a
// remote, connected) on local port port.
func find(h *Host, ns string, port int, state string) []Socket {
	var out []Socket
	for _, s := range h.Sockets {
		if s.Netns == ns && int(s.Local.Port()) == port && s.State == state {
			out = append(out, s)
		}
	}
	return out
}

func netnsInfo(h *Host, name string) (NetnsInfo, bool) {
	for _, ns := range h.Netns {
		if ns.Name == name {
			return ns, true
		}
	}
	return NetnsInfo{}, false
}

// A listener and a client inside an `ip netns` namespace, a UDP listener
// in an `unshare --net` one: ReadHost shows each with its namespace's name
// and owner, and the host's own table does not.
func TestReadHostNetns(t *testing.T) {
	nstest.Need(t, "unshare")
	ns := nstest.Netns(t)
	_, nsIP := nstest.Veth(t, "", ns)
	nstest.Listen(t, ns, "tcp", "0.0.0.0", 8080)
	cl := nstest.Connect(t, ns, "127.0.0.1", 8080)
	udp := nstest.Unshare(t, "udp", 5514)

	h, err := ReadHost("/proc", Namer{Root: "/"})
	if err != nil {
		t.Fatal(err)
	}
	info, ok := netnsInfo(h, ns)
	if !ok || info.Kind != "netns" {
		t.Fatalf("namespace %s not listed as an ip netns: %+v", ns, h.Netns)
	}
	if len(info.Addrs) != 1 || info.Addrs[0] != nsIP {
		t.Errorf("addresses of %s = %v, want [%s]", ns, info.Addrs, nsIP)
	}
	if l := find(h, ns, 8080, StateListen); len(l) != 1 || l[0].Program != "python3" || l[0].PID == 0 {
		t.Errorf("listener in %s: %+v", ns, l)
	}
	if c := find(h, ns, cl.Port, StateEstablished); len(c) != 1 || c[0].Remote != netip.MustParseAddrPort("127.0.0.1:8080") {
		t.Errorf("client in %s: %+v", ns, c)
	}
	var udpNs string
	for _, s := range h.Sockets {
		if s.UDP && s.Local.Port() == 5514 && s.PID == udp.Cmd.Process.Pid {
			udpNs = s.Netns
		}
	}
	if info, ok := netnsInfo(h, udpNs); udpNs == "" || !ok || info.Kind != "process" || !strings.HasPrefix(udpNs, "python3") {
		t.Errorf("UDP listener of the unshare'd process is in namespace %q (%+v), want one named after python3", udpNs, info)
	}
	if host := find(h, "", 8080, StateListen); len(host) != 0 {
		t.Errorf("the namespace's listener shows in the host's namespace: %+v", host)
	}
}

// The agent answer of a host with namespaces reads back with them; its
// part before the first namespace title is exactly the answer of the
// host alone, which is what a reader that knows nothing of namespaces
// reads as the socket table.
func TestAgentNetnsRoundTrip(t *testing.T) {
	h := &Host{Hostname: "web01",
		Sockets: []Socket{
			{Local: ap("0.0.0.0:22"), State: StateListen, PID: 1, Program: "sshd"},
			{Local: ap("0.0.0.0:8080"), State: StateListen, PID: 7, Program: "docker-proxy"},
			{Local: ap("0.0.0.0:514"), State: StateListen, PID: 9, Program: "rsyslogd", UDP: true},
			{Local: ap("0.0.0.0:80"), State: StateListen, PID: 40, Program: "nginx", Title: "nginx: master", Netns: "web"},
			{Local: ap("172.17.0.2:80"), Remote: ap("172.17.0.1:40000"), State: StateEstablished, PID: 41, Program: "nginx", Netns: "web"},
			{Local: ap("[::]:53"), State: StateListen, PID: 42, Program: "dnsmasq", UDP: true, Netns: "web"},
		},
		Netns:      []NetnsInfo{{Netns: Netns{Name: "web", Kind: "docker", Inode: 4026532286, PID: 40}, Addrs: []netip.Addr{netip.MustParseAddr("172.17.0.2")}}},
		Forwards:   []Forward{{Listen: ap("0.0.0.0:8080"), Target: ap("172.17.0.2:80"), Via: ViaDockerProxy}},
		Interfaces: []Interface{{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}}},
	}
	var buf bytes.Buffer
	if err := WriteAgent(&buf, h); err != nil {
		t.Fatal(err)
	}
	got, err := ParseAgent(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	for i := range h.Sockets {
		if got.Sockets[i] != h.Sockets[i] {
			t.Errorf("socket %d = %+v, want %+v", i, got.Sockets[i], h.Sockets[i])
		}
	}
	if len(got.Netns) != 1 || got.Netns[0].Name != "web" || got.Netns[0].Kind != "docker" || got.Netns[0].Addrs[0] != h.Netns[0].Addrs[0] {
		t.Errorf("namespaces = %+v", got.Netns)
	}
	if len(got.Forwards) != 1 || got.Forwards[0] != h.Forwards[0] {
		t.Errorf("forwards = %+v", got.Forwards)
	}

	var alone bytes.Buffer
	hostOnly := &Host{Hostname: h.Hostname, Sockets: h.Sockets[:3], Interfaces: h.Interfaces}
	if err := WriteAgent(&alone, hostOnly); err != nil {
		t.Fatal(err)
	}
	full, cut := buf.String(), strings.Index(buf.String(), "\nActive Internet connections (netns ")
	table, _, _ := strings.Cut(alone.String(), "\n\n")
	if cut < 0 || full[:cut] != table {
		t.Errorf("the host's table is not what an old reader reads first:\n%s\n---\n%s", full, table)
	}
	if !strings.HasSuffix(full, alone.String()[len(table):]) {
		t.Errorf("the ip addr part changed")
	}
	// What an older reader keeps: tcp lines before the first section title.
	old, err := ParseNetstat(strings.NewReader(full[:cut]))
	if err != nil || len(tcpOnly(old)) != 2 {
		t.Errorf("host table read alone: %v, %v", old, err)
	}
}

func TestParseCgroupFixtures(t *testing.T) {
	const id = "34048520ee4dcc79b692911aeb87c104e8f3d9b5a99aa269fa1f2b5a3fcfd1fd"
	tests := []struct {
		file string
		want Container
	}{
		{"docker-cgroupfs-v1.txt", Container{Runtime: "docker", ID: id}},
		{"docker-systemd-v2.txt", Container{Runtime: "docker", ID: id}},
		{"podman-systemd-v2.txt", Container{Runtime: "podman", ID: id}},
		{"kubepods-containerd-systemd-v2.txt", Container{Runtime: "containerd", ID: id, PodUID: "74c13223-5a00-11e9-b385-42010a80018d"}},
		{"kubepods-crio-systemd-v2.txt", Container{Runtime: "cri-o", ID: id, PodUID: "74c13223-5a00-11e9-b385-42010a80018d"}},
		{"kubepods-cgroupfs-v1.txt", Container{ID: id, PodUID: "74c13223-5a00-11e9-b385-42010a80018d"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open("testdata/cgroup/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, ok := ParseCgroup(f)
			if !ok || got != tt.want {
				t.Errorf("ParseCgroup = %+v, %v; want %+v", got, ok, tt.want)
			}
		})
	}
	if _, ok := ParseCgroup(strings.NewReader("0::/user.slice/user-1000.slice/session-2.scope\n")); ok {
		t.Error("a login session is taken for a container")
	}
}

// The runtimes' state names their containers (fixtures in
// testdata/cgroup/root, see its README).
func TestNameContainer(t *testing.T) {
	const id = "34048520ee4dcc79b692911aeb87c104e8f3d9b5a99aa269fa1f2b5a3fcfd1fd"
	n := Namer{Root: "testdata/cgroup/root"}
	for _, tt := range []struct {
		c          Container
		name, kind string
	}{
		{Container{Runtime: "docker", ID: id}, "web", "docker"},
		{Container{Runtime: "podman", ID: id}, "db", "podman"},
		{Container{Runtime: "containerd", ID: id, PodUID: "74c13223-5a00-11e9-b385-42010a80018d"}, "shop/cart-7d4b9c-x2x8k", "kubernetes"},
		{Container{Runtime: "cri-o", ID: "ab" + id[2:]}, "cri-o-ab048520ee4d", "cri-o"},
	} {
		if name, kind := n.nameContainer(tt.c); name != tt.name || kind != tt.kind {
			t.Errorf("%+v named %q (%s), want %q (%s)", tt.c, name, kind, tt.name, tt.kind)
		}
	}
}

func TestParseDNATAndProxy(t *testing.T) {
	rules := `-P PREROUTING ACCEPT
-N DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A OUTPUT -d 10.9.0.1/32 -p tcp -m tcp --dport 9090 -m comment --comment x -j DNAT --to-destination 10.9.1.2:80
-A DOCKER ! -i docker0 -p udp -m udp --dport 5353 -j DNAT --to-destination 172.17.0.3
`
	got, err := ParseIPTablesNAT(strings.NewReader(rules))
	if err != nil {
		t.Fatal(err)
	}
	want := []Forward{
		{Listen: ap("0.0.0.0:8080"), Target: ap("172.17.0.2:80"), Via: ViaDNAT},
		{Listen: ap("10.9.0.1:9090"), Target: ap("10.9.1.2:80"), Via: ViaDNAT},
		{UDP: true, Listen: ap("0.0.0.0:5353"), Target: ap("172.17.0.3:5353"), Via: ViaDNAT},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	cmd := "/usr/bin/docker-proxy\x00-proto\x00tcp\x00-host-ip\x000.0.0.0\x00-host-port\x008080\x00-container-ip\x00172.17.0.2\x00-container-port\x0080\x00"
	if fw, ok := ParseDockerProxy([]byte(cmd)); !ok || fw != (Forward{Listen: ap("0.0.0.0:8080"), Target: ap("172.17.0.2:80"), Via: ViaDockerProxy}) {
		t.Errorf("docker-proxy = %+v, %v", fw, ok)
	}
	if _, ok := ParseDockerProxy([]byte("/usr/bin/python3\x00-host-port\x008080\x00")); ok {
		t.Error("another program is taken for docker-proxy")
	}
}

func TestNetnsAddrFixtures(t *testing.T) {
	f, _ := os.Open("testdata/netns/fib_trie.txt")
	defer f.Close()
	if got := parseFibTrieLocal(f); len(got) != 1 || got[0] != netip.MustParseAddr("10.213.1.2") {
		t.Errorf("fib_trie: %v", got)
	}
	g, _ := os.Open("testdata/netns/if_inet6.txt")
	defer g.Close()
	if got := parseIfInet6(g); len(got) != 1 || got[0] != netip.MustParseAddr("fd00:213::2") {
		t.Errorf("if_inet6: %v", got)
	}
}

// A real agent answer of a host with two namespaces (testdata/README.md).
func TestParseAgentNetnsCaptured(t *testing.T) {
	h, err := ParseAgent(strings.NewReader(readTestdata(t, "agent-netns.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Netns) != 2 || h.Netns[0].Name != "dotmcap3839" || h.Netns[0].Kind != "netns" || h.Netns[1].Kind != "process" {
		t.Fatalf("namespaces = %+v", h.Netns)
	}
	l := find(h, "dotmcap3839", 8080, StateListen)
	u := find(h, "dotmcap3839", 5514, StateListen)
	if len(l) != 1 || l[0].UDP || len(u) != 1 || !u[0].UDP || u[0].Program != "python3" {
		t.Errorf("the namespace's listeners: %+v %+v", l, u)
	}
	if host := find(h, "", 43537, StateListen); len(host) != 1 || host[0].Program != "dotm-agent" {
		t.Errorf("the host's own listener: %+v", host)
	}
	if len(h.Interfaces) == 0 {
		t.Error("no interfaces")
	}
}
