package collect

import (
	"context"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
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
	fleet := simfleet.Generate(2000, 1, 14857) // its own agent port
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
