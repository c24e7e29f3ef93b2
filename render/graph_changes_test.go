package render

import (
	"strings"
	"testing"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// TestChangesDOT: a snapshot's changes as a map mark what appeared and
// what vanished in colour and in words, link the nodes that exist, and
// draw nothing when no node or connection changed.
func TestChangesDOT(t *testing.T) {
	m := testModel()
	c := &domain.Changes{
		AddedNodes:   []string{"new01"},
		RemovedNodes: []string{"old01"},
		AddedLinks:   []domain.ArchLink{{Node: "app01", Direction: store.Out, Port: "3306", Remote: "db01"}},
		RemovedLinks: []domain.ArchLink{{Node: "db01", Direction: store.In, Port: "3306", Remote: "old01"}},
	}
	g := string(ChangesDOT(m, c))
	for _, want := range []string{
		`label="new01\nnode appeared"`, `label="old01\nnode vanished", style="filled,dashed"`,
		`label="3306\nappeared", color="#1b6e2a"`, `label="3306\nvanished", color="#b3261e", fontcolor="#b3261e", style="dashed"`,
		`tooltip="old01 → db01 :3306 vanished"`, `URL="../nodes/db01.html"`,
	} {
		if !strings.Contains(g, want) {
			t.Errorf("changes map lacks %s:\n%s", want, g)
		}
	}
	checkSyntax(t, "changes", []byte(g))
	if g := ChangesDOT(m, &domain.Changes{NewAlerts: []domain.ArchAlert{{Node: "db01"}}}); g != nil {
		t.Errorf("a map of alert changes only:\n%s", g)
	}
	if ChangesDOT(m, nil) != nil {
		t.Error("a map for the first snapshot")
	}
	// Hostile names stay inside quoted, cleaned labels.
	h := &domain.Changes{}
	for i, name := range hostile {
		h.AddedLinks = append(h.AddedLinks, domain.ArchLink{Node: name, Direction: store.Out, Port: name, Remote: hostile[(i+1)%len(hostile)]})
	}
	dot := ChangesDOT(hostileModel(), h)
	checkSyntax(t, "hostile changes", dot)
	if strings.ContainsAny(string(dot), "\x00\x1b\u202e") {
		t.Error("control characters in the changes map")
	}
}
