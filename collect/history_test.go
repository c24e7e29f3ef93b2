package collect

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/store"
)

// BenchmarkSnapshot2000 collects a simulated fleet of 2,000 hosts once and
// measures taking a history snapshot of it: the time, and the bytes one
// snapshot stores (a week of hourly snapshots is 168 of them).
//
//	go test -run '^$' -bench BenchmarkSnapshot2000 -benchtime 5x ./collect/
func BenchmarkSnapshot2000(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fleet := simfleet.Generate(2000, 1, montest.FleetPort(b))
	if err := fleet.Register(ctx, st); err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	wait, err := fleet.Serve(sctx)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := Run(ctx, st, Options{Now: time.Unix(1795000000, 0)})
	stop()
	wait()
	if err != nil || sum.Problems() {
		b.Fatalf("%s, %v", sum, err)
	}
	b.ResetTimer()
	var size int
	for i := range b.N {
		cur, err := st.ReadCurrent(ctx)
		if err != nil {
			b.Fatal(err)
		}
		a := cur.Architecture(1795000000 + int64(i+1)*3600)
		if err := st.SaveSnapshot(ctx, a, 0); err != nil {
			b.Fatal(err)
		}
		doc, _, err := st.Snapshot(ctx, a.Time)
		if err != nil {
			b.Fatal(err)
		}
		size = len(doc)
	}
	b.ReportMetric(float64(size), "bytes/snapshot")
}

// Old data goes after the expire setting's days; snapshots after the
// history setting's expire; both only as time passes, on a real Redis and
// on the embedded store.
func TestExpireAndSnapshotRotation(t *testing.T) { stores(t, expireAndSnapshotRotation) }

func expireAndSnapshotRotation(t *testing.T, s *store.Store) {
	ctx := context.Background()
	setConfig(t, s, "expire", `{"Services":"0","Connections":"1","Nagios Alerts":"0"}`)
	setConfig(t, s, "history", `{"enabled":"1","interval":"600","expire":"86400"}`)
	fleet := simfleet.Generate(10, 3, montest.FleetPort(t))
	if err := fleet.Register(ctx, s); err != nil {
		t.Fatal(err)
	}
	web := fleet.Lookup("web01")
	app := web.Out[0].To.Name
	round := func(now int64) {
		t.Helper()
		sctx, stop := context.WithCancel(ctx)
		wait, err := fleet.Serve(sctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { stop(); wait() }()
		sum, err := Run(ctx, s, Options{Now: time.Unix(now, 0)})
		if err != nil || !sum.Snapshot {
			t.Fatalf("%s (snapshot %v), %v", sum, sum.Snapshot, err)
		}
		// The snapshot, built from what the run wrote, is what the store
		// holds.
		snap, ok, err := s.LoadSnapshot(ctx, now)
		if err != nil || !ok {
			t.Fatalf("snapshot %d: %v %v", now, ok, err)
		}
		cur, err := s.ReadCurrent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := snap.MarshalCanonical(), cur.Architecture(now).MarshalCanonical(); !bytes.Equal(got, want) {
			t.Errorf("snapshot at %d differs from the store:\n%s\nwant\n%s", now, got, want)
		}
	}
	has := func() bool {
		t.Helper()
		conns, err := s.Connections(ctx, "web01")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range conns {
			if c.Port == "8080" && c.Remote == app {
				return true
			}
		}
		return false
	}
	const t0 = 1795000000
	round(t0)
	fleet.Disconnect("web01", app)
	fleet.Hosts[len(fleet.Hosts)-1].Garbage = true // a failed node keeps its last picture
	round(t0 + 3600)                               // gone from the fleet, but not a day yet: kept
	if !has() {
		t.Fatal("a connection not seen for an hour was deleted; expire is one day")
	}
	round(t0 + 86400 + 1) // more than a day since it was last seen
	if has() {
		t.Error("a connection not seen for more than a day is still stored")
	}
	h, err := s.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{t0 + 3600, t0 + 86400 + 1}; len(h) != 2 || h[0] != want[0] || h[1] != want[1] {
		t.Errorf("history = %v, want %v (the first snapshot is past the history expire)", h, want)
	}
}
