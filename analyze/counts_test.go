package analyze

import (
	"testing"

	"github.com/lwindolf/dotm/store"
)

func TestProcessNodeCountIsDistinctHosts(t *testing.T) {
	p := &Process{Name: "haproxy", Services: []store.Service{
		{Node: "lb01", Port: 80}, {Node: "lb01", Port: 443}, {Node: "lb02", Port: 80}, {Node: "lb02", Port: 443},
	}}
	if n := p.NodeCount(); n != 2 {
		t.Errorf("haproxy on 2 hosts, 2 ports each: NodeCount %d, want 2", n)
	}
}

// TestOverviewCountsAsHistory: the overview counts what a history snapshot
// counts: each connection between two nodes once, stale records not.
func TestOverviewCountsAsHistory(t *testing.T) {
	cur := &store.Current{
		Nodes: []string{"app01", "db01"},
		Infos: []store.Node{{Name: "app01", FetchStatus: "OK", LastFetch: 100}, {Name: "db01", FetchStatus: "OK", LastFetch: 100}},
		Services: []store.Service{
			{Node: "db01", Port: 3306, Process: "mysqld", LastSeen: 100},
			{Node: "db01", Port: 11211, Process: "memcached", LastSeen: 50}, // gone since
		},
		Connections: []store.Connection{
			{Node: "app01", Port: "3306", Remote: "db01", Direction: store.Out, LastSeen: 100},
			{Node: "db01", Port: "3306", Remote: "app01", Direction: store.In, LastSeen: 100},
			{Node: "db01", Port: "3306", Remote: "Internet", Direction: store.In, LastSeen: 100},
			{Node: "app01", Port: "11211", Remote: "db01", Direction: store.Out, LastSeen: 50}, // gone since
		},
	}
	m := &Model{Current: cur}
	sv, cn := m.LiveTotals()
	want := cur.Architecture(0).Totals()
	if sv != want.Services || cn != want.Connections || sv != 1 || cn != 2 {
		t.Errorf("overview %d services, %d connections; history %+v; want 1 and 2", sv, cn, want)
	}
}
