package render

import (
	"fmt"
	"testing"

	"github.com/lwindolf/dotm/store"
)

func TestImpact(t *testing.T) {
	in := func(node, port, client string) store.Connection {
		return store.Connection{Node: node, Port: port, Remote: client, Direction: store.In, LocalPort: port}
	}
	out := func(node, port, server string) store.Connection {
		return store.Connection{Node: node, Port: port, Remote: server, Direction: store.Out, LocalPort: "high"}
	}
	conns := []store.Connection{
		in("db01", "5432", "app01"), out("app01", "5432", "db01"),
		out("app02", "5432", "db01"), // db01's own record of app02 is missing: app02's still counts
		in("db01", "9100", "mon01"),  // another port of db01: not hit by a PostgreSQL alert
		in("app01", "8080", "web01"), in("app02", "8080", "web01"), in("app02", "8080", "web02"),
		in("web01", "80", "lb01"), in("web02", "80", "lb01"),
		in("lb01", "443", Internet),
		in("app01", "8080", "10.9.9.9"), // an unknown internal client: listed, not followed
		{Node: "app01", Port: "11211", Remote: "app01", Direction: store.Out, LocalService: "11211"}, // loopback
		in("web01", "80", "web01"),
	}
	got := NewGraph(conns).Impact("db01", "5432")
	want := "[{app01 1 db01 [5432]} {app02 1 db01 [5432]} {10.9.9.9 2 app01 [8080]} {web01 2 app01 [8080]} " +
		"{web02 2 app02 [8080]} {lb01 3 web01 [80]} {Internet 4 lb01 [443]}]"
	if fmt.Sprint(got) != want {
		t.Errorf("impact of db01:5432\n got %v\nwant %s", got, want)
	}
	if got := NewGraph(conns).Impact("db01", ""); len(got) == 0 || got[0].Node != "app01" || fmt.Sprint(got[2]) != "{mon01 1 db01 [9100]}" {
		t.Errorf("impact of all of db01 = %v", got)
	}
	if got := NewGraph(conns).Impact("lb01", "443"); len(got) != 1 || got[0].Node != Internet {
		t.Errorf("impact of lb01 = %v", got)
	}
}
