package store

import (
	"context"
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
