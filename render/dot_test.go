package render

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/render/layout"
	"github.com/lwindolf/dotm/store"
)

// testNow is the clock of the test fleets.
const testNow = 1_700_000_000

// testConf is the default configuration.
func testConf() *domain.Conf { return domain.DefaultConf() }

// svc is a fresh service.
func svc(port int, process, status string) store.Service {
	return store.Service{Port: port, Process: process, AlertStatus: status, LastSeen: testNow - 60, FirstSeen: testNow - 86400}
}

// in is a fresh incoming connection from client to port.
func in(port, client, process string) store.Connection {
	return store.Connection{Port: port, Remote: client, Process: process, Direction: store.In, LocalPort: port,
		RemotePort: "high", Connections: 3, LastSeen: testNow - 60}
}

// out is a fresh outgoing connection to server:port.
func out(port, server, process string) store.Connection {
	return store.Connection{Port: port, Remote: server, Process: process, Direction: store.Out, LocalPort: "high",
		RemotePort: port, Connections: 2, LastSeen: testNow - 60}
}

// testNodes is a small web shop: Internet → lb01 (haproxy) → web01/02
// (nginx) → app01 (java, with a local memcached) → db01 (mysqld,
// CRITICAL). web02 also talks to an old, unknown internal IP.
func testNodes() []*analyze.Node {
	mon := func(status string) store.Checks {
		return store.Checks{Node: store.NodeCheck{Status: "UP"}, Services: []store.ServiceCheck{{Service: "x", Status: status, Mapping: "x"}}}
	}
	oldConn := out("5432", "10.9.9.9", "nginx")
	oldConn.LastSeen = testNow - 2*86400
	return []*analyze.Node{
		{Node: store.Node{Name: "lb01"}, Services: []store.Service{svc(443, "haproxy", "OK")},
			Connections: []store.Connection{in("443", domain.Internet, "haproxy"), out("80", "web01", "haproxy"), out("80", "web02", "haproxy")},
			Monitored:   true, Checks: mon("OK")},
		{Node: store.Node{Name: "web01"}, Services: []store.Service{svc(80, "nginx", "")},
			Connections: []store.Connection{in("80", "lb01", "nginx"), out("8080", "app01", "nginx")}},
		{Node: store.Node{Name: "web02"}, Services: []store.Service{svc(80, "nginx", "WARNING")},
			Connections: []store.Connection{in("80", "lb01", "nginx"), out("8080", "app01", "nginx"), oldConn},
			Monitored:   true, Checks: mon("WARNING")},
		{Node: store.Node{Name: "app01"}, Services: []store.Service{svc(8080, "java", ""), svc(11211, "memcached", "")},
			Connections: []store.Connection{in("8080", "web01", "java"), in("8080", "web02", "java"), out("3306", "db01", "java"),
				{Port: "11211", Remote: "app01", Process: "java", Direction: store.Out, LocalService: "11211", LastSeen: testNow - 60}}},
		{Node: store.Node{Name: "db01"}, Services: []store.Service{svc(3306, "mysqld", "CRITICAL")},
			Connections: []store.Connection{in("3306", "app01", "mysqld"), in("3306", "10.1.2.3", "mysqld")},
			Monitored:   true, Checks: mon("CRITICAL")},
	}
}

// testModel is the Model of testNodes.
func testModel() *analyze.Model { return analyze.NewModel(testNow, testConf(), testNodes()) }

// allDOT is every graph of m by name.
func allDOT(m *analyze.Model) map[string][]byte {
	g := map[string][]byte{"global": GlobalDOT(m), "services": ServiceDOT(m), "legend": LegendDOT()}
	for _, n := range m.Nodes {
		g["node "+n.Name] = NodeDOT(m, n.Name)
	}
	return g
}

// idRE is what every DOT id must look like: generated, never a name.
var idRE = regexp.MustCompile(`^\t+(?:graph|node|edge|[a-z]+[0-9]+(?: -> [a-z]+[0-9]+)?)(?: \[|;$)|^\t+subgraph cluster_[0-9]+(?:_[0-9]+)? \{$|^\t+\}$|^digraph "dotm" \{$|^\}$`)

// checkSyntax checks that every line of a graph is one of ours, with a
// generated id, and that quotes are balanced (escaped).
func checkSyntax(t *testing.T, name string, dot []byte) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSuffix(string(dot), "\n"), "\n") {
		if !idRE.MatchString(line) {
			t.Errorf("%s: unexpected line %q", name, line)
		}
		unescaped := strings.Count(line, `"`) - strings.Count(line, `\"`) + strings.Count(line, `\\"`)
		if unescaped%2 != 0 {
			t.Errorf("%s: unbalanced quotes in %q", name, line)
		}
	}
}

func TestNodeDOT(t *testing.T) {
	m := testModel()
	db := string(NodeDOT(m, "db01"))
	for _, want := range []string{
		`rankdir="LR"`, `subgraph cluster_0`, `label="db01\nCRITICAL"`,
		`s0 [label="mysqld :3306\nCRITICAL", color="#b71c1c", fillcolor="#ffcdd2", style="filled", penwidth="3", peripheries="2",`,
		`c0 [label="10.1.2.3"`, `c1 [label="app01"`, `c0 -> s0 [label="3306",`, `c1 -> s0 [label="3306",`,
	} {
		if !strings.Contains(db, want) {
			t.Errorf("db01's graph lacks %s:\n%s", want, db)
		}
	}
	app := string(NodeDOT(m, "app01"))
	for _, want := range []string{
		`s0 [label="java :8080"`, `s1 [label="memcached :11211"`,
		`s0 -> s1 [label="11211",`, // loopback, inside the frame
		`s0 -> r0 [label="3306",`, `r0 [label="db01\nCRITICAL"`,
	} {
		if !strings.Contains(app, want) {
			t.Errorf("app01's graph lacks %s:\n%s", want, app)
		}
	}
	lb := string(NodeDOT(m, "lb01"))
	if !strings.Contains(lb, `c0 [label="Internet", color="#424242", fillcolor="#ffffff", style="filled", shape="ellipse",`) {
		t.Errorf("lb01's graph has no Internet cloud:\n%s", lb)
	}
	if !strings.Contains(lb, `s0 -> r0 [label="80",`) || !strings.Contains(lb, `r0 [label="web01",`) {
		t.Errorf("lb01's graph lacks haproxy → web01:\n%s", lb)
	}
	web := string(NodeDOT(m, "web02"))
	if !strings.Contains(web, `s0 -> r0 [label="5432", style="dashed",`) {
		t.Errorf("web02's old connection is not dashed:\n%s", web)
	}
	if got := string(NodeDOT(m, "nosuch")); !strings.Contains(got, `not a known node`) {
		t.Errorf("unknown node: %s", got)
	}
}

// TestNodeDOTPeers: a node that could not be fetched (no records of its
// own) is still drawn from its peers' records.
func TestNodeDOTPeers(t *testing.T) {
	nodes := testNodes()
	nodes[3].Connections = nil // app01 fetched nothing
	m := analyze.NewModel(testNow, testConf(), nodes)
	app := string(NodeDOT(m, "app01"))
	for _, want := range []string{`c0 [label="web01",`, `c1 [label="web02\nWARNING"`, `c0 -> s0 [label="8080",`,
		`label="(unknown process)", shape="ellipse"`, `-> r0 [label="3306",`} {
		if !strings.Contains(app, want) {
			t.Errorf("app01's graph from peers lacks %s:\n%s", want, app)
		}
	}
}

func TestGlobalDOT(t *testing.T) {
	m := testModel()
	g := string(GlobalDOT(m))
	ids := map[string]string{}
	for _, line := range strings.Split(g, "\n") {
		if m := regexp.MustCompile(`^\t(n[0-9]+) \[label="([^"\\]*)`).FindStringSubmatch(line); m != nil {
			ids[m[2]] = m[1]
		}
	}
	for _, e := range [][3]string{{"Internet", "lb01", "443"}, {"lb01", "web01", "80"}, {"web02", "app01", "8080"},
		{"app01", "db01", "3306"}, {"10.1.2.3", "db01", "3306"}} {
		want := fmt.Sprintf(`%s -> %s [label="%s",`, ids[e[0]], ids[e[1]], e[2])
		if !strings.Contains(g, want) {
			t.Errorf("global graph lacks %v (%s):\n%s", e, want, g)
		}
	}
	if strings.Contains(g, `label="11211"`) {
		t.Errorf("loopback connection in the global graph:\n%s", g)
	}
	if !strings.Contains(g, `label="db01\nCRITICAL", color="#b71c1c"`) {
		t.Errorf("db01 not shown CRITICAL:\n%s", g)
	}
}

func TestPortList(t *testing.T) {
	if got := portList([]string{"8080", "443", "80", "high", "22", "443", "9100"}); got != "22,80,443,8080 +2" {
		t.Errorf("portList = %q", got)
	}
}

func TestGroupOf(t *testing.T) {
	for name, want := range map[string]string{
		"web01": "web", "web-02": "web", "db": "db", "web01.eu.example.com": "eu.example.com",
		"42": "42", "app10": "app", "x.": "x.",
	} {
		if got := GroupOf(name); got != want {
			t.Errorf("GroupOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// bigFleet is n web nodes and n db nodes, each web using one db.
func bigFleet(n int, suffix string) []*analyze.Node {
	var nodes []*analyze.Node
	for i := range n {
		web, db := fmt.Sprintf("web%02d%s", i, suffix), fmt.Sprintf("db%02d%s", i, suffix)
		nodes = append(nodes,
			&analyze.Node{Node: store.Node{Name: web}, Services: []store.Service{svc(80, "nginx", "")},
				Connections: []store.Connection{out("5432", db, "php"), in("80", domain.Internet, "nginx")}},
			&analyze.Node{Node: store.Node{Name: db}, Services: []store.Service{svc(5432, "postgres", "")},
				Connections: []store.Connection{in("5432", web, "postgres")}})
	}
	nodes[1].Services[0].AlertStatus = "CRITICAL"
	return nodes
}

func TestGlobalDOTGrouped(t *testing.T) {
	for _, suffix := range []string{"", ".example.com"} {
		m := analyze.NewModel(testNow, testConf(), bigFleet(30, suffix))
		g := string(GlobalDOT(m))
		for _, want := range []string{`n0 [label="Internet"`, `n1 [label="db ×30"`, `n2 [label="web ×30"`,
			`n0 -> n2 [label="80",`, `n2 -> n1 [label="5432",`} {
			if !strings.Contains(g, want) {
				t.Errorf("grouped fleet (domain %q) lacks %s:\n%s", suffix, want, g)
			}
		}
		if strings.Count(g, "label=") != 5 {
			t.Errorf("grouped fleet (domain %q) draws more than 3 boxes and 2 arrows:\n%s", suffix, g)
		}
	}
	// up to maxDrawn boxes, each node is drawn on its own
	if g := string(GlobalDOT(analyze.NewModel(testNow, testConf(), bigFleet(15, "")))); !strings.Contains(g, `label="web14"`) ||
		strings.Contains(g, "×") {
		t.Errorf("a fleet of 30 nodes is grouped:\n%s", g)
	}
	// a node graph with many clients groups them too
	m := analyze.NewModel(testNow, testConf(), bigFleet(50, ""))
	nodes := m.Nodes
	hub := &analyze.Node{Node: store.Node{Name: "hub"}, Services: []store.Service{svc(9000, "collector", "")}}
	for _, n := range nodes {
		hub.Connections = append(hub.Connections, in("9000", n.Name, "collector"))
	}
	m = analyze.NewModel(testNow, testConf(), append(nodes, hub))
	if g := string(NodeDOT(m, "hub")); !strings.Contains(g, `c1 [label="web ×50",`) || !strings.Contains(g, `c1 -> s0 [label="9000",`) {
		t.Errorf("hub's 100 clients are not grouped:\n%s", g)
	}
}

func TestServiceDOT(t *testing.T) {
	m := testModel()
	g := string(ServiceDOT(m))
	ids := map[string]string{}
	for _, line := range strings.Split(g, "\n") {
		if m := regexp.MustCompile(`^\t(v[0-9]+) \[label="([^"\\(]*)`).FindStringSubmatch(line); m != nil {
			ids[strings.TrimSpace(m[2])] = m[1]
		}
	}
	for _, want := range []string{`label="nginx (2 nodes)\nWARNING"`, `label="haproxy (1 node)\nOK"`,
		`label="mysqld (1 node)\nCRITICAL"`, `label="Internet (clients)"`, `label="other hosts (clients)"`} {
		if !strings.Contains(g, want) {
			t.Errorf("service graph lacks %s:\n%s", want, g)
		}
	}
	for _, e := range [][3]string{{"Internet", "haproxy", "443"}, {"haproxy", "nginx", "80"}, {"nginx", "java", "8080"},
		{"java", "mysqld", "3306"}, {"java", "memcached", "11211"}, {"other hosts", "mysqld", "3306"}, {"nginx", "? :5432", "5432"}} {
		want := fmt.Sprintf(`%s -> %s [label="%s"`, ids[e[0]], ids[e[1]], e[2])
		if !strings.Contains(g, want) {
			t.Errorf("service graph lacks %v (%s):\n%s", e, want, g)
		}
	}
}

// TestDOTDeterministic: the same data in any order gives the same bytes.
func TestDOTDeterministic(t *testing.T) {
	want := allDOT(testModel())
	for i := range 20 {
		nodes := testNodes()
		r := rand.New(rand.NewPCG(uint64(i), 1))
		r.Shuffle(len(nodes), func(a, b int) { nodes[a], nodes[b] = nodes[b], nodes[a] })
		for _, n := range nodes {
			r.Shuffle(len(n.Connections), func(a, b int) { n.Connections[a], n.Connections[b] = n.Connections[b], n.Connections[a] })
			r.Shuffle(len(n.Services), func(a, b int) { n.Services[a], n.Services[b] = n.Services[b], n.Services[a] })
		}
		for name, dot := range allDOT(analyze.NewModel(testNow, testConf(), nodes)) {
			if !bytes.Equal(dot, want[name]) {
				t.Fatalf("%s differs with input order %d:\n%s\nwant:\n%s", name, i, dot, want[name])
			}
		}
	}
}

// TestDOTNoVolatile: times and socket counts that change every run leave
// the graphs as they are.
func TestDOTNoVolatile(t *testing.T) {
	want := allDOT(testModel())
	nodes := testNodes()
	for _, n := range nodes {
		n.LastFetch = testNow - 7
		for i := range n.Services {
			n.Services[i].LastSeen += 30
			n.Services[i].LastConnection = testNow - 1
		}
		for i := range n.Connections {
			n.Connections[i].Connections *= 7
			n.Connections[i].LastConnection = testNow - 5
			if n.Connections[i].LastSeen > testNow-3600 {
				n.Connections[i].LastSeen += 40
			}
		}
	}
	for name, dot := range allDOT(analyze.NewModel(testNow+100, testConf(), nodes)) {
		if !bytes.Equal(dot, want[name]) {
			t.Errorf("%s changed with volatile figures:\n%s\nwant:\n%s", name, dot, want[name])
		}
	}
}

func TestDOTSyntax(t *testing.T) {
	for name, dot := range allDOT(testModel()) {
		checkSyntax(t, name, dot)
	}
	d := &dotGraph{}
	for i := range layout.SfdpFrom + 1 {
		d.nodes = append(d.nodes, dotNode{fmt.Sprintf("n%d", i), nil})
	}
	if !bytes.Contains(d.bytes(), []byte(`layout="sfdp"`)) {
		t.Errorf("a graph of %d nodes is not laid out with sfdp", layout.SfdpFrom+1)
	}
}

// hostile names: markup, DOT syntax, escapes, control characters and
// length.
var hostile = []string{
	`<script>alert(1)</script>`, `a"b}`, `x->y`, "line\nbreak\r", `back\slash\`, `\N\G\l`, `"; n0 -> n1 [`,
	"bidi\u202etxt.exe", "\x00nul\x1b[31m", strings.Repeat("long", 100), "bad utf8 \xff\xfe", `]`, `}`, `&lt;script&gt;`,
}

// hostileModel is a fleet whose names are all hostile.
func hostileModel() *analyze.Model {
	var nodes []*analyze.Node
	for i, h := range hostile {
		next := hostile[(i+1)%len(hostile)]
		st := svc(1000+i, h, h)
		nodes = append(nodes, &analyze.Node{Node: store.Node{Name: h}, Services: []store.Service{st, svc(2000+i, "nginx", "CRITICAL")},
			Connections: []store.Connection{out(h, next, h), in(fmt.Sprint(1000+i), hostile[(i+2)%len(hostile)], h),
				{Port: h, Remote: h, Process: h, Direction: store.Out, LocalService: h, LastSeen: testNow}},
			Monitored: true, Checks: store.Checks{Node: store.NodeCheck{Status: h}}})
	}
	return analyze.NewModel(testNow, testConf(), nodes)
}

func TestDOTHostile(t *testing.T) {
	m := hostileModel()
	jobs := allDOT(m)
	for name, dot := range jobs {
		checkSyntax(t, name, dot)
		for _, line := range strings.Split(string(dot), "\n") {
			for _, q := range regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(line, -1) {
				limit := maxLabel + 2 // +2: the escapes of \ and "
				switch q[1] {
				case "tooltip", "labeltooltip":
					limit = maxTip + 8
				case "URL", "class":
					// Slugs: safe runes, bounded by site.Slug.
					if strings.ContainsAny(q[2], `"\<>&' `+"\n") && q[1] == "URL" {
						t.Errorf("%s: unsafe URL %q", name, q[2])
					}
					continue
				}
				for _, part := range strings.Split(q[2], `\n`) {
					if n := len([]rune(part)); n > limit {
						t.Errorf("%s: %s line of %d runes: %q", name, q[1], n, part)
					}
				}
			}
		}
		if bytes.ContainsAny(dot, "\x00\x1b\r\u202e") || !bytes.Equal(bytes.ToValidUTF8(dot, nil), dot) {
			t.Errorf("%s: control characters or bad UTF-8 in DOT", name)
		}
	}
	// render/layout lays these graphs out (its testdata/hostile, kept
	// current by TestLayoutFixtures) and checks the SVGs are inert.
}

// TestEmptyModel: a fleet without nodes still gives graphs that lay out.
func TestEmptyModel(t *testing.T) {
	m := analyze.NewModel(testNow, nil, nil)
	svgs, err := (&layout.Layouter{}).LayoutAll(context.Background(), allDOT(m))
	if err != nil {
		t.Fatal(err)
	}
	if len(svgs) != len(allDOT(m)) {
		t.Errorf("%d of %d graphs laid out", len(svgs), len(allDOT(m)))
	}
}

func TestLegendDOT(t *testing.T) {
	g := string(LegendDOT())
	for _, want := range []string{"CRITICAL / DOWN", "WARNING", "UNKNOWN", "PENDING", "OK / UP", "no monitoring",
		`style="dashed"`, `style="filled,dashed"`, `peripheries="2"`} {
		if !strings.Contains(g, want) {
			t.Errorf("legend lacks %s:\n%s", want, g)
		}
	}
}
