package collect

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
	"github.com/redis/go-redis/v9"
)

// TestHostileOutOfMemory runs collect against a real redis-server that
// runs out of memory (noeviction) while the run writes: once every node
// is fetched, another client stores 2 MiB, as a neighbour on a shared
// Redis would, and maxmemory drops to 1 MiB below what Redis then uses. The run fails naming the store; its lock is
// released although Redis refuses every HSET then, so once memory is
// freed the very next run collects, instead of stepping aside for 15
// minutes.
func TestHostileOutOfMemory(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t, "--maxmemory-policy", "noeviction")
	s, err := store.Open(ctx, store.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	neighbour := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { neighbour.Close() })
	answer := validAnswer(t, "web01", 20)
	for _, name := range []string{"web01", "web02", "web03"} {
		addr := hostileAgent(t, func(c net.Conn) { c.Write(answer) })
		if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: name, Address: addr, Method: "agent"}}); err != nil {
			t.Fatal(err)
		}
	}
	fill := func(done, total int) {
		if done < total {
			return
		}
		if err := neighbour.Set(ctx, "junk", strings.Repeat("x", 2<<20), 0).Err(); err != nil {
			t.Errorf("fill Redis: %v", err)
		}
		info, err := neighbour.InfoMap(ctx, "memory").Result()
		if err != nil {
			t.Errorf("read Redis memory: %v", err)
			return
		}
		limit := atoi(info["Memory"]["used_memory"]) - 1<<20
		if err := neighbour.ConfigSet(ctx, "maxmemory", strconv.Itoa(limit)).Err(); err != nil {
			t.Errorf("limit Redis memory: %v", err)
		}
	}
	_, err = Run(ctx, s, Options{Now: time.Unix(1795000000, 0), Progress: fill})
	if err == nil || !strings.Contains(err.Error(), "the store ("+s.Where()+") failed during the run") {
		t.Fatalf("run with Redis out of memory: %v; want an error naming the store", err)
	}
	if st, err := s.State(ctx); err != nil || st.UpdateRunning {
		t.Errorf("after the failed run: state %v, %v; want the update lock released", st.Fields, err)
	}
	if err := neighbour.Del(ctx, "junk").Err(); err != nil { // the operator frees memory
		t.Fatal(err)
	}
	sum, err := Run(ctx, s, Options{Now: time.Unix(1795000600, 0)})
	if err != nil || sum.Skipped || sum.Fetched != 3 {
		t.Fatalf("the next run, memory freed: %s, %v; want all 3 nodes collected", sum, err)
	}
}

// A run that finds the update lock held says by which host and process,
// since when and until when.
func TestLockHolderNamed(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *store.Store{"redis": openRedis, "embedded": openEmbeddedT} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			lock, _, err := s.LockUpdate(ctx, time.Hour)
			if err != nil || lock == nil {
				t.Fatalf("take the lock: %v", err)
			}
			sum, err := Run(ctx, s, Options{})
			if err != nil || !sum.Skipped || sum.Holder == nil {
				t.Fatalf("run while the lock is held: %+v, %v", sum, err)
			}
			host, _ := os.Hostname()
			taken := sum.Holder.Since
			msg := sum.skipped(taken.Add(20 * time.Minute))
			for _, want := range []string{fmt.Sprintf("held by %s pid %d", host, os.Getpid()), "since " + stamp(sum.Holder.Since),
				"(20m0s ago", "lapsing at " + stamp(sum.Holder.Until)} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if age := sum.LockAge(taken.Add(20 * time.Minute)); age < 19*time.Minute || age > 21*time.Minute {
				t.Errorf("lock age %s, want about 20m", age)
			}
			if err := lock.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
			if sum, err := Run(ctx, s, Options{Fetchers: map[string]FetchFunc{}}); err != nil || sum.Skipped {
				t.Errorf("run after the holder released the lock: %s, %v", sum, err)
			}
		})
	}
}

// openEmbeddedT opens an embedded store in a temporary directory.
func openEmbeddedT(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The summary of a run where 100,000 nodes failed is one short line: the
// first nodes named, the rest counted, and where to see them all.
func TestSummaryBounded(t *testing.T) {
	sum := Summary{Nodes: 100_000, Elapsed: time.Second}
	for i := range 100_000 {
		sum.Failed = append(sum.Failed, Failure{Node: fmt.Sprintf("node%06d", i),
			Err: fmt.Sprintf("agent 127.0.0.1:%d: connect: connection refused", 1024+i%60000)})
	}
	line := sum.String()
	if len(line) > 1500 || strings.Count(line, "connection refused") != MaxNamed {
		t.Fatalf("summary of 100,000 failed nodes is %d bytes naming %d: %.300q", len(line),
			strings.Count(line, "connection refused"), line)
	}
	for _, want := range []string{"; 100000 failed: node000000 (", "node000009 (", " and 99990 more (", "dotm report --format json, fetch_errors"} {
		if !strings.Contains(line, want) {
			t.Errorf("summary %q lacks %q", line, want)
		}
	}
	sum.Failed = sum.Failed[:2]
	if line := sum.String(); strings.Contains(line, "more") || !strings.HasSuffix(line, "node000001 (agent 127.0.0.1:1025: connect: connection refused)") {
		t.Errorf("summary of 2 failures: %q, want both named and nothing counted", line)
	}
}

// A thousand nodes answering as one host each get a status naming a few
// of the others and counting the rest, not a thousand names each.
func TestTwinsBounded(t *testing.T) {
	hosts := map[string]*netinfo.Host{}
	for i := range 1000 {
		hosts[fmt.Sprintf("copy%04d", i)] = &netinfo.Host{Hostname: "web01", Interfaces: iface("10.0.0.1/24")}
	}
	status := twins(hosts)
	if len(status) != 1000 {
		t.Fatalf("%d twin statuses, want 1000", len(status))
	}
	for n, st := range status {
		if len(st) > 400 || strings.Contains(st, n+",") || !strings.Contains(st, " and 989 more") {
			t.Fatalf("node %s: status %q; want %d others named, the rest counted, itself not named", n, st, MaxNamed)
		}
	}
	if st := status["copy0000"]; !strings.Contains(st, "node copy0001, ") || strings.Contains(st, "copy0011") {
		t.Errorf("copy0000: %q, want copy0001..copy0010 named", st)
	}
}
