package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/store"
)

// A fleet too large to draw node by node gets a page per group, whose
// graph draws the group's nodes one by one and their peers as groups.
func TestGroups(t *testing.T) {
	var nodes []*analyze.Node
	for i := 1; i <= 30; i++ {
		web, app := fmt.Sprintf("web%02d", i), fmt.Sprintf("app%02d", i)
		nodes = append(nodes,
			&analyze.Node{Node: store.Node{Name: web}, Connections: []store.Connection{
				{Port: "8080", Remote: app, Direction: store.Out, Process: "nginx", LastSeen: 100}}},
			&analyze.Node{Node: store.Node{Name: app}, Services: []store.Service{{Port: 8080, Process: "java", LastSeen: 100}}})
	}
	m := analyze.NewModel(100, nil, nodes)
	groups := Groups(m)
	if len(groups) != 2 || groups[0].Key != "app" || groups[1].Key != "web" || len(groups[1].Members) != 30 {
		t.Fatalf("groups = %+v, want app and web of 30 each", groups)
	}
	global := string(GlobalDOT(m))
	if !strings.Contains(global, `"web ×30`) || strings.Contains(global, "web07") {
		t.Errorf("the global graph draws nodes one by one:\n%s", global)
	}
	web := string(GroupDOT(m, "web"))
	for _, want := range []string{`label="web07`, `label="app ×30`} {
		if !strings.Contains(web, want) {
			t.Errorf("web's graph lacks %s:\n%s", want, web)
		}
	}
	if n := strings.Count(web, "->"); n != 30 {
		t.Errorf("web's graph has %d arrows, want 30 (one per web server to the app box)", n)
	}
}
