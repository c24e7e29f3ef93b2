package domain

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func sample() *Architecture {
	a := &Architecture{Version: ArchitectureVersion, Time: 1795000000, Nodes: []string{"web01", "db01"},
		Services: []ArchService{{Node: "web01", Port: 80, Process: "nginx"}, {Node: "db01", Port: 5432, Process: "postgres"}},
		Connections: []ArchLink{{Node: "web01", Direction: "out", Port: "5432", Remote: "db01", Process: "php"},
			{Node: "web01", Direction: "out", Port: "5432", Remote: "db01", Process: "php"}},
		Alerts: []ArchAlert{{Node: "db01", Check: "disk", Status: "WARNING"}}}
	a.Sort()
	return a
}

// The canonical JSON and its compressed form read back the same, sorted
// and without the duplicate link.
func TestArchitectureRoundTrip(t *testing.T) {
	a := sample()
	if len(a.Connections) != 1 || a.Nodes[0] != "db01" {
		t.Fatalf("Sort left %+v", a)
	}
	for name, doc := range map[string][]byte{"json": a.MarshalCanonical(), "gzip": a.Compressed()} {
		got, err := ParseArchitecture(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("%s: read back %+v, want %+v", name, got, a)
		}
	}
	if !bytes.Contains(a.MarshalCanonical(), []byte("\n  {\"node\":\"web01\",\"direction\":\"out\",\"port\":\"5432\"")) {
		t.Errorf("not one record per line:\n%s", a.MarshalCanonical())
	}
}

func TestParseArchitectureRefuses(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"newer", `{"version": 99}`, "version 99; this dotm reads version 1 to"},
		{"not JSON", `{`, "not valid JSON"},
		{"bad gzip", "\x1f\x8bnot gzip", "architecture: "},
	} {
		if _, err := ParseArchitecture([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// Diff names what was added, removed and changed, by key.
func TestDiff(t *testing.T) {
	from := sample()
	to := sample()
	to.Nodes = append(to.Nodes, "app01")
	to.Services[1].Process = "caddy" // web01:80
	to.Alerts = nil
	to.Sort()
	c := Diff(from, to)
	if !reflect.DeepEqual(c.AddedNodes, []string{"app01"}) || len(c.ChangedServices) != 1 ||
		c.ChangedServices[0][1].Process != "caddy" || len(c.ClearedAlerts) != 1 || c.Empty() {
		t.Errorf("Diff = %+v", c)
	}
	if !Diff(from, sample()).Empty() {
		t.Error("the same architecture differs from itself")
	}
	if n := Diff(nil, from); len(n.AddedServices) != 2 {
		t.Errorf("from nothing: %+v", n)
	}
}

func TestWorstOf(t *testing.T) {
	for _, c := range [][3]string{{"OK", "CRITICAL", "CRITICAL"}, {"DOWN", "WARNING", "DOWN"}, {"", "PENDING", "PENDING"},
		{"UNKNOWN", "", "UNKNOWN"}, {"WARNING", "UNREACHABLE", "UNREACHABLE"}} {
		if got := WorstOf(c[0], c[1]); got != c[2] {
			t.Errorf("WorstOf(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
