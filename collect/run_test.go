package collect

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/agent"
	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

func openRedis(t *testing.T) *store.Store {
	t.Helper()
	_, s := startRedisStore(t)
	return s
}

// startRedisStore starts a redis-server and opens the store on it.
func startRedisStore(t *testing.T) (*redistest.Server, *store.Store) {
	t.Helper()
	srv := redistest.Start(t)
	s, err := store.Open(context.Background(), store.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return srv, s
}

func setConfig(t *testing.T, s *store.Store, name, value string) {
	t.Helper()
	st, err := domain.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.ParseValue(value)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetSetting(context.Background(), st, v); err != nil {
		t.Fatal(err)
	}
}

// TestSocketProcess is not a test: it is the child of TestCollectRealAgent.
// It listens on two ports, connects to the first, prints the ports and
// waits to be killed.
func TestSocketProcess(t *testing.T) {
	if os.Getenv("DOTM_SOCKET_CHILD") == "" {
		return
	}
	used, _ := net.Listen("tcp", "127.0.0.1:0")
	unused, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() {
		for {
			c, err := used.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	client, err := net.Dial("tcp", used.Addr().String())
	if err != nil {
		os.Exit(1)
	}
	defer client.Close()
	fmt.Printf("%d %d\n", used.Addr().(*net.TCPAddr).Port, unused.Addr().(*net.TCPAddr).Port)
	time.Sleep(time.Hour)
}

// TestCollectRealAgent runs the agent on loopback over the real /proc of
// this machine, shown only the sockets of a child process that holds real
// listeners and a real connection, and checks that collect stores exactly
// those.
func TestCollectRealAgent(t *testing.T) {
	pid, used, unused := startSocketChild(t)
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	program := strings.TrimSpace(string(comm))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agentPort := ln.Addr().(*net.TCPAddr).Port
	srv := &agent.Server{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Source: func(context.Context) (*netinfo.Host, error) {
			h, err := netinfo.ReadProc("/proc")
			if err != nil {
				return nil, err
			}
			var mine []netinfo.Socket
			for _, s := range h.Sockets {
				if s.PID == pid {
					mine = append(mine, s)
				}
			}
			h.Sockets = mine
			return h, nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln)

	s := openRedis(t)
	setConfig(t, s, "fetch_parameters", fmt.Sprintf(`{"method":"agent","agent_port":%d}`, agentPort))
	if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "self", Address: ln.Addr().String()}}); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, s, Options{Now: time.Unix(5000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Fetched != 1 {
		t.Fatalf("summary: %s", sum)
	}
	svcs, _ := s.Services(ctx, "self")
	want := []store.Service{
		{Node: "self", Port: used, Process: program, FirstSeen: 5000, LastSeen: 5000, LastConnection: 5000, Age: "fresh"},
		{Node: "self", Port: unused, Process: program, FirstSeen: 5000, LastSeen: 5000, Age: "fresh"},
	}
	if used > unused {
		want[0], want[1] = want[1], want[0]
	}
	if fmt.Sprint(svcs) != fmt.Sprint(want) {
		t.Errorf("services\n%+v\nwant\n%+v", svcs, want)
	}
	conns, _ := s.Connections(ctx, "self")
	wantConn := store.Connection{Node: "self", Port: strconv.Itoa(used), Remote: "self", Process: program,
		Connections: 1, FirstSeen: 5000, LastSeen: 5000, LastConnection: 5000, Direction: store.Out,
		RemoteHost: "self", RemotePort: strconv.Itoa(used), LocalPort: "high", LocalService: strconv.Itoa(used)}
	if len(conns) != 1 || conns[0] != wantConn {
		t.Errorf("connections\n%+v\nwant exactly\n%+v", conns, wantConn)
	}
	info, _ := s.NodeInfo(ctx, []string{"self"})
	if info[0].FetchStatus != "OK" || info[0].LastFetch != 5000 || len(info[0].IPs) == 0 {
		t.Errorf("node info %+v", info[0])
	}
}

// connKey is a connection record: an incoming and an outgoing one may
// share node, port and remote.
type connKey struct{ node, port, remote, direction string }

type connWant struct {
	process string
	count   int
}

// expected derives, from the fleet's declared edges alone, the connection
// records collect must produce: direction, the program's name and the
// count of each.
func expected(f *simfleet.Fleet) map[connKey]connWant {
	name := func(h *simfleet.Host) string {
		if h == nil {
			return domain.Internet
		}
		return h.Name
	}
	out := map[connKey]connWant{}
	for _, h := range f.Hosts {
		for _, e := range h.Out {
			k := connKey{h.Name, strconv.Itoa(int(e.Port)), name(e.To), store.Out}
			out[k] = connWant{e.Process, out[k].count + e.Count}
		}
		for _, e := range h.In {
			k := connKey{h.Name, strconv.Itoa(int(e.Port)), name(e.From), store.In}
			s, _ := h.Service(e.Port)
			out[k] = connWant{s.Process, out[k].count + e.Count}
		}
	}
	return out
}

func TestCollectSimulatedFleet(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Below the ephemeral range, so no simulated client port equals it;
	// the 127.1.x.y addresses are the fleet's own.
	fleet := simfleet.Generate(300, 42, montest.FleetPort(t))
	silent, garbage := fleet.Hosts[10], fleet.Hosts[20]

	s := openRedis(t)
	if err := fleet.Register(ctx, s); err != nil {
		t.Fatal(err)
	}

	// Round 1: every host answers.
	serveCtx, stopServing := context.WithCancel(ctx)
	wait, err := fleet.Serve(serveCtx)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, s, Options{Now: time.Unix(10_000, 0), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Fetched != len(fleet.Hosts) || len(sum.Failed) != 0 {
		t.Fatalf("round 1: %s", sum)
	}
	checkFleet(t, s, fleet)
	stopServing()
	wait()

	// Round 2: one host hangs, one answers garbage. Each costs at most
	// one timeout, reports why, and keeps its data from round 1.
	silent.Silent, garbage.Garbage = true, true
	serveCtx, stopServing = context.WithCancel(ctx)
	defer stopServing()
	if _, err := fleet.Serve(serveCtx); err != nil {
		t.Fatal(err)
	}
	const timeout = 2 * time.Second
	sum, err = Run(ctx, s, Options{Now: time.Unix(11_000, 0), Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Fetched != len(fleet.Hosts)-2 || len(sum.Failed) != 2 {
		t.Fatalf("round 2: %s", sum)
	}
	if sum.Elapsed > 4*timeout {
		t.Errorf("round 2 took %s: a hung host must cost one timeout (%s), not more", sum.Elapsed, timeout)
	}
	info, _ := s.NodeInfo(ctx, []string{silent.Name, garbage.Name, fleet.Hosts[0].Name})
	if !strings.Contains(info[0].FetchStatus, "no answer within 2s") {
		t.Errorf("silent host status %q", info[0].FetchStatus)
	}
	if info[1].FetchStatus == "OK" || !strings.Contains(sum.String(), garbage.Name+" (") {
		t.Errorf("garbage host status %q; summary %s", info[1].FetchStatus, sum)
	}
	if info[2].FetchStatus != "OK" || info[2].LastFetch != 11_000 {
		t.Errorf("healthy host %+v", info[2])
	}
	for _, h := range []*simfleet.Host{silent, garbage} {
		svcs, _ := s.Services(ctx, h.Name)
		if len(svcs) != len(h.Services) || svcs[0].LastSeen != 10_000 {
			t.Errorf("%s lost or changed its data: %+v", h.Name, svcs)
		}
	}
	silent.Silent, garbage.Garbage = false, false
	checkFleet(t, s, fleet)
}

// checkFleet compares the store with what the fleet declares: every
// host's services, and every connection with direction and count.
func checkFleet(t *testing.T, s *store.Store, fleet *simfleet.Fleet) {
	t.Helper()
	ctx := context.Background()
	svcs, err := s.Services(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range fleet.Hosts {
		n += len(h.Services)
	}
	if len(svcs) != n {
		t.Errorf("%d services stored, the fleet declares %d", len(svcs), n)
	}
	for _, sv := range svcs {
		h := fleet.Lookup(sv.Node)
		decl, ok := h.Service(uint16(sv.Port))
		if !ok || decl.Process != sv.Process {
			t.Errorf("service %s:%d %q not declared (or process differs: %q)", sv.Node, sv.Port, sv.Process, decl.Process)
		}
	}
	conns, err := s.Connections(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := expected(fleet)
	got := map[connKey]connWant{}
	for _, c := range conns {
		k := connKey{c.Node, c.Port, c.Remote, c.Direction}
		if _, dup := got[k]; dup {
			t.Errorf("connection %v stored twice", k)
		}
		got[k] = connWant{c.Process, c.Connections}
	}
	both := false
	for k := range want {
		if k.remote == domain.Internet && k.direction == store.Out {
			_, both = want[connKey{k.node, k.port, k.remote, store.In}]
		}
		if both {
			break
		}
	}
	if !both {
		t.Error("the fleet has no host that serves and calls one port on the Internet; the test would not see them merged")
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("connection %v: got %+v, want %+v", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("connection %v (%+v) is not declared by the fleet", k, g)
		}
	}
}
