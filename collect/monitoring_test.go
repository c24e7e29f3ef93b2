package collect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/store"
)

func TestNodeNamer(t *testing.T) {
	n := newNodeNamer([]string{"web01.dc1.example.com", "db01", "app01.dc1.example.com", "app01.dc2.example.com", "DNS1"},
		map[string]string{"legacy-db": "db01"})
	cases := map[string]string{
		"web01":                 "web01.dc1.example.com", // short → FQDN
		"WEB01":                 "web01.dc1.example.com", // case-insensitive
		"db01.dc1.example.com":  "db01",                  // FQDN → short
		"legacy-db":             "db01",                  // user_node_aliases
		"app01":                 "",                      // ambiguous between dc1 and dc2
		"app01.dc2.example.com": "app01.dc2.example.com", // exact wins over ambiguity
		"dns1":                  "DNS1",
		"web010":                "", // exact, never by prefix
	}
	for in, want := range cases {
		if got := n.node(in); got != want {
			t.Errorf("node(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNodeNamerNeverGuesses covers the matches that must not happen: IP
// addresses and FQDN pairs that share only a first label.
func TestNodeNamerNeverGuesses(t *testing.T) {
	tests := []struct {
		name         string
		nodes        []string
		monitor, got string
	}{
		{"IPv4 is not a dotted name", []string{"10.0.0.5"}, "10.20.30.40", ""},
		{"IPv4 node, short monitoring name", []string{"10.0.0.5"}, "10", ""},
		{"IPv4 monitoring name, short node", []string{"10"}, "10.0.0.5", ""},
		{"IPv4 exact", []string{"10.0.0.5", "10.20.30.40"}, "10.20.30.40", "10.20.30.40"},
		{"IPv6 exact", []string{"fd00::5"}, "FD00::5", "fd00::5"},
		{"two FQDNs", []string{"db1.foo.example.com"}, "db1.bar.example.net", ""},
		{"two FQDNs, the other way", []string{"db1.bar.example.net"}, "db1.foo.example.com", ""},
		{"short monitoring name → FQDN node", []string{"web01.dc1.example.com"}, "web01", "web01.dc1.example.com"},
		{"FQDN monitoring name → short node", []string{"web01"}, "web01.dc1.example.com", "web01"},
		{"short to several FQDNs", []string{"db1.foo.example.com", "db1.bar.example.net"}, "db1", ""},
		{"FQDN to its short node beside another FQDN", []string{"db1", "db1.bar.example.net"}, "db1.foo.example.com", "db1"},
		{"short is not a prefix", []string{"web01.dc1.example.com"}, "web0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newNodeNamer(tt.nodes, nil).node(tt.monitor); got != tt.got {
				t.Errorf("nodes %q: node(%q) = %q, want %q", tt.nodes, tt.monitor, got, tt.got)
			}
		})
	}
}

func TestMapChecks(t *testing.T) {
	conf := defaultConf(t)
	services := map[string][]store.Service{
		"web01": {{Node: "web01", Port: 80, Process: "nginx"}, {Node: "web01", Port: 8081, Process: "apache2"},
			{Node: "web01", Port: 9100, Process: "node_exporter"}},
		"db01": {{Node: "db01", Port: 3306, Process: "mysqld"}, {Node: "db01", Port: 5432, Process: "postgres"}},
	}
	st := &monitor.State{
		Hosts: []monitor.Host{
			{Name: "web01", Alias: "Storefront web server", Status: monitor.Up, LastCheck: 10},
			{Name: "db01", Status: monitor.Down, Output: "connect to address 127.0.0.1 and port 15432: Connection refused"},
			{Name: "mail01", Status: monitor.Up}, // not a dotm node
		},
		Services: []monitor.Service{
			{Host: "web01", Name: "HTTP", Status: monitor.Critical},
			{Host: "web01", Name: "HTTPS cert", Status: monitor.Warning},
			{Host: "web01", Name: "Disk /var", Status: monitor.Warning},
			{Host: "web01", Name: "Load", Status: monitor.OK},
			{Host: "db01", Name: "MySQL connections", Status: monitor.Critical},
			{Host: "db01", Name: "PostgreSQL replication lag", Status: monitor.Warning},
			{Host: "db01", Name: "Postgres backup", Status: monitor.Pending},
			{Host: "mail01", Name: "SMTP", Status: monitor.Critical},
		},
	}
	out, unknown := mapChecks(st, conf, services, newNodeNamer([]string{"web01", "db01"}, nil), false)
	if len(out) != 2 {
		t.Fatalf("mapped %d nodes, want web01 and db01", len(out))
	}
	if len(unknown) != 1 || unknown[0] != "mail01" {
		t.Errorf("monitored hosts that are no node: %v, want [mail01]", unknown)
	}
	web, db := out["web01"], out["db01"]
	if web.node.Status != monitor.Up || db.node.Status != monitor.Down || db.node.StatusInformation == "" {
		t.Errorf("node states: %+v %+v", web.node, db.node)
	}
	// ^HTTP hits both web servers of web01; HTTPS cert too.
	if got := web.alerts; got[80] != monitor.Critical || got[8081] != monitor.Critical || len(got) != 2 {
		t.Errorf("web01 alerts by port = %v", got)
	}
	for _, c := range web.checks {
		want := map[string]string{"HTTP": "apache2,nginx", "HTTPS cert": "apache2,nginx", "Disk /var": "", "Load": ""}[c.Service]
		if c.Mapping != want {
			t.Errorf("check %q mapping %q, want %q", c.Service, c.Mapping, want)
		}
	}
	if len(web.node.OtherAlerts) != 1 || web.node.OtherAlerts["Disk /var"] != monitor.Warning {
		t.Errorf("other_alerts = %v: non-OK checks that map to nothing, OK ones left out", web.node.OtherAlerts)
	}
	if web.node.ServicesAlerts["nginx"] != monitor.Critical {
		t.Errorf("services_alerts = %v", web.node.ServicesAlerts)
	}
	// Postgres: the worst of WARNING and PENDING; the preset matches the
	// process postgres.
	if db.alerts[5432] != monitor.Warning || db.alerts[3306] != monitor.Critical {
		t.Errorf("db01 alerts = %v", db.alerts)
	}

	// use_aliases: the monitoring host is known by its alias.
	byAlias, _ := mapChecks(st, conf, services, newNodeNamer([]string{"Storefront web server"}, nil), true)
	if _, ok := byAlias["Storefront web server"]; !ok {
		t.Errorf("use_aliases did not map by alias: %v", byAlias)
	}
}

func TestWorse(t *testing.T) {
	order := []string{monitor.OK, monitor.Pending, monitor.Warning, monitor.Unknown, monitor.Critical}
	for i := 1; i < len(order); i++ {
		if !Worse(order[i], order[i-1]) || Worse(order[i-1], order[i]) {
			t.Errorf("%s must be worse than %s", order[i], order[i-1])
		}
	}
}

// TestFetchMonitoringCountsWhatItKeeps: checks of a host the source does
// not list (a status.dat without that host's hoststatus block) are
// dropped, and the summary says so instead of counting them.
func TestFetchMonitoringCountsWhatItKeeps(t *testing.T) {
	b, err := os.ReadFile("monitor/testdata/status.dat")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.SplitAfter(string(b), "\t}\n")
	var kept strings.Builder
	for _, blk := range blocks {
		if strings.Contains(blk, "hoststatus {") && strings.Contains(blk, "\thost_name=db01\n") {
			continue
		}
		kept.WriteString(blk)
	}
	path := filepath.Join(t.TempDir(), "status.dat")
	if err := os.WriteFile(path, []byte(kept.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := monitor.Open(path, monitor.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	st, results := fetchMonitoring(context.Background(), []monitor.Source{src}, 10*time.Second)
	if len(results) != 1 || results[0].Err != "" {
		t.Fatalf("results %+v", results)
	}
	if r := results[0]; r.Hosts != 3 || r.Checks != 14 || r.Orphans != 4 || len(st.Services) != 14 {
		t.Errorf("result %+v with %d services kept; want 3 hosts, 14 checks kept, db01's 4 dropped", r, len(st.Services))
	}
	sum := Summary{Nodes: 1, Fetched: 1, Sources: results}
	if !strings.Contains(sum.String(), "14 checks from 1/1 sources (4 more dropped: their hosts are not in the source's host list)") {
		t.Errorf("summary %q", sum)
	}
}
