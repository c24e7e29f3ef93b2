package store

import (
	"context"
	"testing"
	"time"

	"github.com/lwindolf/dotm/domain"
)

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

func TestRetentionTime(t *testing.T) {
	const day = 86400
	clock := int64(1796000000)
	for _, tc := range []struct {
		name           string
		t, clock, prev int64
		want           int64
	}{
		{"normal run", clock, clock, clock - 600, clock},
		{"--now a day ahead", clock + day, clock, clock - 600, clock},
		{"backfill", clock - 10*day, clock, clock - 600, clock - 10*day},
		{"clock jumped a year", clock + 365*day, clock + 365*day, clock, clock + day},
		{"first run", clock, clock, 0, clock},
		{"after a week without runs", clock, clock, clock - 7*day, clock - 6*day},
	} {
		if got := RetentionTime(tc.t, tc.clock, tc.prev); got != tc.want {
			t.Errorf("%s: RetentionTime = %d, want %d", tc.name, got, tc.want)
		}
	}
}
