package collect

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/montest"
)

// hostileAgent listens on loopback and treats every client with serve.
func hostileAgent(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// validAnswer is a real agent answer with n established sockets.
func validAnswer(t *testing.T, hostname string, n int) []byte {
	h := &netinfo.Host{Hostname: hostname, Interfaces: iface("10.0.0.1/24")}
	h.Sockets = append(h.Sockets, sock(L, "0.0.0.0:80", "", 1, "nginx"))
	for i := range n {
		h.Sockets = append(h.Sockets, sock(E, "10.0.0.1:80", fmt.Sprintf("10.0.%d.%d:40000", i/250%250, 1+i%250), 1, "nginx"))
	}
	var b bytes.Buffer
	if err := netinfo.WriteAgent(&b, h); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestHostileFetchAgent: whatever an agent sends, the fetch ends within
// its deadline with a clear error or valid data, and reads boundedly.
func TestHostileFetchAgent(t *testing.T) {
	chunk := bytes.Repeat([]byte("tcp        0      0 10.0.0.1:80 10.0.0.2:4000 ESTABLISHED 1/x\n"), 1000)
	cases := []struct {
		name  string
		serve func(c net.Conn)
		want  string // error text; "" means success
	}{
		{"endless output", func(c net.Conn) {
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}, "sent more than 32 MiB"},
		{"never answers", func(c net.Conn) { time.Sleep(5 * time.Second) }, "timed out"},
		{"one byte a second", func(c net.Conn) {
			for _, b := range []byte("hostname=slow\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}, "timed out"},
		{"NUL bytes", func(c net.Conn) {
			c.Write(bytes.ReplaceAll(validAnswer(t, "nul", 3), []byte("nginx"), []byte("ng\x00nx")))
		}, "NUL"},
		{"invalid UTF-8 in a program name", func(c net.Conn) {
			c.Write(bytes.ReplaceAll(validAnswer(t, "utf", 3), []byte("nginx"), []byte("ngi\xff\xfex")))
		}, ""},
		{"100,000 sockets", func(c net.Conn) { c.Write(validAnswer(t, "big", 100_000)) }, ""},
		{"an HTTP server", func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }, "agent"},
	}
	conf := defaultConf(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := hostileAgent(t, c.serve)
			// A short deadline where the agent must be cut off; a long one
			// where a valid answer must be read, however busy the machine.
			deadline := 2 * time.Second
			if c.want == "" {
				deadline = time.Minute
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			h, err := FetchAgent(ctx, Target{Name: "x", Address: addr, Conf: conf})
			if took := time.Since(start); took > deadline+8*time.Second {
				t.Errorf("fetch took %s despite a %s deadline", took, deadline)
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("err = %v, want success", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			case c.want == "" && len(h.Sockets) == 0:
				t.Error("no sockets")
			}
		})
	}
}

// heapPeak samples the live heap until stop is called and returns the
// highest figure seen, in bytes.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// TestHostileRun: a collect run over a simulated fleet with hostile hosts
// among it (one streaming 1 GiB, two claiming the same identity, one
// silent, one sending NUL bytes) finishes within its deadline, reads a
// bounded amount, records a clear fetch_status for each hostile node and
// stores every healthy host.
func TestHostileRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fleet := simfleet.Generate(12, 7, montest.FleetPort(t))
	s := openRedis(t)
	if err := fleet.Register(ctx, s); err != nil {
		t.Fatal(err)
	}
	wait, err := fleet.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer wait() // after cancel: the next test serves on the same addresses
	defer cancel()

	// A gigabyte, streamed from one reused buffer until the reader hangs up.
	const gigabyte = 1 << 30
	var sent atomic.Int64
	line := []byte("tcp        0      0 10.0.0.1:80 10.0.0.2:4000 ESTABLISHED 1/x\n")
	chunk := bytes.Repeat(line, 64<<10/len(line))
	big := hostileAgent(t, func(c net.Conn) {
		for sent.Load() < gigabyte {
			n, err := c.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	twin := validAnswer(t, "twin", 3)
	hostile := map[string]string{
		"gigabyte": big,
		"twin-a":   hostileAgent(t, func(c net.Conn) { c.Write(twin) }),
		"twin-b":   hostileAgent(t, func(c net.Conn) { c.Write(twin) }),
		"silent":   hostileAgent(t, func(c net.Conn) { time.Sleep(30 * time.Second) }),
		"nul": hostileAgent(t, func(c net.Conn) {
			c.Write(bytes.ReplaceAll(validAnswer(t, "nul", 3), []byte("nginx"), []byte("ng\x00nx")))
		}),
	}
	var specs []domain.NodeSpec
	for name, addr := range hostile {
		specs = append(specs, domain.NodeSpec{Name: name, Address: addr})
	}
	if _, err := s.AddNodes(ctx, specs); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heapPeak()
	const timeout = 5 * time.Second
	sum, err := Run(ctx, s, Options{Now: time.Unix(20_000, 0), Timeout: timeout})
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	growth := int64(peak) - int64(before.HeapAlloc)
	t.Logf("%s; heap peak %d MiB above the %d MiB before; the 1 GiB agent got %d MiB out",
		sum, growth>>20, before.HeapAlloc>>20, sent.Load()>>20)

	// The deadline is the feature: a hostile host costs one timeout.
	if sum.Elapsed > 4*timeout {
		t.Errorf("run took %s with a %s per-node deadline", sum.Elapsed, timeout)
	}
	// Reading stops at MaxOutput: the heap holds a few copies at most.
	if growth > 8*MaxOutput {
		t.Errorf("heap grew by %d MiB during the run; want it bounded by the %d MiB read cap",
			growth>>20, MaxOutput>>20)
	}
	if sent.Load() >= gigabyte {
		t.Errorf("the whole gigabyte was read; the reader must hang up at %d MiB", MaxOutput>>20)
	}
	if sum.Fetched != len(fleet.Hosts)+2 || len(sum.Failed) != 3 {
		t.Errorf("summary %s: want every simulated host and both twins fetched, 3 failures", sum)
	}

	names := []string{"gigabyte", "silent", "nul", "twin-a", "twin-b"}
	info, err := s.NodeInfo(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sent more than 32 MiB", "no answer within 5s", "NUL",
		"same host as node twin-b", "same host as node twin-a"}
	for i, n := range info {
		if !strings.Contains(n.FetchStatus, want[i]) || n.LastFetch != 20_000 {
			t.Errorf("node %s: fetch_status %q at %d, want it to mention %q", n.Name, n.FetchStatus, n.LastFetch, want[i])
		}
	}
	for _, n := range []string{"twin-a", "twin-b"} {
		if svcs, _ := s.Services(ctx, n); len(svcs) != 1 || svcs[0].Process != "nginx" {
			t.Errorf("%s: services %+v, want its own nginx kept under its own name", n, svcs)
		}
	}
	resolver, _ := s.Resolver(ctx)
	if owner, ok := resolver["10.0.0.1"]; ok {
		t.Errorf("the twins' shared address resolves to %q; an address two nodes claim resolves to none", owner)
	}

	healthy := make([]string, len(fleet.Hosts))
	for i, h := range fleet.Hosts {
		healthy[i] = h.Name
	}
	info, _ = s.NodeInfo(ctx, healthy)
	for i, n := range info {
		svcs, _ := s.Services(ctx, n.Name)
		if n.FetchStatus != "OK" || len(svcs) != len(fleet.Hosts[i].Services) {
			t.Errorf("healthy node %s: status %q, %d services (want OK, %d)", n.Name, n.FetchStatus, len(svcs),
				len(fleet.Hosts[i].Services))
		}
	}
}
