package main

import (
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/nstest"
)

// proxyScript stands in for docker-proxy (no Docker engine runs in the
// tests): a Python program started under the name docker-proxy, with
// docker-proxy's arguments, that listens on -host-ip:-host-port and opens
// a connection to -container-ip:-container-port for every client.
const proxyScript = `import socket, sys
a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a["-host-ip"], int(a["-host-port"])))
s.listen(16)
print("ready", a["-host-port"], flush=True)
held = []
while True:
    c = s.accept()[0]
    held += [c, socket.create_connection((a["-container-ip"], int(a["-container-port"])))]
`

// startProxy starts proxyScript as a process named docker-proxy that
// publishes host 127.0.0.1:<free port> to target.
func startProxy(t *testing.T, target netip.AddrPort) int {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import os, sys; print(os.path.realpath(sys.executable))").Output()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "docker-proxy")
	if err := os.Symlink(strings.TrimSpace(string(out)), link); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	nstest.Start(t, "", link, "-c", proxyScript, "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", strconv.Itoa(port),
		"-container-ip", target.Addr().String(), "-container-port", strconv.Itoa(int(target.Port())))
	return port
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A host with two namespaces (ip netns) that talk to each other, one
// published to the host by a DNAT rule and by a docker-proxy, and a UDP
// listener: dotm collect (local method) stores each service with its
// namespace, nodes show names them, and the node page draws the
// containers inside the node.
func TestCollectRenderNamespaces(t *testing.T) {
	nstest.Need(t, "iptables", "nft")
	web, db := nstest.Netns(t), nstest.Netns(t)
	hostIP, webIP := nstest.Veth(t, "", web)
	_, dbIP := nstest.Veth(t, web, db)
	nstest.Listen(t, web, "tcp", "0.0.0.0", 80)
	nstest.Listen(t, web, "udp", "0.0.0.0", 5514)
	nstest.Listen(t, db, "tcp", "0.0.0.0", 5432)
	nstest.Connect(t, web, dbIP.String(), 5432)

	dnatPort := freePort(t)
	nstest.DNAT(t, hostIP, dnatPort, netip.AddrPortFrom(webIP, 80))
	nstest.Connect(t, "", hostIP.String(), dnatPort)
	nftPort := freePort(t)
	nstest.NftDNAT(t, hostIP, nftPort, netip.AddrPortFrom(webIP, 80))
	nstest.Connect(t, "", hostIP.String(), nftPort)
	proxyPort := startProxy(t, netip.AddrPortFrom(webIP, 80))
	nstest.Connect(t, "", "127.0.0.1", proxyPort)

	data := t.TempDir()
	if code, _, stderr := runCLIAll("collect", "--quiet", "--data-dir", data); code != 0 {
		t.Fatalf("collect: exit %d: %s", code, stderr)
	}
	_, list, _ := runCLIAll("nodes", "list", "--data-dir", data)
	node := strings.Fields(strings.Split(list, "\n")[1])[0]
	code, show, stderr := runCLIAll("nodes", "show", node, "--data-dir", data)
	if code != 0 {
		t.Fatalf("nodes show: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"80  python3 [" + web + "]",
		"5514/udp  python3 [" + web + "]",
		"5432  python3 [" + db + "]",
		strconv.Itoa(proxyPort) + "  docker-proxy → " + web + ":80",
		strconv.Itoa(dnatPort) + "  python3 → " + web + ":80",
		strconv.Itoa(nftPort) + "  python3 → " + web + ":80",          // a rule of nft's own
		"out  " + node + " [" + db + "]  5432  python3 [" + web + "]", // web calls db: one record, at web
		"out  " + node + " [" + web + "]  80  docker-proxy",           // the proxy's connection to its container
	} {
		if !containsSpaced(show, want) {
			t.Errorf("nodes show lacks %q:\n%s", want, show)
		}
	}
	if containsSpaced(show, "in  "+node+"  5432") {
		t.Errorf("the server end of web → db is a record of its own:\n%s", show)
	}

	site := filepath.Join(t.TempDir(), "site")
	if code, _, stderr := runCLIAll("render", "--quiet", "--out", site, "--data-dir", data, "--cache", t.TempDir()); code != 0 {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	// The node's graph source draws the containers' frames (its SVG too,
	// unless a node this busy is laid out with sfdp, which draws no
	// frames); its page's tables name them.
	var page, graph string
	_ = filepath.WalkDir(site, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		switch {
		case strings.HasSuffix(path, ".dot") && strings.Contains(string(b), "container "+web):
			graph = string(b)
		case strings.HasSuffix(path, ".html") && strings.Contains(string(b), "<td>"+web+" → "+db+"</td>"):
			page = string(b)
		}
		return nil
	})
	if graph == "" || page == "" {
		t.Fatalf("no node graph draws the frame \"container %s\" (%v) or no node page names it (%v)", web, graph != "", page != "")
	}
	for _, want := range []string{`label="container ` + db + `"`, `label="DNAT"`, `label="docker-proxy"`} {
		if !strings.Contains(graph, want) {
			t.Errorf("the node graph lacks %s", want)
		}
	}
	for _, want := range []string{"<td>" + web + "</td>", web + ":80"} {
		if !strings.Contains(page, want) {
			t.Errorf("the node page lacks %q", want)
		}
	}
}

// containsSpaced tells whether some line of s, with each run of two or
// more spaces (a column gap) made two, contains want.
func containsSpaced(s, want string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(columnGap.ReplaceAllString(line, "  "), want) {
			return true
		}
	}
	return false
}

var columnGap = regexp.MustCompile(` {2,}`)
