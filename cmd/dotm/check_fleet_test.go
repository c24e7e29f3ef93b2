package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/alarm"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

// collectedFleet collects a simulated fleet of n hosts into a real
// redis-server, with the fleet's own monitoring (a status.dat), twice an
// hour apart; before the second round web01 stops using one server, and
// the last host stops answering. It returns the server, the fleet and
// the time of the second round.
func collectedFleet(tb testing.TB, n int, port uint16) (*redistest.Server, *simfleet.Fleet, int64) {
	tb.Helper()
	srv := redistest.Start(tb)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: srv.URL()})
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	fleet := simfleet.Generate(n, 1, port)
	if err := fleet.Register(ctx, st); err != nil {
		tb.Fatal(err)
	}
	// Unused after aging too (the default asks for days), so that the
	// two rounds an hour apart give unused services.
	unused, err := domain.Lookup("unused")
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.SetSetting(ctx, unused, domain.Value{Hash: map[string]string{"Services": "0"}}); err != nil {
		tb.Fatal(err)
	}
	statusDat := filepath.Join(tb.TempDir(), "status.dat")
	const t0 = 1795000000
	for round := range 2 {
		now := int64(t0 + round*3600)
		if round == 1 {
			fleet.Disconnect("web01", fleet.Lookup("web01").Out[0].To.Name)
			fleet.Hosts[len(fleet.Hosts)-1].Garbage = true
		}
		var b bytes.Buffer
		if err := fleet.WriteStatusDat(&b, now); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(statusDat, b.Bytes(), 0o600); err != nil {
			tb.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		wait, err := fleet.Serve(sctx)
		if err != nil {
			tb.Fatal(err)
		}
		_, err = collect.Run(ctx, st, collect.Options{Now: time.Unix(now, 0), Monitoring: []string{statusDat}})
		cancel()
		wait()
		if err != nil {
			tb.Fatal(err)
		}
	}
	return srv, fleet, t0 + 3600
}

// TestCheckNodeMatchesReport holds dotm check --node to the report: for
// every node of a collected fleet, the findings read for that node alone
// are those the fleet's findings list under its name.
func TestCheckNodeMatchesReport(t *testing.T) {
	redistest.Require(t, "redis-server")
	srv, _, now := collectedFleet(t, 40, 14873) // its own agent port
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Unix(now, 0)
	m, err := analyze.Load(ctx, st, at)
	if err != nil {
		t.Fatal(err)
	}
	fleet := analyze.FindingsOf(m, 0)
	var kinds [4]int
	for _, n := range m.Nodes {
		want := fleet.For(n.Name)
		nm, ok, err := analyze.LoadNode(ctx, st, n.Name, at)
		if err != nil || !ok {
			t.Fatalf("LoadNode(%s) = %v, %v", n.Name, ok, err)
		}
		got := analyze.FindingsOf(nm, 0).For(n.Name)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: findings read for the node alone\n%+v\nwant, as in the fleet's findings,\n%+v", n.Name, got, want)
		}
		kinds[0] += len(want.Unused)
		kinds[1] += len(want.Disconnected)
		kinds[2] += len(want.Unmonitored)
		kinds[3] += len(want.FetchErrors)
	}
	if kinds[0] == 0 || kinds[1] == 0 || kinds[2] == 0 || kinds[3] == 0 {
		t.Fatalf("unused, disconnected, unmonitored, fetch errors = %v: the fleet must have some of each for the comparison to mean anything", kinds)
	}
	code, out, errOut := runCLIAll("--redis", srv.URL(), "check", "--node", "web01", "--now", time.Unix(now, 0).Format(time.RFC3339))
	if code != 1 || !strings.HasPrefix(out, "DOTM WARNING - web01: ") || !strings.Contains(out, "\ndisconnected out ") || errOut != "" {
		t.Errorf("check --node web01: exit %d, stdout %q, stderr %q; want WARNING naming the vanished connection", code, out, errOut)
	}
	// The fleet mode counts what the node mode counts, summed over nodes.
	code, out, errOut = runCLIAll("--redis", srv.URL(), "check", "--findings", "--now", time.Unix(now, 0).Format(time.RFC3339))
	want := fmt.Sprintf(" unused=%d;;;0 disconnected=%d;;;0 unmonitored=%d;;;0 ", kinds[0], kinds[1], kinds[2])
	if code != 1 || !strings.HasPrefix(out, "DOTM WARNING - ") || !strings.Contains(out, want) || errOut != "" {
		t.Errorf("check --findings: exit %d, stdout %q, stderr %q; want WARNING with%s", code, out, errOut, want)
	}
}

// BenchmarkCheck2000 measures one dotm check against a real redis-server
// holding a collected 2,000-host fleet: --node (a node's findings, what
// a monitoring core runs for every host every minute), --service (a
// service's impact), --findings (the whole fleet's findings), the
// collection check, and the passive results of every node that
// "dotm report --submit" computes from the loaded fleet.
//
//	go test -run '^$' -bench BenchmarkCheck2000 -benchtime 50x ./cmd/dotm/
func BenchmarkCheck2000(b *testing.B) {
	redistest.Require(b, "redis-server")
	srv, fleet, now := collectedFleet(b, 2000, 14874) // its own agent port
	first := func(prefix string) string {
		for _, h := range fleet.Hosts {
			if strings.HasPrefix(h.Name, prefix) {
				return h.Name
			}
		}
		b.Fatalf("no %s host in the fleet", prefix)
		return ""
	}
	at := time.Unix(now, 0).Format(time.RFC3339)
	for _, bc := range []struct {
		name, want string
		args       []string
	}{
		{"node", "DOTM ", []string{"--node", first("app")}},
		{"impact", "DOTM OK - ", []string{"--node", first("db"), "--service", "3306"}},
		{"collection", "DOTM ", nil},
		{"fleet", "DOTM WARNING - ", []string{"--findings"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			args := append([]string{"--redis", srv.URL(), "check", "--now", at}, bc.args...)
			var out bytes.Buffer
			e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: io.Discard, getenv: func(string) string { return "" }}
			for b.Loop() {
				out.Reset()
				if code := run(context.Background(), args, e); code == 3 || !strings.HasPrefix(out.String(), bc.want) {
					b.Fatalf("exit %d: %s", code, out.String())
				}
			}
		})
	}
	b.Run("submit-results", func(b *testing.B) {
		st, err := store.Open(context.Background(), store.Options{URL: srv.URL()})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		m, err := analyze.Load(context.Background(), st, time.Unix(now, 0))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if r := alarm.Results(m, alarm.DefaultService); len(r) < 1000 {
				b.Fatalf("%d results for a fleet of 2,000", len(r))
			}
		}
	})
	// What a monitoring core pays: the dotm binary started as a process.
	b.Run("node-process", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "dotm")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("build dotm: %v\n%s", err, out)
		}
		var cpu time.Duration
		for b.Loop() {
			cmd := exec.Command(bin, "--redis", srv.URL(), "check", "--now", at, "--node", first("app"))
			out, err := cmd.Output()
			var ee *exec.ExitError
			if err != nil && (!errors.As(err, &ee) || ee.ExitCode() == 3) || !strings.HasPrefix(string(out), "DOTM ") {
				b.Fatalf("%v: %s", err, out)
			}
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}
