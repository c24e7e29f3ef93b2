package store

import (
	"context"
	"testing"

	"github.com/lwindolf/dotm/domain"
)

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
