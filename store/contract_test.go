package store

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
)

// The store's contract: every test in this file runs against every kind
// of store (forEachStore), so what one backend does, all do.

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

// notYetInContract are the exported methods of Store no store test calls
// yet. The list only shrinks: a new method must come with its test.
var notYetInContract = []string{}

// TestContractCoversEveryMethod: every exported method of Store is called
// by this package's tests, which run against every kind of store
// (forEachStore), or is listed in notYetInContract.
func TestContractCoversEveryMethod(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	called := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					called[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	typ := reflect.TypeFor[*Store]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		listed := slices.Contains(notYetInContract, name)
		switch {
		case !called[name] && !listed:
			t.Errorf("Store.%s is called by no store test: add it to the contract (forEachStore)", name)
		case called[name] && listed:
			t.Errorf("Store.%s is tested now: take it off notYetInContract", name)
		}
	}
	for _, name := range notYetInContract {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("notYetInContract names %s, which Store no longer has", name)
		}
	}
}

// Settings set and unset come back through LoadConf, on every store.
func TestContractConf(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if got := s.Embedded(); got != strings.HasSuffix(t.Name(), "/embedded") {
			t.Errorf("Embedded() = %v in %s", got, t.Name())
		}
		aging, err := domain.Lookup("aging")
		if err != nil {
			t.Fatal(err)
		}
		def, err := s.LoadConf(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(ctx, aging, domain.Value{Hash: map[string]string{"Services": "42", "Connections": "7"}}); err != nil {
			t.Fatal(err)
		}
		c, err := s.LoadConf(ctx)
		if err != nil || c.AgingServices != 42*time.Second || c.AgingConns != 7*time.Second {
			t.Fatalf("after set: aging %v/%v, %v", c.AgingServices, c.AgingConns, err)
		}
		if err := s.UnsetSetting(ctx, aging); err != nil {
			t.Fatal(err)
		}
		c, err = s.LoadConf(ctx)
		if err != nil || c.AgingServices != def.AgingServices || c.AgingConns != def.AgingConns {
			t.Errorf("after unset: aging %v/%v, want the default %v/%v (%v)", c.AgingServices, c.AgingConns,
				def.AgingServices, def.AgingConns, err)
		}
	})
}

// AllChecks reads the checks of several nodes at once; a node without
// checks is left out.
func TestContractAllChecks(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, n := range []string{"web01", "db01"} {
			checks := []ServiceCheck{{Node: n, Service: "load", Status: "WARNING", Mapping: ""}}
			if err := s.SetChecks(ctx, NodeCheck{Node: n, Status: "UP"}, checks, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.AllChecks(ctx, []string{"web01", "db01", "none01"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all["db01"].Node.Status != "UP" || len(all["web01"].Services) != 1 ||
			all["web01"].Services[0].Status != "WARNING" {
			t.Errorf("AllChecks = %+v", all)
		}
		if _, ok := all["none01"]; ok {
			t.Error("a node without checks has checks")
		}
	})
}

// A node's records: NodeRecords reads what Services and Connections read
// of that node only; LookupConnections finds stored records by their key
// parts and leaves out the others; SetAlertStatus marks services by port
// and clears the rest.
func TestContractNodeRecords(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, n := range []string{"web01", "web011", "db01"} {
			d := NodeData{Node: Node{Name: n, LastFetch: 1000, FetchStatus: "OK"},
				Services: []Service{{Port: 80, Process: "nginx", FirstSeen: 1000, LastSeen: 1000, Age: "fresh"},
					{Port: 9100, Process: "node_exporter", FirstSeen: 1000, LastSeen: 1000, Age: "fresh"}},
				Connections: []Connection{{Port: "3306", Remote: "db01", Process: "nginx", Connections: 2,
					FirstSeen: 1000, LastSeen: 1000, Direction: Out}}}
			if err := s.WriteNodeData(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		svcs, conns, err := s.NodeRecords(ctx, "web01")
		if err != nil {
			t.Fatal(err)
		}
		wantSvcs, _ := s.Services(ctx, "web01")
		wantConns, _ := s.Connections(ctx, "web01")
		if !reflect.DeepEqual(svcs, wantSvcs) || !reflect.DeepEqual(conns, wantConns) || len(svcs) != 2 || len(conns) != 1 {
			t.Errorf("NodeRecords(web01) = %+v, %+v\nwant %+v, %+v (web011's records are not web01's)", svcs, conns, wantSvcs, wantConns)
		}

		found, err := s.LookupConnections(ctx, []Connection{
			{Node: "web011", Port: "3306", Remote: "db01"}, {Node: "web01", Port: "5432", Remote: "db01"}})
		if err != nil || len(found) != 1 || found[0].Node != "web011" || found[0].Connections != 2 || found[0].Process != "nginx" {
			t.Errorf("LookupConnections = %+v, %v; want web011's record only", found, err)
		}

		if err := s.SetAlertStatus(ctx, "db01", svcs, map[int]string{80: "CRITICAL"}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Services(ctx, "db01")
		for _, sv := range got {
			if want := map[int]string{80: "CRITICAL"}[sv.Port]; sv.AlertStatus != want {
				t.Errorf("db01:%d alert %q, want %q", sv.Port, sv.AlertStatus, want)
			}
		}
		if err := s.SetAlertStatus(ctx, "db01", got, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.Services(ctx, "db01"); got[0].AlertStatus != "" {
			t.Errorf("alerts cleared: %+v", got)
		}
	})
}

// dotm::state: SetState adds fields beside the others; the monitoring
// status comes back as it was stored.
func TestContractState(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.SetLastUpdated(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		if err := s.SetState(ctx, map[string]string{"custom": "x"}); err != nil {
			t.Fatal(err)
		}
		m := MonitoringStatus{Time: 1000, Sources: []SourceStatus{{Source: "status.dat", Status: "OK", Hosts: 3, Checks: 9}},
			UnknownHosts: []string{"printer"}}
		if err := s.SetMonitoringStatus(ctx, m); err != nil {
			t.Fatal(err)
		}
		st, err := s.State(ctx)
		if err != nil || st.LastUpdated != 1000 || st.Fields["custom"] != "x" {
			t.Fatalf("state %+v, %v", st, err)
		}
		got, ok, err := st.Monitoring()
		if err != nil || !ok || !reflect.DeepEqual(got, m) {
			t.Errorf("monitoring %+v %v %v, want %+v", got, ok, err, m)
		}
	})
}

// The queue's other half: a result set directly, a lease renewed, tasks
// nobody took removed with their results.
func TestContractQueueUpkeep(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := Task{ID: TaskKey("aaaaaaaa-1b7e-4c55-9a3e-0d2f6b1c9e77"), Fn: "fetch"}, Task{ID: TaskKey("bbbbbbbb-1b7e-4c55-9a3e-0d2f6b1c9e77"), Fn: "fetch"}
		if err := s.Enqueue(ctx, []Task{a, b}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.SetResult(ctx, a.ID, Result{Status: Processing, Worker: "w1"}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if r, ok, err := s.TaskResult(ctx, a.ID); err != nil || !ok || r.Status != Processing || r.Worker != "w1" {
			t.Errorf("result of a: %+v %v %v", r, ok, err)
		}
		if err := s.LeaseTask(ctx, a.ID, "w1", time.Second, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := s.RenewLease(ctx, a.ID, "w1", time.Hour); err != nil {
			t.Fatal(err)
		}
		ttl, err := s.rdb.PTTL(ctx, leaseKey(a.ID)).Result()
		if err != nil || ttl < time.Minute {
			t.Errorf("renewed lease expires in %v (%v), want about an hour", ttl, err)
		}
		if err := s.RemoveTasks(ctx, []Task{b}); err != nil {
			t.Fatal(err)
		}
		q, _ := s.QueuedTasks(ctx)
		if !q[a.ID] || q[b.ID] {
			t.Errorf("queued after removing b: %v", q)
		}
		if _, ok, _ := s.TaskResult(ctx, b.ID); ok {
			t.Error("b's result outlived its removal")
		}
	})
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

// A task is taken, leased and finished once: a second worker's result
// for the same task (it was thought dead and ran it again) is dropped.
func TestTaskLeaseAndFinish(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		task := Task{ID: "3f1c8a52-1b7e-4c55-9a3e-0d2f6b1c9e77", Fn: "fetch", Args: []any{"web01"}}
		if err := s.Enqueue(ctx, []Task{task}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if q, _ := s.QueuedTasks(ctx); !q[task.ID] {
			t.Fatalf("queued = %v", q)
		}
		got, ok, err := s.TakeTask(ctx, time.Second)
		if err != nil || !ok || got.ID != task.ID {
			t.Fatalf("take = %+v %v %v", got, ok, err)
		}
		if err := s.LeaseTask(ctx, task.ID, "w1", time.Minute, time.Hour); err != nil {
			t.Fatal(err)
		}
		res, leased, err := s.TaskStates(ctx, []string{task.ID})
		if err != nil || res[0].Status != Processing || res[0].Worker != "w1" || !leased[0] {
			t.Fatalf("states = %+v %v %v", res, leased, err)
		}
		first, err := s.FinishTask(ctx, task.ID, json.RawMessage(`{"n":1}`), time.Hour)
		if err != nil || !first {
			t.Fatalf("first finish: %v %v", first, err)
		}
		again, err := s.FinishTask(ctx, task.ID, json.RawMessage(`{"n":2}`), time.Hour)
		if err != nil || again {
			t.Errorf("second finish: applied=%v %v; want dropped", again, err)
		}
		res, leased, _ = s.TaskStates(ctx, []string{task.ID})
		if res[0].Status != Ready || string(res[0].Result) != `{"n":1}` || leased[0] {
			t.Errorf("after finishing: %+v leased=%v; want the first result, no lease", res[0], leased[0])
		}
		if _, ok, _ := s.TakeTask(ctx, time.Second); ok {
			t.Error("the queue still had a task")
		}
		// Something else's entry on the queue is dropped with an error the
		// worker can tell from a store that went away.
		if err := s.rdb.RPush(ctx, keyQueue, "not json").Err(); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.TakeTask(ctx, time.Second); ok || !errors.Is(err, ErrNotATask) {
			t.Errorf("take of a foreign entry: ok=%v err=%v; want ErrNotATask", ok, err)
		}
	})
}

// A task's id is its result key, as the original backend polls it
// (GET <id>); a bare uuid addresses the same key.
func TestTaskIDIsTheResultKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const uuid = "9b2d4e61-7a3c-4f08-8e5d-1c6a0b9f3d24"
		id := TaskKey(uuid)
		if id != "dotm::queue::result::"+uuid {
			t.Fatalf("TaskKey = %q", id)
		}
		if err := s.Enqueue(ctx, []Task{{ID: id, Fn: "fetch", Args: []any{"web01"}}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		raw, err := s.rdb.Get(ctx, id).Result()
		if err != nil || raw != `{"status":"pending"}` {
			t.Fatalf("GET %s = %q, %v; want the pending result under the task's id", id, raw, err)
		}
		if _, err := s.FinishTask(ctx, uuid, json.RawMessage(`true`), time.Hour); err != nil {
			t.Fatal(err)
		}
		res, _, err := s.TaskStates(ctx, []string{id})
		if err != nil || res[0].Status != Ready {
			t.Errorf("finished by bare uuid, read by key: %+v %v", res, err)
		}
		if n, _ := s.rdb.Exists(ctx, keyResult+id).Result(); n != 0 {
			t.Error("a doubled key prefix was written")
		}
	})
}

// Each snapshot is stored with its changes against the one before; a
// lost summary is computed again from the snapshots.
func TestSnapshotSummaries(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		arch := func(ts int64, remotes ...string) *domain.Architecture {
			a := &domain.Architecture{Version: domain.ArchitectureVersion, Time: ts, Nodes: []string{"web01"},
				Services: []domain.ArchService{{Node: "web01", Port: 80, Process: "nginx"}}}
			for _, r := range remotes {
				a.Connections = append(a.Connections, domain.ArchLink{Node: "web01", Direction: Out, Port: "8080", Remote: r, Process: "nginx"})
			}
			return a
		}
		for _, a := range []*domain.Architecture{arch(100, "app01", "app02"), arch(200, "app01", "app02"), arch(300, "app01")} {
			if err := s.SaveSnapshot(ctx, a, 0); err != nil {
				t.Fatal(err)
			}
		}
		check := func(when string) {
			t.Helper()
			sums, bad, err := s.SnapshotSummaries(ctx)
			if err != nil || len(bad) > 0 || len(sums) != 3 {
				t.Fatalf("%s: %d summaries, bad %v, %v", when, len(sums), bad, err)
			}
			if sums[0].Changes != nil || sums[0].Totals.Connections != 2 {
				t.Errorf("%s: first = %+v, want no changes and 2 connections", when, sums[0])
			}
			if c := sums[1].Changes; c == nil || !c.Empty() || c.From != 100 {
				t.Errorf("%s: second = %+v, want no change since 100", when, c)
			}
			if c := sums[2].Changes; c == nil || c.Summary() != "-1 connection" || c.RemovedLinks[0].Remote != "app02" || c.From != 200 {
				t.Errorf("%s: third = %+v, want -1 connection (app02) since 200", when, c)
			}
		}
		check("stored")
		if err := s.rdb.Del(ctx, summaryKey(300)).Err(); err != nil {
			t.Fatal(err)
		}
		check("summary lost")
	})
}

// The store itself keeps times at their newest, whatever the writer
// computed: on every kind of store, a write with older times (a backfill
// racing a newer run) leaves last_seen, last_connection, last_fetch and
// fetch_status as they were; a stored time ahead of the clock is
// replaced.
func TestHostileOlderWriteKeepsNewest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		data := func(ts int64, status string) NodeData {
			return NodeData{Node: Node{Name: "web01", LastFetch: ts, FetchStatus: status, IPs: []string{"10.0.0.1"}},
				Services:    []Service{{Port: 80, Process: "nginx", FirstSeen: ts, LastSeen: ts, LastConnection: ts}},
				Connections: []Connection{{Port: "80", Remote: "app01", Process: "nginx", Connections: 1, LastSeen: ts, LastConnection: ts, Direction: In}}}
		}
		check := func(when string, want int64, status string) {
			t.Helper()
			svcs, _ := s.Services(ctx, "web01")
			conns, _ := s.Connections(ctx, "web01")
			info, err := s.NodeInfo(ctx, []string{"web01"})
			if err != nil || len(svcs) != 1 || len(conns) != 1 {
				t.Fatalf("%s: %v %v %v", when, svcs, conns, err)
			}
			if svcs[0].LastSeen != want || svcs[0].LastConnection != want || conns[0].LastSeen != want ||
				conns[0].LastConnection != want || info[0].LastFetch != want || info[0].FetchStatus != status {
				t.Errorf("%s: service %+v, connection %+v, node %+v; want times %d and status %s", when, svcs[0], conns[0], info[0], want, status)
			}
		}
		now := time.Now().Unix()
		if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "web01"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteNodeData(ctx, data(now-60, "OK")); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteNodeData(ctx, data(now-3600, "OK")); err != nil {
			t.Fatal(err)
		}
		check("after an older write", now-60, "OK")
		if err := s.SetNodeStatus(ctx, "web01", now-3600, "connection refused"); err != nil {
			t.Fatal(err)
		}
		check("after an older failure", now-60, "OK")
		if err := s.SetNodeStatus(ctx, "web01", now-30, "connection refused"); err != nil {
			t.Fatal(err)
		}
		if info, _ := s.NodeInfo(ctx, []string{"web01"}); info[0].FetchStatus != "connection refused" || info[0].LastFetch != now-30 {
			t.Errorf("a newer failure was not recorded: %+v", info[0])
		}
		future := now + 86400
		if err := s.WriteNodeData(ctx, data(future, "OK")); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteNodeData(ctx, data(now, "OK")); err != nil {
			t.Fatal(err)
		}
		check("after a write from the future and one at the clock", now, "OK")
		if err := s.SetLastUpdated(ctx, now); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLastUpdated(ctx, now-3600); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.State(ctx); st.LastUpdated != now {
			t.Errorf("last_updated %d after a backfill, want %d", st.LastUpdated, now)
		}
		// The scripts are gone (a restarted server): the write loads them
		// again and succeeds.
		if err := s.rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteNodeData(ctx, data(now+1, "OK")); err != nil {
			t.Fatalf("write after SCRIPT FLUSH: %v", err)
		}
	})
}

func TestConfigSetExportImport(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		set := map[string]string{
			"service_port_whitelist":  "53,22,5666",
			"other_internal_networks": `["100.64.0.0/10"]`,
			"service_mapping":         `{"^Tomcat":"^java$","^HTTP":""}`,
			"nagios_instance":         `{"source":"/var/lib/nagios4/status.dat","password":"s3cret","use_aliases":true}`,
		}
		for name, in := range set {
			st, _ := domain.Lookup(name)
			v, err := st.ParseValue(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, st, v); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := s.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sv := range cfg {
			switch sv.Name {
			case "service_mapping":
				eff := sv.Value().Hash
				if eff["^Tomcat"] != "^java$" || eff["^HTTP"] != "" || eff["^Redis"] == "" {
					t.Errorf("mapping not merged over presets: %v", eff)
				}
			case "nagios_instance":
				if got := sv.Text(sv.Value()); strings.Contains(got, "s3cret") || !strings.Contains(got, domain.Mask) {
					t.Errorf("secret shown: %s", got)
				}
				if sv.Value().Hash["expire"] != "86400" || sv.Value().Hash["use_aliases"] != "1" {
					t.Errorf("nagios_instance = %v", sv.Value().Hash)
				}
			case "aging":
				if sv.IsSet {
					t.Error("aging reported set")
				}
			}
		}

		masked, err := s.ExportConfig(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(masked), "s3cret") {
			t.Errorf("export shows the secret:\n%s", masked)
		}
		full, _ := s.ExportConfig(ctx, true)
		if !strings.Contains(string(full), "s3cret") {
			t.Errorf("export with secrets lacks it:\n%s", full)
		}
		// Importing the masked export keeps the stored password and gives
		// byte-identical exports.
		if err := s.ImportConfig(ctx, masked); err != nil {
			t.Fatal(err)
		}
		again, _ := s.ExportConfig(ctx, true)
		if string(again) != string(full) {
			t.Errorf("round trip changed the export:\n%s\nwant\n%s", again, full)
		}
		// A bad import changes nothing.
		before, _ := s.ExportConfig(ctx, true)
		err = s.ImportConfig(ctx, []byte(`{"aging":{"Services":600},"service_port_whitelist":"abc"}`))
		if err == nil {
			t.Fatal("bad import accepted")
		}
		if after, _ := s.ExportConfig(ctx, true); string(after) != string(before) {
			t.Errorf("bad import changed settings:\n%s", after)
		}
	})
}

// Settings as the original dotm stored them are read (space-separated
// networks, as one string or one list element) or refused with the fix
// (its nagios_instance.url field), never silently ignored.
func TestLoadConfOriginalForms(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		nets := configKey("other_internal_networks")
		has := func(c *domain.Conf, cidrs ...string) bool {
			for _, want := range cidrs {
				if !slices.Contains(c.InternalNets, netip.MustParsePrefix(want)) {
					return false
				}
			}
			return true
		}
		s.rdb.Set(ctx, nets, "100.64.0.0/10 198.18.0.0/15", 0)
		c, err := s.LoadConf(ctx)
		if err != nil || !has(c, "100.64.0.0/10", "198.18.0.0/15") {
			t.Errorf("networks as one string: %v, %v", c, err)
		}
		s.rdb.Del(ctx, nets)
		s.rdb.RPush(ctx, nets, "100.64.0.0/10 198.18.0.0/15", "203.0.113.0/24")
		c, err = s.LoadConf(ctx)
		if err != nil || !has(c, "100.64.0.0/10", "198.18.0.0/15", "203.0.113.0/24") {
			t.Errorf("networks as list elements with spaces: %v, %v", c, err)
		}
		s.rdb.RPush(ctx, nets, "intranet")
		if _, err := s.LoadConf(ctx); err == nil || !strings.Contains(err.Error(), `"intranet" is not a network`) ||
			!strings.Contains(err.Error(), "dotm config unset other_internal_networks") {
			t.Errorf("a stored network that does not parse: %v", err)
		}
		s.rdb.Del(ctx, nets)
		s.rdb.HSet(ctx, configKey("nagios_instance"), "url", "http://mon.example.com/cgi-bin/icinga", "user", "dotm")
		if _, err := s.LoadConf(ctx); err == nil || !strings.Contains(err.Error(), `field "url" (the original dotm's cgi-bin URL; this dotm reads "source"`) ||
			!strings.Contains(err.Error(), "dotm config set nagios_instance '") {
			t.Errorf("the original's nagios_instance.url: %v", err)
		}
	})
}

// A record of the wrong type or with a value that does not parse is
// skipped and named; everything else is read.
func TestHostileBadStoreData(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		plantBadData(t, s)
		cur, err := s.ReadCurrent(ctx)
		if err != nil {
			t.Fatalf("ReadCurrent failed for the whole fleet: %v", err)
		}
		if !slices.Equal(cur.Nodes, []string{"web01", "db01", "app01"}) {
			t.Errorf("nodes = %v, want each once", cur.Nodes)
		}
		got := map[string]string{}
		for _, p := range cur.Problems {
			got[p.Key] += p.Error() + "\n"
			if !strings.HasPrefix(p.Error(), "key "+p.Key+" skipped: ") {
				t.Errorf("problem %q does not name its key first", p.Error())
			}
		}
		for k, want := range badKeys {
			if !strings.Contains(got[k], want) {
				t.Errorf("problem of %s = %q, want it to say %q", k, got[k], want)
			}
		}
		if len(got) != len(badKeys) {
			t.Errorf("problems for %d keys, want %d: %v", len(got), len(badKeys), got)
		}
		// The neighbours of each bad record are all there.
		for _, n := range []string{"web01", "db01", "app01"} {
			if !slices.ContainsFunc(cur.Services, func(sv Service) bool { return sv.Node == n && sv.Port == 22 && sv.LastSeen == 1000 }) {
				t.Errorf("service %s:22 lost: %+v", n, cur.Services)
			}
			if !slices.ContainsFunc(cur.Connections, func(c Connection) bool { return c.Node == n && c.Port == "22" && c.Connections == 1 }) {
				t.Errorf("connection %s:22 lost: %+v", n, cur.Connections)
			}
		}
		if len(cur.Services) != 3 || len(cur.Connections) != 3 {
			t.Errorf("%d services, %d connections; want the 3 good ones of each", len(cur.Services), len(cur.Connections))
		}
		if c := cur.Checks["web01"]; c.Node.Status != "UP" || len(c.Services) != 1 || c.Services[0].Service != "SSH" {
			t.Errorf("web01 checks = %+v, want the node check and the one good service check", c)
		}
		if c, ok := cur.Checks["app01"]; !ok || c.Node.Status != "" || len(c.Services) != 2 {
			t.Errorf("app01 checks = %+v, want its service checks without the bad node check", c)
		}
		if c := cur.Checks["db01"]; c.Node.Status != "UP" || len(c.Services) != 0 {
			t.Errorf("db01 checks = %+v, want the node check only", c)
		}
		if len(cur.Infos) != 3 || cur.Infos[2].Name != "app01" || cur.Infos[0].LastFetch != 1000 {
			t.Errorf("node infos = %+v", cur.Infos)
		}
		// The single readers skip the same records.
		if svcs, err := s.Services(ctx, "db01"); err != nil || len(svcs) != 1 {
			t.Errorf("Services(db01) = %v, %v", svcs, err)
		}
		if res, err := s.Resolver(ctx); err != nil || res["10.0.0.1"] != "db01" || len(res) != 1 {
			t.Errorf("Resolver = %v, %v", res, err)
		}
		if _, _, ok, err := s.Checks(ctx, "web01"); err != nil || !ok {
			t.Errorf("Checks(web01): ok %v, %v", ok, err)
		}
	})
}

// A dotm::nodes of another type cannot be skipped: it is a data error
// that names the key and the fix, not a store that failed.
func TestHostileBadNodeList(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.rdb.Set(ctx, "dotm::nodes", "web01", 0).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := s.ReadCurrent(ctx)
		if err == nil || !DataError(err) || !strings.Contains(err.Error(), "key dotm::nodes") ||
			!strings.Contains(err.Error(), "dotm nodes add") {
			t.Errorf("err = %v, want a data error naming dotm::nodes and the fix", err)
		}
	})
}

// A snapshot that is not gzip JSON is named and left out; the other
// snapshots are read.
func TestHostileBadSnapshot(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, ts := range []int64{100, 200, 300} {
			a := &domain.Architecture{Version: domain.ArchitectureVersion, Time: ts, Nodes: []string{"web01"}}
			if err := s.SaveSnapshot(ctx, a, 0); err != nil {
				t.Fatal(err)
			}
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(s.rdb.Set(ctx, snapshotKey(200), "not gzip", 0).Err())
		must(s.rdb.Set(ctx, summaryKey(200), "not gzip either", 0).Err())
		must(s.rdb.Del(ctx, snapshotKey(300)).Err())
		must(s.rdb.HSet(ctx, snapshotKey(300), "a", "hash").Err())
		must(s.rdb.Del(ctx, summaryKey(300)).Err())
		sums, bad, err := s.SnapshotSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(sums) != 1 || sums[0].Time != 100 {
			t.Errorf("summaries = %+v, want the one of 100", sums)
		}
		var keys []string
		for _, b := range bad {
			var p Problem
			if !DataError(b) || !errors.As(b, &p) {
				t.Errorf("bad %v is not a Problem", b)
				continue
			}
			keys = append(keys, p.Key)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"dotm::history::200", "dotm::history::300"}) {
			t.Errorf("bad snapshots named %v (%v)", keys, bad)
		}
		if err := s.rdb.Set(ctx, "dotm::history", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
		sums, bad, err = s.SnapshotSummaries(ctx)
		if err != nil || len(sums) != 0 || len(bad) != 1 || !strings.Contains(bad[0].Error(), "key dotm::history ") {
			t.Errorf("history of another type: %v, %v, %v; want one problem naming dotm::history", sums, bad, err)
		}
	})
}
