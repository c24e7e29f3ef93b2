package collect

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/collect/agent"
	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/internal/sshtest"
	"github.com/lwindolf/dotm/store"
)

// startSocketChild runs TestSocketProcess as a child: a process of this
// machine with two real listeners and a real connection to one of them.
// Like nginx or postgres it has a short name (comm, which ss and /proc
// give) and rewrites its argv into a status title (which netstat prints):
// it runs as "socketd" with argv[0] "socketd: master process". It returns
// the child's pid, the port it connected to and the one nobody uses.
func startSocketChild(t *testing.T) (pid, used, unused int) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "socketd")
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(exe, "-test.run=^TestSocketProcess$")
	child.Args[0] = "socketd: master process"
	child.Env = append(os.Environ(), "DOTM_SOCKET_CHILD=1")
	out, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, err2 := fmt.Sscan(line, &used, &unused); err != nil || err2 != nil {
		t.Fatalf("child: %q %v %v", line, err, err2)
	}
	return child.Process.Pid, used, unused
}

// netstatOnlyPath makes a directory that holds netstat but not ss, as a
// PATH for the ssh sessions, and returns it with a file the netstat there
// creates when it runs, so the test knows the fallback was taken.
func netstatOnlyPath(t *testing.T) (dir, ran string) {
	t.Helper()
	netstat := redistest.Require(t, "netstat")
	dir = t.TempDir()
	ran = filepath.Join(dir, "netstat-ran")
	script := fmt.Sprintf("#!/bin/sh\n: > %q\nexec %q \"$@\"\n", ran, netstat)
	if err := os.WriteFile(filepath.Join(dir, "netstat"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if ss, err := exec.LookPath("ss"); err == nil && (filepath.Dir(ss) == "/usr/sbin" || filepath.Dir(ss) == "/sbin") {
		t.Fatalf("ss is at %s, which the ssh script adds to PATH itself; this test cannot hide it", ss)
	}
	return dir, ran
}

// serveAgent runs the agent on a free loopback port over this machine's
// /proc until the test ends, and returns its address.
func serveAgent(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &agent.Server{
		Allow:  []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Source: func(context.Context) (*netinfo.Host, error) { return netinfo.ReadProc("/proc") },
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.Serve(ctx, ln)
	return ln.Addr().String()
}

// TestFetchMethodsAgree reads the same real process of this machine
// through every fetch method — the agent on loopback, ssh to a real sshd
// with ss, ssh to a sshd whose sessions have only netstat, and /proc in
// process — and requires identical services and connections from each:
// a host's map must not change when its fetch method does.
func TestFetchMethodsAgree(t *testing.T) {
	pid, _, _ := startSocketChild(t)
	ctx := context.Background()

	agentAddr := serveAgent(t)

	withSS := sshtest.Start(t)
	pathDir, netstatRan := netstatOnlyPath(t)
	netstatOnly := sshtest.Start(t, "PATH="+pathDir)
	sshConf := func(s *sshtest.Server) *domain.Conf {
		c := defaultConf(t)
		c.SSHUser, c.SSHKey, c.SSHKnownHosts = s.User, s.ClientKey, s.KnownHosts(t, s.HostPublicKey)
		return c
	}
	methods := []struct {
		name   string
		fetch  FetchFunc
		target Target
	}{
		{"local", FetchLocal, Target{Name: "self", Method: "local", Conf: defaultConf(t)}},
		{"agent", FetchAgent, Target{Name: "self", Address: agentAddr, Method: "agent", Conf: defaultConf(t)}},
		{"ssh with ss", FetchSSH, Target{Name: "self", Address: withSS.Addr(), Method: "ssh", Conf: sshConf(withSS)}},
		{"ssh with netstat", FetchSSH, Target{Name: "self", Address: netstatOnly.Addr(), Method: "ssh", Conf: sshConf(netstatOnly)}},
	}

	type reading struct {
		services    map[int]store.Service
		connections map[store.ConnectionID]store.Connection
	}
	var first reading
	for i, m := range methods {
		h, err := m.fetch(ctx, m.target)
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		// Only the child's sockets: the rest of the machine changes
		// between the reads while other tests run.
		var mine []netinfo.Socket
		for _, s := range h.Sockets {
			if s.PID == pid {
				s.Title = "" // what the tool printed may differ; the name may not
				mine = append(mine, s)
			}
		}
		h.Sockets = mine
		if len(mine) != 4 { // two listeners and both ends of one connection
			t.Fatalf("%s: %d sockets of the child, want 4: %+v", m.name, len(mine), mine)
		}
		hosts := map[string]*netinfo.Host{"self": h}
		d := newFleet(defaultConf(t), hosts, nil, nil).aggregate("self", h, 1000,
			prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}})
		got := reading{map[int]store.Service{}, map[store.ConnectionID]store.Connection{}}
		for _, s := range d.Services {
			got.services[s.Port] = s
		}
		for _, c := range d.Connections {
			got.connections[c.ID()] = c
		}
		if len(got.services) != 2 || len(got.connections) != 1 {
			t.Fatalf("%s: %d services and %d connections, want 2 and 1:\n%+v\n%+v",
				m.name, len(got.services), len(got.connections), d.Services, d.Connections)
		}
		if i == 0 {
			first = got
			continue
		}
		if !reflect.DeepEqual(got, first) {
			t.Errorf("%s disagrees with %s:\n%+v\nwant\n%+v", m.name, methods[0].name, got, first)
		}
	}
	if _, err := os.Stat(netstatRan); err != nil {
		t.Errorf("the netstat-only sshd did not run netstat (%v): the fallback was not tested", err)
	}
	for _, s := range first.services {
		if s.Process != "socketd" {
			t.Errorf("service %d: process %q, want the canonical socketd", s.Port, s.Process)
		}
	}
}

// TestSSHFailuresSayWhy: a node without ss and netstat, and an agent port
// fetched with ssh, each fail with what is wrong and what to do, not with
// "empty input" or a bare "banner exchange".
func TestSSHFailuresSayWhy(t *testing.T) {
	ctx := context.Background()
	noTools := sshtest.Start(t, "PATH="+t.TempDir())
	c := defaultConf(t)
	c.SSHUser, c.SSHKey, c.SSHKnownHosts = noTools.User, noTools.ClientKey, noTools.KnownHosts(t, noTools.HostPublicKey)
	_, err := FetchSSH(ctx, Target{Name: "bare", Address: noTools.Addr(), Method: "ssh", Conf: c})
	if err == nil || !strings.Contains(err.Error(), "the node said: dotm: neither ss (iproute2) nor netstat (net-tools) is installed") {
		t.Errorf("no ss and no netstat: err = %v", err)
	}

	agentAddr := serveAgent(t)
	_, err = FetchSSH(ctx, Target{Name: "web01", Address: agentAddr, Method: "ssh", Conf: defaultConf(t)})
	want := "does not speak SSH: if a dotm agent listens there, fetch the node with --method agent (dotm nodes add web01=" + agentAddr + " --method agent)"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ssh to an agent port: err = %v\nwant it to contain %q", err, want)
	}
}
