package collect

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

// TestHostileStoreKilled kills Redis (-9) while a collect run writes. The
// run fails with a message that names the store and what to do; after a
// restart (from its append-only file, fsynced at every write) every node
// holds its data from before or all of its new data, never a mix; the
// dead run's lock expires and the next run completes normally.
func TestHostileStoreKilled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Options{URL: srv.URL()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open()
	fleet := simfleet.Generate(150, 5, montest.FleetPort(t))
	if err := fleet.Register(ctx, s); err != nil {
		t.Fatal(err)
	}
	wait, err := fleet.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wait()
	defer cancel()
	if sum, err := Run(ctx, s, Options{Now: time.Unix(1000, 0)}); err != nil || sum.Problems() {
		t.Fatalf("round 1: %s %v", sum, err)
	}

	// Round 2: once every node is fetched, watch the first node in write
	// order and kill Redis as soon as its new data is there.
	first := fleet.Hosts[0].Name
	for _, h := range fleet.Hosts {
		first = min(first, h.Name)
	}
	watcher := open()
	killed := make(chan struct{})
	progress := func(done, total int) {
		if done < total {
			return
		}
		go func() {
			defer close(killed)
			for range 10_000 {
				info, err := watcher.NodeInfo(ctx, []string{first})
				if err == nil && info[0].LastFetch == 2000 {
					break
				}
			}
			srv.Stop()
		}()
	}
	_, err = Run(ctx, s, Options{Now: time.Unix(2000, 0), Progress: progress, LockTTL: 2 * time.Second})
	<-killed
	if err == nil || !strings.Contains(err.Error(), "the store ("+s.Where()+") failed during the run") ||
		!strings.Contains(err.Error(), "run collect again once the store answers") {
		t.Fatalf("run with Redis killed: err %v, want one naming the store and what to do", err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	s = open()
	names, _ := s.Nodes(ctx)
	info, err := s.NodeInfo(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	fresh := 0
	for _, n := range info {
		if n.LastFetch != 1000 && n.LastFetch != 2000 {
			t.Errorf("node %s: last_fetch %d, from neither run", n.Name, n.LastFetch)
		}
		if n.LastFetch == 2000 {
			fresh++
		}
		svcs, _ := s.Services(ctx, n.Name)
		for _, sv := range svcs {
			if sv.LastSeen != n.LastFetch {
				t.Errorf("node %s is half-written: fetched at %d, service %d last seen at %d",
					n.Name, n.LastFetch, sv.Port, sv.LastSeen)
			}
		}
		conns, _ := s.Connections(ctx, n.Name)
		for _, c := range conns {
			if c.LastSeen != n.LastFetch {
				t.Errorf("node %s is half-written: fetched at %d, connection %s:%s last seen at %d",
					n.Name, n.LastFetch, c.Remote, c.Port, c.LastSeen)
			}
		}
	}
	t.Logf("killed after %d of %d nodes were written", fresh, len(info))

	// The dead run's lock is still there, and holds the next runs off
	// until it expires.
	if st, err := s.State(ctx); err != nil || st.Fields["update_running"] != "1" {
		t.Errorf("state after the crash: %v %v; want the dead run's lock left in it", st.Fields, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := s.State(ctx)
		if err == nil && !st.UpdateRunning || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	sum, err := Run(ctx, s, Options{Now: time.Unix(3000, 0)})
	if err != nil || sum.Skipped || sum.Problems() || sum.Fetched != len(fleet.Hosts) {
		t.Fatalf("run after the lock expired: %s %v", sum, err)
	}
	checkFleet(t, s, fleet)
}

// TestHostileOverlappingRuns starts two collect runs at once: one runs,
// the other steps aside without writing, so no node's writes interleave.
func TestHostileOverlappingRuns(t *testing.T) {
	ctx := context.Background()
	s := openRedis(t)
	answer := validAnswer(t, "slow", 1)
	addr := hostileAgent(t, func(c net.Conn) { time.Sleep(time.Second); c.Write(answer) })
	if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "slow", Address: addr, Method: "agent"}}); err != nil {
		t.Fatal(err)
	}
	sums := make(chan Summary, 2)
	for i := range 2 {
		go func() {
			sum, err := Run(ctx, s, Options{Now: time.Unix(int64(1000*(i+1)), 0)})
			if err != nil {
				t.Error(err)
			}
			sums <- sum
		}()
	}
	a, b := <-sums, <-sums
	if a.Skipped == b.Skipped {
		t.Fatalf("two runs at once: %q and %q; want exactly one to step aside", a, b)
	}
	ran := a
	if a.Skipped {
		ran = b
	}
	info, _ := s.NodeInfo(ctx, []string{"slow"})
	if ran.Fetched != 1 || info[0].FetchStatus != "OK" {
		t.Errorf("the run that ran: %s; node %+v", ran, info[0])
	}
}
