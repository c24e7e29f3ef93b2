package collect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/impact"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/store"
)

// monitoredFleet collects a small simulated fleet whose host names are
// those of the monitoring test configuration (web01, app01, db01,
// cache01), reading monitoring from sources.
func monitoredFleet(t *testing.T) (*store.Store, *simfleet.Fleet, func(now int64, sources ...string) Summary) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fleet := simfleet.Generate(20, 7, montest.FleetPort(t))
	wait, err := fleet.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wait)
	t.Cleanup(cancel) // runs first: stop serving, then wait
	s := openRedis(t)
	if err := fleet.Register(ctx, s); err != nil {
		t.Fatal(err)
	}
	run := func(now int64, sources ...string) Summary {
		t.Helper()
		sum, err := Run(context.Background(), s, Options{Now: time.Unix(now, 0), Timeout: 5 * time.Second, Monitoring: sources})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Failed) > 0 {
			t.Fatalf("hosts failed: %s", sum)
		}
		return sum
	}
	return s, fleet, run
}

// checkMonitored asserts what the monitoring test configuration must
// produce on the simulated fleet (see montest's configuration: 4 hosts,
// 18 services; db01 DOWN).
func checkMonitored(t *testing.T, s *store.Store, fleet *simfleet.Fleet) {
	t.Helper()
	ctx := context.Background()
	all, err := s.AllChecks(ctx, []string{"web01", "app01", "db01", "cache01"})
	if err != nil {
		t.Fatal(err)
	}
	count, states := 0, map[string]int{}
	for _, c := range all {
		count += len(c.Services)
		for _, sc := range c.Services {
			states[sc.Status]++
		}
	}
	if len(all) != 4 || count != 18 {
		t.Fatalf("stored checks of %d nodes, %d services; want 4 and 18", len(all), count)
	}
	if fmt.Sprint(states) != "map[CRITICAL:4 OK:11 UNKNOWN:1 WARNING:2]" {
		t.Errorf("service states %v", states)
	}
	if all["db01"].Node.Status != "DOWN" || all["web01"].Node.Status != "UP" {
		t.Errorf("host states: db01 %q, web01 %q", all["db01"].Node.Status, all["web01"].Node.Status)
	}
	mapping := map[string]string{}
	for _, c := range all {
		for _, sc := range c.Services {
			mapping[sc.Node+"/"+sc.Service] = sc.Mapping
		}
	}
	want := map[string]string{
		"web01/HTTP":                      "nginx",
		"db01/MySQL connections":          "mysqld",
		"cache01/Redis":                   "redis-server",
		"cache01/Memcached":               "memcached",
		"app01/HTTP":                      "", // app01 runs java, no web server
		"db01/PostgreSQL replication lag": "",
	}
	for k, v := range want {
		if mapping[k] != v {
			t.Errorf("check %s mapped to %q, want %q", k, mapping[k], v)
		}
	}
	if got := all["app01"].Node.OtherAlerts["HTTP"]; got != "CRITICAL" {
		t.Errorf("app01's unmapped CRITICAL HTTP check is not in other_alerts: %v", all["app01"].Node.OtherAlerts)
	}
	if got := all["db01"].Node.OtherAlerts; got["PostgreSQL replication lag"] != "WARNING" || len(got) != 1 {
		t.Errorf("db01 other_alerts = %v", got)
	}
	svcs, _ := s.Services(ctx, "db01")
	for _, sv := range svcs {
		if sv.Port == 3306 && sv.AlertStatus != "CRITICAL" {
			t.Errorf("db01 mysqld alert_status %q, want CRITICAL", sv.AlertStatus)
		}
	}

	// The CRITICAL database check hits the apps that use db01, and the
	// web servers that use those apps.
	conns, _ := s.Connections(ctx, "")
	svcsAll, _ := s.Services(ctx, "")
	impact := impact.New(conns, svcsAll).Impact("db01", "3306")
	depth := map[string]int{}
	for _, d := range impact {
		depth[d.Node] = d.Depth
	}
	db := fleet.Lookup("db01")
	for _, e := range db.In {
		if e.Port == 3306 && depth[e.From.Name] != 1 {
			t.Errorf("impact of db01 MySQL misses app %s (depth %d): %v", e.From.Name, depth[e.From.Name], impact)
		}
		for _, w := range e.From.In {
			if w.From != nil && w.From.Tier == "web" && depth[w.From.Name] != 2 {
				t.Errorf("impact misses web node %s behind %s: %v", w.From.Name, e.From.Name, impact)
			}
		}
	}
}

func TestMonitoringNagios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a monitoring daemon")
	}
	ng := montest.StartNagios(t)
	ng.WaitChecked(t, time.Minute)
	s, fleet, run := monitoredFleet(t)

	sum := run(1000, ng.StatusDat)
	if sum.Problems() {
		t.Fatalf("summary: %s", sum)
	}
	checkMonitored(t, s, fleet)

	// A truncated status.dat: one clear message, old alert data kept.
	b, err := os.ReadFile(ng.StatusDat)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "status.dat")
	if err := os.WriteFile(cut, b[:len(b)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	sum = run(2000, cut)
	if !sum.Problems() || !strings.Contains(sum.String(), "truncated") {
		t.Errorf("truncated status.dat: summary %q, want it named as truncated", sum)
	}
	checkMonitored(t, s, fleet)
	st, _ := s.State(context.Background())
	if m, ok, _ := st.Monitoring(); !ok || !strings.Contains(m.Sources[0].Status, "truncated") {
		t.Errorf("dotm::state monitoring = %+v, want the failure recorded", m)
	}
}

func TestMonitoringIcinga2(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a monitoring daemon")
	}
	ic := montest.StartIcinga2(t)
	s, fleet, run := monitoredFleet(t)
	host := strings.TrimPrefix(ic.APIURL, "https://")
	api := fmt.Sprintf("icinga2+https://%s:%s@%s?ca=%s", ic.User, ic.Password, host, ic.CAFile)
	sources := map[string]string{
		"api":             api,
		"livestatus unix": "livestatus+unix://" + ic.LivestatusSocket,
		"livestatus tcp":  "livestatus+tcp://" + ic.LivestatusTCP,
	}
	now := int64(1000)
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			now += 1000
			if sum := run(now, src); sum.Problems() {
				t.Fatalf("summary: %s", sum)
			}
			checkMonitored(t, s, fleet)
		})
	}

	// Failures: one clear message each, the alert data stays.
	failures := []struct{ name, source, want string }{
		{"wrong password", fmt.Sprintf("icinga2+https://%s:wrong@%s?ca=%s", ic.User, host, ic.CAFile), "authentication failed"},
		{"refused", "livestatus+tcp://127.0.0.1:1", "connection refused"},
		{"untrusted certificate", fmt.Sprintf("icinga2+https://%s:%s@%s", ic.User, ic.Password, host), "certificate"},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			now += 1000
			sum := run(now, f.source)
			if !sum.Problems() || !strings.Contains(sum.String(), f.want) || strings.Contains(sum.String(), ic.Password) {
				t.Errorf("summary %q, want one failure mentioning %q and no password", sum, f.want)
			}
			checkMonitored(t, s, fleet)
		})
	}
}
