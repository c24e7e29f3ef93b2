package render

import (
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/store"
)

// A Docker host: docker-proxy publishes :8080 to the container web's
// nginx :80, which calls the container db's postgres :5432; both
// containers serve a port the other has too (:9100). The node page draws
// each container as a frame inside the node, the forward as a dashed
// arrow and web → db inside the node; the findings name the container.
func TestNodeDOTContainers(t *testing.T) {
	ctr := func(sv store.Service, c string) store.Service { sv.Container = c; return sv }
	proxy := svc(8080, "docker-proxy", "")
	proxy.Forward, proxy.ForwardVia = "web:80", "docker-proxy"
	webToDB := store.Connection{Port: "5432", Remote: "dock01", Process: "nginx", Direction: store.Out, LocalService: "5432",
		Container: "web", RemoteContainer: "db", Connections: 1, LastSeen: testNow, LastConnection: testNow}
	n := &analyze.Node{Node: store.Node{Name: "dock01", LastFetch: testNow, FetchStatus: "OK"}, Monitored: true,
		Services: []store.Service{proxy, ctr(svc(80, "nginx", ""), "web"), ctr(svc(5432, "postgres", ""), "db"),
			ctr(svc(9100, "node_exporter", ""), "web"), ctr(svc(9100, "node_exporter", ""), "db")},
		Connections: []store.Connection{webToDB, in("8080", "10.9.9.9", "docker-proxy")}}
	m := analyze.NewModel(testNow, testConf(), []*analyze.Node{n})
	dot := string(NodeDOT(m, "dock01"))
	checkSyntax(t, "dock01", []byte(dot))
	for _, want := range []string{
		`subgraph cluster_0_0 {`, `label="container db"`, `label="container web"`,
		`label="nginx :80"`, `label="postgres :5432"`, `label="docker-proxy :8080"`,
		`[label="docker-proxy", style="dashed"`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("the graph lacks %s:\n%s", want, dot)
		}
	}
	if got := strings.Count(dot, `label="node_exporter :9100"`); got != 2 {
		t.Errorf("%d boxes for the two containers' :9100, want 2:\n%s", got, dot)
	}
	// nginx (web) → postgres (db): an arrow between the two boxes.
	id := func(lbl string) string {
		for _, line := range strings.Split(dot, "\n") {
			if strings.Contains(line, `[label="`+lbl+`"`) {
				return strings.Fields(line)[0]
			}
		}
		return "?"
	}
	if edge := id("nginx :80") + " -> " + id("postgres :5432") + ` [label="5432",`; !strings.Contains(dot, edge) {
		t.Errorf("no arrow %s:\n%s", edge, dot)
	}
	if edge := id("docker-proxy :8080") + " -> " + id("nginx :80"); !strings.Contains(dot, edge) {
		t.Errorf("no forward arrow %s:\n%s", edge, dot)
	}
}
