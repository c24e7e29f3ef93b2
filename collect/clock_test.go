package collect

import (
	"context"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/store"
)

// stores runs fn against a real redis-server and the embedded store.
func stores(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("redis", func(t *testing.T) { fn(t, openRedis(t)) })
	t.Run("embedded", func(t *testing.T) { fn(t, openEmbeddedT(t)) })
}

// serveRun collects fleet into s once, as of now.
func serveRun(t *testing.T, s *store.Store, fleet *simfleet.Fleet, now time.Time) Summary {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	wait, err := fleet.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); wait() }()
	sum, err := Run(context.Background(), s, Options{Now: now, Timeout: 5 * time.Second})
	if err != nil || sum.Problems() {
		t.Fatalf("run at %s: %s, %v", now, sum, err)
	}
	return sum
}

// TestHostileBackfill collects a fleet, then backfills with an hour
// earlier --now: no last_seen, last_connection, last_fetch nor
// last_updated goes back. A run from the future (within --now's window)
// is corrected by the next run instead of holding its times.
func TestHostileBackfill(t *testing.T) {
	stores(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		fleet := simfleet.Generate(10, 17, montest.FleetPort(t))
		if err := fleet.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
		check := func(when string, want int64) {
			t.Helper()
			svcs, err := s.Services(ctx, "")
			if err != nil || len(svcs) == 0 {
				t.Fatalf("%s: %d services, %v", when, len(svcs), err)
			}
			for _, sv := range svcs {
				if sv.LastSeen != want || sv.LastConnection > want {
					t.Fatalf("%s: service %s:%d last_seen %d, last_connection %d; want %d", when, sv.Node, sv.Port,
						sv.LastSeen, sv.LastConnection, want)
				}
			}
			conns, err := s.Connections(ctx, "")
			if err != nil || len(conns) == 0 {
				t.Fatalf("%s: %d connections, %v", when, len(conns), err)
			}
			for _, c := range conns {
				if c.LastSeen != want || c.LastConnection != want {
					t.Fatalf("%s: connection %s %s:%s last_seen %d, last_connection %d; want %d", when, c.Node, c.Remote, c.Port,
						c.LastSeen, c.LastConnection, want)
				}
			}
			names, _ := s.Nodes(ctx)
			info, err := s.NodeInfo(ctx, names)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range info {
				if n.LastFetch != want || n.FetchStatus != "OK" {
					t.Fatalf("%s: node %s last_fetch %d (%s), want %d", when, n.Name, n.LastFetch, n.FetchStatus, want)
				}
			}
			if st, err := s.State(ctx); err != nil || st.LastUpdated != want {
				t.Fatalf("%s: last_updated %d, %v; want %d", when, st.LastUpdated, err, want)
			}
		}
		t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
		serveRun(t, s, fleet, t0)
		check("first run", t0.Unix())
		serveRun(t, s, fleet, t0.Add(-time.Hour))
		check("after a backfill an hour earlier", t0.Unix())

		ahead := time.Now().Add(20 * time.Hour).Truncate(time.Second)
		serveRun(t, s, fleet, ahead)
		check("a run 20 hours ahead", ahead.Unix())
		t1 := time.Now().Truncate(time.Second)
		serveRun(t, s, fleet, t1)
		check("the next run at the clock", t1.Unix())
	})
}

// TestHostileFutureRunKeepsHistory keeps a week of hourly-spaced history
// and a connection gone for an hour, then collects with a time 23 hours
// ahead (within --now's window) and a year ahead (a clock that jumped):
// neither forgets a snapshot, nor the connection, which the expire
// setting keeps for a day.
func TestHostileFutureRunKeepsHistory(t *testing.T) {
	stores(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		setConfig(t, s, "history", `{"enabled":"1","interval":"600","expire":"604800"}`)
		setConfig(t, s, "expire", `{"Services":"0","Connections":"1","Nagios Alerts":"0"}`)
		fleet := simfleet.Generate(10, 3, montest.FleetPort(t))
		if err := fleet.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
		wall := time.Now().Truncate(time.Second)
		var kept []int64
		for _, age := range []time.Duration{156 * time.Hour, 100 * time.Hour, 30 * time.Hour, 2 * time.Hour} {
			serveRun(t, s, fleet, wall.Add(-age))
			kept = append(kept, wall.Add(-age).Unix())
		}
		web := fleet.Lookup("web01")
		app := web.Out[0].To.Name
		fleet.Disconnect("web01", app)
		serveRun(t, s, fleet, wall.Add(-time.Hour))
		kept = append(kept, wall.Add(-time.Hour).Unix())

		for _, ahead := range []time.Duration{23 * time.Hour, 365 * 24 * time.Hour} {
			sum := serveRun(t, s, fleet, wall.Add(ahead))
			if !sum.Snapshot {
				t.Fatalf("run %s ahead took no snapshot", ahead)
			}
			kept = append(kept, wall.Add(ahead).Unix())
			h, err := s.History(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != len(kept) {
				t.Fatalf("after a run %s ahead: history %v, want all of %v", ahead, h, kept)
			}
			for _, ts := range kept {
				if _, ok, err := s.Snapshot(ctx, ts); !ok || err != nil {
					t.Errorf("after a run %s ahead: snapshot %d gone (%v)", ahead, ts, err)
				}
			}
			conns, err := s.Connections(ctx, "web01")
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range conns {
				found = found || c.Port == "8080" && c.Remote == app
			}
			if !found {
				t.Errorf("after a run %s ahead: web01's connection to %s, last seen an hour ago, was forgotten", ahead, app)
			}
		}
	})
}
