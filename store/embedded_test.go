package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lwindolf/dotm/domain"
)

// The embedded store's own promises: it persists across processes, honours
// expiry across runs, survives SIGKILL mid-write, and keeps a second
// process out while one holds it.

func TestEmbeddedPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := mustOpen(t, dir)
	if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "x"}}); err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().Add(1200 * time.Millisecond)
	if err := s.SetChecks(ctx, NodeCheck{Node: "x", Status: "UP"}, nil, 1200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, dir)
	names, _ := s.Nodes(ctx)
	if len(names) != 1 || names[0] != "x" {
		t.Fatalf("after reopen: nodes = %v", names)
	}
	if _, _, ok, _ := s.Checks(ctx, "x"); !ok {
		t.Error("checks gone before their expiry")
	}
	s.Close()

	// Reopen until the checks are gone: they expire while the store is
	// closed, within a minute at the latest.
	for deadline := expiry.Add(time.Minute); ; {
		s = mustOpen(t, dir)
		_, _, ok, err := s.Checks(ctx, "x")
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("checks outlived their expiry while the store was closed")
		}
		time.Sleep(50 * time.Millisecond) // polling: the store is closed, nothing to wait on
	}
}

// Bytes that are not UTF-8 (compressed snapshots, a process name from a
// hostile host) survive a save and load unchanged.
func TestEmbeddedKeepsBinaryValues(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := mustOpen(t, dir)
	a := &domain.Architecture{Version: domain.ArchitectureVersion, Time: 1795000000, Nodes: []string{"web01"},
		Services: []domain.ArchService{{Node: "web01", Port: 80, Process: "nginx"}}}
	if err := s.SaveSnapshot(ctx, a, time.Hour); err != nil {
		t.Fatal(err)
	}
	bad := "proc\xff\xfe\x00"
	err := s.WriteNodeData(ctx, NodeData{Node: Node{Name: "web01", FetchStatus: "OK"},
		Services: []Service{{Port: 81, Process: bad}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir)
	defer s.Close()
	got, ok, err := s.LoadSnapshot(ctx, a.Time)
	if err != nil || !ok || !slices.Equal(got.Nodes, a.Nodes) || !slices.Equal(got.Services, a.Services) {
		t.Errorf("snapshot after reopen = %+v, %v, %v", got, ok, err)
	}
	svcs, err := s.Services(ctx, "web01")
	if err != nil || len(svcs) != 1 || svcs[0].Process != bad {
		t.Errorf("services after reopen = %+v, %v", svcs, err)
	}
}

func TestEmbeddedReadOnlyRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := mustOpen(t, dir)
	s.AddNodes(ctx, []domain.NodeSpec{{Name: "x"}})
	s.Close()
	path := filepath.Join(dir, dataFile)
	// A modification time in the past: any rewrite moves it to now.
	past := time.Unix(1_700_000_000, 0)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir)
	if _, err := s.Nodes(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("a read-only run rewrote the data file")
	}
}

func mustOpen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DataDir: dir, LockWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// helperProcess starts this test binary as a child that runs fn (selected
// by name through the environment) against the store in dir.
func helperProcess(t *testing.T, name, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "DOTM_STORE_HELPER="+name, "DOTM_STORE_DIR="+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestHelperProcess is not a test: it is the child of the tests below.
func TestHelperProcess(t *testing.T) {
	name, dir := os.Getenv("DOTM_STORE_HELPER"), os.Getenv("DOTM_STORE_DIR")
	if name == "" {
		return
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{DataDir: dir, LockWait: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch name {
	case "hold":
		fmt.Println("locked")
		time.Sleep(time.Hour) // until killed
	case "writer":
		// Each generation writes 200 services all stamped with the
		// generation, then checkpoints: a complete state has all 200 equal.
		for gen := int64(1); ; gen++ {
			d := NodeData{Node: Node{Name: "w", LastFetch: gen, FetchStatus: "OK"}}
			for p := 1; p <= 200; p++ {
				d.Services = append(d.Services, Service{Port: p, Process: "p", LastSeen: gen})
			}
			if err := s.WriteNodeData(ctx, d); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if err := s.Checkpoint(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if gen == 3 {
				fmt.Println("writing")
			}
		}
	}
	os.Exit(0)
}

func TestHostileEmbeddedKilled(t *testing.T) {
	dir := t.TempDir()
	for round := range 5 {
		cmd := helperProcess(t, "writer", dir)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8)
		if _, err := out.Read(buf); err != nil {
			t.Fatalf("writer did not start: %v", err)
		}
		// Not a wait for anything: the writer is running (it said so);
		// the pause only moves the kill to another point of its writes.
		time.Sleep(time.Duration(round*37) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		s := mustOpen(t, dir)
		svcs, err := s.Services(context.Background(), "w")
		if err != nil {
			t.Fatal(err)
		}
		if len(svcs) != 200 {
			t.Fatalf("round %d: %d services after kill, want 200", round, len(svcs))
		}
		for _, sv := range svcs {
			if sv.LastSeen != svcs[0].LastSeen {
				t.Fatalf("round %d: mixed generations %d and %d", round, svcs[0].LastSeen, sv.LastSeen)
			}
		}
		s.Close()
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, dataFile+".tmp-*"))
	if len(leftovers) > 1 { // at most the one of the last kill
		t.Errorf("temporary files pile up: %v", leftovers)
	}
}

func TestEmbeddedLockWaitsThenGivesUp(t *testing.T) {
	dir := t.TempDir()
	holder := helperProcess(t, "hold", dir)
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{DataDir: dir, LockWait: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("opened a store another process holds")
	}
	for _, want := range []string{"in use by another dotm process", "pid " + strconv.Itoa(holder.Process.Pid), "--redis"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The lock of a killed holder is gone at once.
	holder.Process.Signal(syscall.SIGKILL)
	holder.Wait()
	s := mustOpen(t, dir)
	s.Close()
}
