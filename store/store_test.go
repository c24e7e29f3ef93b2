package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
)

// forEachStore runs one contract test against a real redis-server, a
// real 3-master Redis Cluster, a master behind a real sentinel, and the
// embedded store, each fresh.
func forEachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("redis-server", func(t *testing.T) {
		srv := redistest.Start(t)
		fn(t, openT(t, Options{URL: srv.URL()}))
	})
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t, 3)
		fn(t, openT(t, Options{URL: c.URL()}))
	})
	t.Run("sentinel", func(t *testing.T) {
		s := redistest.StartSentinel(t)
		fn(t, openT(t, Options{URL: s.URL()}))
	})
	t.Run("embedded", func(t *testing.T) {
		fn(t, openT(t, Options{DataDir: t.TempDir()}))
	})
}

func openT(t *testing.T, o Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestNodes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		added, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "web01"}, {Name: "db01", Address: "127.0.0.5:4848"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"web01", "db01"}) {
			t.Errorf("added = %v", added)
		}
		added, err = s.AddNodes(ctx, []domain.NodeSpec{{Name: "db01"}, {Name: "app01"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"app01"}) {
			t.Errorf("second add = %v, want only app01", added)
		}
		names, _ := s.Nodes(ctx)
		if !slices.Equal(names, []string{"web01", "db01", "app01"}) {
			t.Errorf("nodes = %v", names)
		}
		info, err := s.NodeInfo(ctx, []string{"db01", "web01"})
		if err != nil {
			t.Fatal(err)
		}
		if info[0].Address != "127.0.0.5:4848" || info[1].Address != "" {
			t.Errorf("addresses = %q, %q", info[0].Address, info[1].Address)
		}
		if err := s.RemoveNodes(ctx, []string{"web01", "nosuch"}); err == nil || !strings.Contains(err.Error(), "nosuch") {
			t.Errorf("removing an unknown node: err = %v, want it named", err)
		}
		names, _ = s.Nodes(ctx)
		if !slices.Equal(names, []string{"db01", "app01"}) {
			t.Errorf("after remove: nodes = %v", names)
		}
	})
}

func sampleData(node string, ts int64) NodeData {
	return NodeData{
		Node: Node{Name: node, LastFetch: ts, FetchStatus: "OK", IPs: []string{"10.0.0.1", "fe80::1"}},
		Services: []Service{
			{Port: 80, Process: "nginx", FirstSeen: ts, LastSeen: ts, LastConnection: ts},
			{Port: 3306, Process: "mysqld", FirstSeen: ts, LastSeen: ts},
		},
		Connections: []Connection{
			{Port: "80", Remote: "app01", Process: "nginx", Connections: 3, LastSeen: ts, FirstSeen: ts,
				Direction: In, RemoteHost: "app01", RemotePort: "high", LocalPort: "80"},
			{Port: "443", Remote: "2001:db8::7", Process: "curl", Connections: 1, LastSeen: ts,
				Direction: Out, RemoteHost: "2001:db8::7", RemotePort: "443", LocalPort: "high"},
			{Port: "443", Remote: "Internet", Process: "curl", Connections: 4, LastSeen: ts,
				Direction: Out, RemoteHost: "Internet", RemotePort: "443", LocalPort: "high",
				RemoteIPs: "198.51.100.1,203.0.113.9"},
			{Port: "3306", Remote: node, Process: "php-fpm", Connections: 2, LastSeen: ts,
				Direction: Out, RemoteHost: node, RemotePort: "3306", LocalPort: "high", LocalService: "3306"},
		},
		Resolver: map[string]string{"10.0.0.1": node},
	}
}

func TestNodeDataRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, n := range []string{"app10", "app100"} {
			if err := s.WriteNodeData(ctx, sampleData(n, 1000)); err != nil {
				t.Fatal(err)
			}
		}
		svcs, err := s.Services(ctx, "app10")
		if err != nil {
			t.Fatal(err)
		}
		if len(svcs) != 2 || svcs[0].Port != 80 || svcs[1].Process != "mysqld" || svcs[0].Node != "app10" {
			t.Errorf("services of app10 = %+v (app100's must not leak in)", svcs)
		}
		conns, err := s.Connections(ctx, "app10")
		if err != nil {
			t.Fatal(err)
		}
		want := sampleData("app10", 1000).Connections
		for i := range want {
			want[i].Node = "app10"
		}
		slices.SortFunc(want, func(a, b Connection) int {
			return strings.Compare(a.Port+a.Remote, b.Port+b.Remote)
		})
		if !slices.Equal(conns, want) {
			t.Errorf("connections =\n%+v\nwant\n%+v", conns, want)
		}
		all, _ := s.Connections(ctx, "")
		if len(all) != 8 {
			t.Errorf("all connections: %d, want 8", len(all))
		}

		// A rewrite drops what it is told to and replaces whole hashes.
		d := sampleData("app10", 2000)
		d.Connections = d.Connections[:1]
		d.Connections[0].LocalService = ""
		d.DropConnections = []ConnectionID{{Port: "443", Remote: "2001:db8::7"}}
		d.DropServices = []int{3306}
		d.Services = nil
		if err := s.WriteNodeData(ctx, d); err != nil {
			t.Fatal(err)
		}
		conns, _ = s.Connections(ctx, "app10")
		if len(conns) != 3 || conns[0].LastSeen != 1000 && conns[1].LastSeen != 1000 {
			t.Errorf("after rewrite: %+v", conns)
		}
		svcs, _ = s.Services(ctx, "app10")
		if len(svcs) != 1 || svcs[0].Port != 80 {
			t.Errorf("after dropping 3306: %+v", svcs)
		}
		info, _ := s.NodeInfo(ctx, []string{"app10"})
		if info[0].LastFetch != 2000 || !slices.Equal(info[0].IPs, []string{"10.0.0.1", "fe80::1"}) {
			t.Errorf("node info = %+v", info[0])
		}
		res, _ := s.Resolver(ctx)
		if res["10.0.0.1"] != "app10" {
			t.Errorf("resolver 10.0.0.1 = %q, want the last writer app10", res["10.0.0.1"])
		}
		if err := s.SetResolver(ctx, map[string]string{"10.0.0.1": ""}); err != nil {
			t.Fatal(err)
		}
		if res, _ = s.Resolver(ctx); len(res) != 0 {
			t.Errorf("resolver after delete = %v", res)
		}

		// Removing a node removes its data and nothing else.
		if err := s.RemoveNodes(ctx, []string{"app10"}); err == nil {
			t.Error("app10 was never added to dotm::nodes; want an error naming it")
		}
		if svcs, _ = s.Services(ctx, ""); len(svcs) != 2 || svcs[0].Node != "app100" {
			t.Errorf("services after removing app10: %+v", svcs)
		}
	})
}

func TestChecksExpire(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		nc := NodeCheck{Node: "db01", Status: "DOWN", OtherAlerts: map[string]string{"Disk /var": "WARNING"}}
		checks := []ServiceCheck{{Node: "db01", Service: "MySQL", Status: "CRITICAL", Mapping: "mysqld"}}
		if err := s.SetChecks(ctx, nc, checks, time.Second); err != nil {
			t.Fatal(err)
		}
		got, gotChecks, ok, err := s.Checks(ctx, "db01")
		if err != nil || !ok {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		if got.Status != "DOWN" || got.OtherAlerts["Disk /var"] != "WARNING" || gotChecks[0].Mapping != "mysqld" {
			t.Errorf("checks = %+v %+v", got, gotChecks)
		}
		time.Sleep(1500 * time.Millisecond)
		if _, _, ok, _ := s.Checks(ctx, "db01"); ok {
			t.Error("checks did not expire")
		}
		// ttl 0 keeps them.
		if err := s.SetChecks(ctx, nc, checks, 0); err != nil {
			t.Fatal(err)
		}
		if _, got, ok, _ := s.Checks(ctx, "db01"); !ok || len(got) != 1 {
			t.Errorf("checks stored without expiry are gone: ok=%v %v", ok, got)
		}
	})
}

func TestUpdateLock(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		l, _, err := s.LockUpdate(ctx, time.Hour)
		if err != nil || l == nil {
			t.Fatalf("first lock: %v %v", l, err)
		}
		if l2, _, _ := s.LockUpdate(ctx, time.Hour); l2 != nil {
			t.Fatal("second lock taken while the first is held")
		}
		if st, _ := s.State(ctx); !st.UpdateRunning {
			t.Error("state does not show update_running")
		}
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		// A lock whose holder died expires.
		if l, _, _ := s.LockUpdate(ctx, time.Second); l == nil {
			t.Fatal("lock not free after unlock")
		}
		time.Sleep(2100 * time.Millisecond)
		if l, _, _ := s.LockUpdate(ctx, time.Hour); l == nil {
			t.Error("expired lock was not taken over")
		}
	})
}

func TestQueueAndHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		err := s.Enqueue(ctx, []Task{{ID: "6f1c", Fn: "fetch", Args: []any{"web01"}}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		r, ok, err := s.TaskResult(ctx, "6f1c")
		if err != nil || !ok || r.Status != Pending {
			t.Errorf("result = %+v ok=%v err=%v", r, ok, err)
		}
		for _, ts := range []int64{100, 200, 300} {
			if err := s.AddSnapshot(ctx, ts, []byte("doc"), 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DropSnapshots(ctx, 200); err != nil {
			t.Fatal(err)
		}
		h, _ := s.History(ctx)
		if !slices.Equal(h, []int64{200, 300}) {
			t.Errorf("history = %v", h)
		}
		if _, ok, _ := s.Snapshot(ctx, 100); ok {
			t.Error("dropped snapshot still readable")
		}
		if st, _ := s.State(ctx); st.LastSnapshot != 300 {
			t.Errorf("last_snapshot = %d", st.LastSnapshot)
		}
	})
}
