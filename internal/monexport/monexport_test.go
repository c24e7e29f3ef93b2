package monexport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/store"
)

const now = 1800000000

func out(client, server, port, proc string, lastSeen int64, sockets int) store.Connection {
	return store.Connection{Node: client, Port: port, Remote: server, Process: proc, Direction: store.Out,
		LastSeen: lastSeen, Connections: sockets}
}

func checks(node string, mapping map[string]string) store.Checks {
	c := store.Checks{Node: store.NodeCheck{Node: node, Status: "UP"}}
	for check, proc := range mapping {
		c.Services = append(c.Services, store.ServiceCheck{Node: node, Service: check, Mapping: proc})
	}
	return c
}

func fleet() *store.Current {
	cur := &store.Current{Nodes: []string{"web01", "app01", "db01", "cache01"}, Checks: map[string]store.Checks{}}
	for _, n := range cur.Nodes {
		cur.Infos = append(cur.Infos, store.Node{Name: n, LastFetch: now, FetchStatus: "OK"})
	}
	cur.Services = []store.Service{
		{Node: "app01", Port: 8080, Process: "java"}, {Node: "db01", Port: 3306, Process: "mysqld"},
		{Node: "cache01", Port: 6379, Process: "redis-server"}, {Node: "web01", Port: 80, Process: "nginx"},
	}
	cur.Connections = []store.Connection{
		out("web01", "app01", "8080", "nginx", now, 10),
		out("app01", "db01", "3306", "java", now, 5),
		out("app01", "cache01", "6379", "java", now-1000, 5), // vanished: older than aging
		out("db01", "web01", "80", "mysqld", now, 1),         // closes a circle
		out("web01", "10.0.0.9", "443", "nginx", now, 3),     // not a node
	}
	cur.Checks["web01"] = checks("web01", map[string]string{"HTTP": "nginx"})
	cur.Checks["app01"] = checks("app01", map[string]string{"App": "java", "Disk": ""})
	cur.Checks["db01"] = checks("db01", map[string]string{"MySQL": "mysqld"})
	cur.Checks["cache01"] = checks("cache01", map[string]string{"Redis": "redis-server"})
	return cur
}

func TestBuild(t *testing.T) {
	d := Build(fleet(), 300*time.Second, 1, map[string]string{"db01.example.com": "db01"})
	var b bytes.Buffer
	if err := d.Nagios(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"host_name                      db01.example.com\n    service_description            MySQL\n    dependent_host_name            app01\n    dependent_service_description  App\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing\n%s\nin\n%s", want, got)
		}
	}
	for _, bad := range []string{"cache01", "Disk", "10.0.0.9"} {
		if strings.Contains(got, bad) {
			t.Errorf("output holds %q (vanished, unmapped, not a node, or a circle):\n%s", bad, got)
		}
	}
	// web01 → app01 → db01 → web01 is a circle: the last of the sorted
	// dependencies that closes it (web01's) is left out, for hosts and checks.
	if d.Cycles != 2 || len(d.Hosts) != 2 || len(d.Services) != 2 || strings.Contains(got, "dependent_host_name            web01\n") {
		t.Errorf("cycles %d, host deps %v, service deps %v; want web01's left out of the circle", d.Cycles, d.Hosts, d.Services)
	}
	if d2 := Build(fleet(), 300*time.Second, 6, nil); len(d2.Hosts) != 1 || d2.Hosts[0] != (HostDep{Host: "app01", DependentHost: "web01"}) {
		t.Errorf("--min-count 6: host deps %v, want only web01 → app01", d2.Hosts)
	}
	var i1, i2 bytes.Buffer
	_ = d.Icinga2(&i1)
	_ = Build(fleet(), 300*time.Second, 1, map[string]string{"db01.example.com": "db01"}).Icinga2(&i2)
	if i1.String() != i2.String() || !strings.Contains(i1.String(), "  parent_host_name = \"db01.example.com\"\n  parent_service_name = \"MySQL\"\n") {
		t.Errorf("icinga2 output not deterministic or lacks the MySQL dependency:\n%s", i1.String())
	}
}

func TestHostileExportNames(t *testing.T) {
	cur := fleet()
	cur.Checks["app01"] = checks("app01", map[string]string{"App\"\n}\nobject Host \"x": "java", "Ok; comment": "java"})
	d := Build(cur, 300*time.Second, 1, nil)
	var n, i bytes.Buffer
	_ = d.Nagios(&n)
	_ = d.Icinga2(&i)
	if strings.Contains(n.String(), "App") || strings.Contains(i.String(), "object Host") || strings.Contains(n.String(), "comment") {
		t.Errorf("unsafe check names reached the output:\n%s\n%s", n.String(), i.String())
	}
	if d.Skipped == 0 {
		t.Error("unsafe names were not counted as skipped")
	}
}
