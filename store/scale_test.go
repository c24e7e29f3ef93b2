package store

import (
	"context"
	"fmt"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/lwindolf/dotm/internal/redistest"
)

// TestTenThousandHosts writes the data of 10,000 hosts (15 records each,
// as a host's 150 sockets aggregate) and reads every service and
// connection back on the default settings: no read may be one pipeline
// that grows with the fleet and outlasts the client's socket deadline. Not
// a timing test; BENCHMARKS.md has the figures.
func TestTenThousandHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 150,000 records")
	}
	const hosts, services, conns = 10_000, 3, 12
	run := func(t *testing.T, s *Store) {
		ctx := context.Background()
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for h := range hosts {
			g.Go(func() error {
				d := NodeData{Node: Node{Name: fmt.Sprintf("host%05d", h), LastFetch: 1000, FetchStatus: "OK"}}
				for i := range services {
					d.Services = append(d.Services, Service{Port: 8000 + i, Process: "java", FirstSeen: 1000, LastSeen: 1000, Age: "fresh"})
				}
				for i := range conns {
					d.Connections = append(d.Connections, Connection{Port: fmt.Sprint(9000 + i),
						Remote: fmt.Sprintf("host%05d", (h+i+1)%hosts), Process: "java", Connections: 2,
						FirstSeen: 1000, LastSeen: 1000, Direction: Out})
				}
				return s.WriteNodeData(gctx, d)
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		svcs, err := s.Services(ctx, "")
		if err != nil || len(svcs) != hosts*services {
			t.Fatalf("read %d services, want %d: %v", len(svcs), hosts*services, err)
		}
		cs, err := s.Connections(ctx, "")
		if err != nil || len(cs) != hosts*conns {
			t.Fatalf("read %d connections, want %d: %v", len(cs), hosts*conns, err)
		}
	}
	t.Run("redis-server", func(t *testing.T) { run(t, openT(t, Options{URL: redistest.Start(t).URL()})) })
	t.Run("embedded", func(t *testing.T) { run(t, openT(t, Options{DataDir: t.TempDir()})) })
}
