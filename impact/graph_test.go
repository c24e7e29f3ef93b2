package impact

import (
	"fmt"
	"testing"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

func TestImpact(t *testing.T) {
	in := func(node, port, client string) store.Connection {
		return store.Connection{Node: node, Port: port, Remote: client, Direction: store.In, LocalPort: port}
	}
	out := func(node, proc, port, server string) store.Connection {
		return store.Connection{Node: node, Process: proc, Port: port, Remote: server, Direction: store.Out, LocalPort: "high"}
	}
	svc := func(node string, port int, proc string) store.Service {
		return store.Service{Node: node, Port: port, Process: proc}
	}
	services := []store.Service{
		svc("db01", 5432, "postgres"), svc("db01", 9100, "node_exporter"),
		svc("app01", 8080, "java"), svc("app01", 11211, "memcached"), svc("app01", 9100, "node_exporter"),
		svc("app02", 8080, "java"),
		svc("web01", 80, "nginx"), svc("web02", 80, "nginx"), svc("web01", 9100, "node_exporter"),
		svc("lb01", 443, "haproxy"),
		svc("mon01", 9090, "prometheus"), svc("mon01", 3000, "grafana"),
	}
	conns := []store.Connection{
		in("db01", "5432", "app01"), out("app01", "java", "5432", "db01"),
		out("app02", "java", "5432", "db01"), // db01's own record of app02 is missing: app02's still counts
		in("app01", "8080", "web01"), out("web01", "nginx", "8080", "app01"),
		out("web01", "nginx", "8080", "app02"), out("web02", "nginx", "8080", "app02"),
		out("lb01", "haproxy", "80", "web01"), out("lb01", "haproxy", "80", "web02"),
		in("lb01", "443", domain.Internet),
		in("app01", "8080", "10.9.9.9"), // an unknown internal client: listed, not followed
		// The monitoring server scrapes every exporter and serves grafana
		// to web01's admins: no service failure but an exporter's reaches it.
		out("mon01", "prometheus", "9100", "db01"), out("mon01", "prometheus", "9100", "app01"),
		out("mon01", "prometheus", "9100", "web01"), out("web01", "curl", "3000", "mon01"),
		// A bastion logged into db01's exporter port only through its server record.
		in("db01", "9100", "bastion01"),
		{Node: "app01", Process: "java", Port: "11211", Remote: "app01", Direction: store.Out, LocalService: "11211"}, // loopback
		in("web01", "80", "web01"),
	}
	g := New(conns, services)
	got := g.Impact("db01", "5432")
	want := "[{app01 1 db01 [5432] java [db01 postgres:5432]} {app02 1 db01 [5432] java [db01 postgres:5432]} " +
		"{10.9.9.9 2 app01 [8080]  [app01 java:8080 db01 postgres:5432]} " +
		"{web01 2 app01 [8080] nginx [app01 java:8080 db01 postgres:5432]} " +
		"{web02 2 app02 [8080] nginx [app02 java:8080 db01 postgres:5432]} " +
		"{lb01 3 web01 [80] haproxy [web01 nginx:80 app01 java:8080 db01 postgres:5432]} " +
		"{Internet 4 lb01 [443]  [lb01 haproxy:443 web01 nginx:80 app01 java:8080 db01 postgres:5432]}]"
	if fmt.Sprint(got) != want {
		t.Errorf("impact of db01:5432\n got %v\nwant %s", got, want)
	}
	if p := got[3].Path(); p != "web01 via app01 java:8080 → db01 postgres:5432" {
		t.Errorf("path %q", p)
	}
	if p := got[0].Path(); p != "app01 java → db01 postgres:5432" {
		t.Errorf("path %q", p)
	}
	for _, d := range got {
		if d.Node == "mon01" || d.Node == "bastion01" {
			t.Errorf("%s only scrapes or logs into db01 and app01, yet it is hit: %v", d.Node, d)
		}
	}
	// The whole of db01 down: its exporter's users are hit, but not
	// through it (prometheus serves nobody who uses db01).
	all := g.Impact("db01", "")
	if len(all) == 0 || all[0].Node != "app01" || fmt.Sprintf("%s %d", all[3].Node, all[3].Depth) != "mon01 1" ||
		fmt.Sprintf("%s %d", all[2].Node, all[2].Depth) != "bastion01 1" {
		t.Errorf("impact of all of db01 = %v", all)
	}
	// A process using a local service of its node: app01's memcached
	// failing hits java's clients.
	if mc := g.Impact("app01", "11211"); len(mc) == 0 || mc[0].Node != "10.9.9.9" || mc[1].Node != "web01" {
		t.Errorf("impact of app01 memcached = %v", mc)
	}
	// An exporter's failure reaches its scraper and stops there: grafana's
	// users are not prometheus' clients.
	if ex := g.Impact("web01", "9100"); fmt.Sprint(ex) != "[{mon01 1 web01 [9100] prometheus [web01 node_exporter:9100]}]" {
		t.Errorf("impact of web01 node_exporter = %v", ex)
	}
	if got := g.Impact("lb01", "443"); len(got) != 1 || got[0].Node != domain.Internet {
		t.Errorf("impact of lb01 = %v", got)
	}
}
