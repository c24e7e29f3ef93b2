package collect

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

// BenchmarkWrite2000 fetches a simulated fleet of 2,000 hosts (150
// sockets each on average) once, then measures aggregating and writing
// it, into a real redis-server and into the embedded store, with one node
// written at a time and with writers at once. The first write of each
// goes into an empty store, the later ones over the data written before.
//
//	go test -run '^$' -bench BenchmarkWrite2000 -benchtime 3x ./collect/
func BenchmarkWrite2000(b *testing.B) {
	ctx := context.Background()
	fleet := simfleet.Generate(2000, 1, montest.FleetPort(b))
	fleet.Densify(150)
	reg, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	if err := fleet.Register(ctx, reg); err != nil {
		b.Fatal(err)
	}
	conf, err := reg.LoadConf(ctx)
	if err != nil {
		b.Fatal(err)
	}
	names, err := reg.Nodes(ctx)
	if err != nil {
		b.Fatal(err)
	}
	info, err := reg.NodeInfo(ctx, names)
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	wait, err := fleet.Serve(sctx)
	if err != nil {
		b.Fatal(err)
	}
	hosts, failed := fetchAll(ctx, info, conf, Options{Timeout: time.Minute, Concurrency: 64, Fetchers: fetchers})
	stop()
	wait()
	if len(failed) > 0 {
		b.Fatalf("%d hosts failed, the first: %v", len(failed), failed[0])
	}
	defer func(w int) { writers = w }(writers)
	for _, kind := range []string{"redis", "embedded"} {
		for _, w := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", kind, w), func(b *testing.B) {
				writers = w
				o := store.Options{DataDir: b.TempDir()}
				if kind == "redis" {
					o = store.Options{URL: redistest.Start(b).URL()}
				}
				st, err := store.Open(ctx, o)
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				for b.Loop() {
					tm := runTimes{now: time.Now().Unix(), clock: time.Now().Unix()}
					if _, err := write(ctx, st, conf, maps.Clone(hosts), nil, tm); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
