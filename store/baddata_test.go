package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
)

// badKeys are the records plantBadData spoils, each with a word its
// Problem must name.
var badKeys = map[string]string{
	"dotm::services::db01::5432":             "another Redis type",
	"dotm::services::web01::443":             "last_seen",
	"dotm::connections::web01::8080::app01":  "connections",
	"dotm::connections::web01::9000":         "not of the form",
	"dotm::checks::nodes::app01":             "JSON",
	"dotm::checks::services::web01":          "item 1",
	"dotm::nodes":                            "web01",
	"dotm::nodes::app01":                     "another Redis type",
	"dotm::checks::services::db01":           "another Redis type",
	"dotm::connections::db01::5432::web01":   "first_seen",
	"dotm::services::app01::notaport":        "not of the form",
	"dotm::connections::app01::8080::db01":   "last_connection",
	"dotm::connections::app01::5432::db01":   "another Redis type",
	"dotm::services::web01::8443":            "first_seen",
	"dotm::connections::web01::80::Internet": "out of range",
}

// plantBadData stores a small fleet through the store's own writers, then
// spoils records next to good ones with raw Redis commands, as a clumsy
// operator or another tool would.
func plantBadData(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "web01"}, {Name: "db01"}, {Name: "app01"}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"web01", "db01", "app01"} {
		d := NodeData{Node: Node{Name: n, LastFetch: 1000, FetchStatus: "OK"},
			Services:    []Service{{Port: 22, Process: "sshd", FirstSeen: 900, LastSeen: 1000}},
			Connections: []Connection{{Port: "22", Remote: "10.0.0.1", Process: "sshd", Connections: 1, FirstSeen: 900, LastSeen: 1000, Direction: In}}}
		if err := s.WriteNodeData(ctx, d); err != nil {
			t.Fatal(err)
		}
		nc := NodeCheck{Node: n, Status: "UP"}
		checks := []ServiceCheck{{Node: n, Service: "SSH", Status: "OK"}, {Node: n, Service: "Load", Status: "WARNING"}}
		if err := s.SetChecks(ctx, nc, checks, 0); err != nil {
			t.Fatal(err)
		}
	}
	r := s.rdb
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Set(ctx, "dotm::services::db01::5432", "a string", 0).Err())
	must(r.HSet(ctx, "dotm::services::web01::443", "process", "nginx", "last_seen", "yesterday").Err())
	must(r.HSet(ctx, "dotm::services::web01::8443", "process", "nginx", "first_seen", "1e9").Err())
	must(r.HSet(ctx, "dotm::services::app01::notaport", "process", "x").Err())
	must(r.HSet(ctx, "dotm::connections::web01::8080::app01", "process", "nginx", "connections", "many").Err())
	must(r.HSet(ctx, "dotm::connections::web01::80::Internet", "process", "nginx", "connections", "99999999999").Err())
	must(r.HSet(ctx, "dotm::connections::web01::9000", "process", "x", "connections", "1").Err())
	must(r.HSet(ctx, "dotm::connections::db01::5432::web01", "first_seen", "-").Err())
	must(r.HSet(ctx, "dotm::connections::app01::8080::db01", "last_connection", "0x10").Err())
	must(r.RPush(ctx, "dotm::connections::app01::5432::db01", "a list").Err())
	must(r.RPush(ctx, "dotm::nodes", "web01").Err()) // a duplicate
	must(r.Set(ctx, "dotm::checks::nodes::app01", "{not json", 0).Err())
	must(r.LSet(ctx, "dotm::checks::services::web01", 1, "[[[").Err())
	must(r.Del(ctx, "dotm::checks::services::db01").Err())
	must(r.HSet(ctx, "dotm::checks::services::db01", "a", "hash").Err())
	must(r.Del(ctx, "dotm::nodes::app01").Err())
	must(r.SAdd(ctx, "dotm::nodes::app01", "a set").Err())
	must(r.HSet(ctx, "dotm::resolver::ip_to_node::10.0.0.9", "a", "hash").Err())
	must(r.Set(ctx, "dotm::resolver::ip_to_node::10.0.0.1", "db01", 0).Err())
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

// A store that does not answer is a store failure, never taken for bad
// data of one key.
func TestStoreFailureIsNoDataError(t *testing.T) {
	srv := redistest.Start(t)
	s := openT(t, Options{URL: srv.URL()})
	plantBadData(t, s)
	srv.Stop()
	_, err := s.ReadCurrent(context.Background())
	if err == nil || DataError(err) {
		t.Errorf("read from a stopped server: err = %v, want a store failure", err)
	}
	if _, _, err := s.SnapshotSummaries(context.Background()); err == nil {
		t.Error("snapshot summaries from a stopped server: no error")
	}
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
