package analyze

import (
	"fmt"
	"testing"

	"github.com/lwindolf/dotm/store"
)

func TestProblemGroups(t *testing.T) {
	f := &Findings{
		Unmonitored: []store.Service{
			{Node: "web01", Port: 9100, Process: "node_exporter"}, {Node: "db01", Port: 3306, Process: "mysqld"},
			{Node: "web02", Port: 9100, Process: "node_exporter"}, {Node: "db01", Port: 9100, Process: "node_exporter"},
			{Node: "web01", Port: 9101, Process: "node_exporter"},
		},
		UnmappedChecks: []store.ServiceCheck{
			{Node: "lb01", Service: "HTTP", Status: "OK"}, {Node: "lb02", Service: "HTTP", Status: "CRITICAL"},
			{Node: "lb01", Service: "Cert", Status: "WARNING"},
		},
	}
	got := fmt.Sprint(f.UnmonitoredGroups())
	want := "[{node_exporter 9100 [web01 web02 db01]} {mysqld 3306 [db01]} {node_exporter 9101 [web01]}]"
	if got != want {
		t.Errorf("unmonitored groups\n%s\nwant\n%s", got, want)
	}
	got = fmt.Sprint(f.UnmappedGroups())
	want = "[{HTTP CRITICAL [lb01 lb02]} {Cert WARNING [lb01]}]"
	if got != want {
		t.Errorf("unmapped groups\n%s\nwant\n%s", got, want)
	}
}
