package render

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// ChangesDOT is what changed between two snapshots, as a map: the nodes
// that appeared or vanished and the ends of the connections that did,
// with those arrows marked in colour and in words ("appeared" in green,
// "vanished" red and dashed). Boxes link node pages as in the other
// graphs, relative to a page one directory down (history/). Nil when no
// node or connection changed.
func ChangesDOT(m *analyze.Model, c *domain.Changes) []byte { return changesDOT(m, c, Groups(m)) }

// changesDOT is ChangesDOT with the global graph's groups (which have a
// page to link).
func changesDOT(m *analyze.Model, c *domain.Changes, groups []Group) []byte {
	if c == nil || len(c.AddedNodes)+len(c.RemovedNodes)+len(c.AddedLinks)+len(c.RemovedLinks) == 0 {
		return nil
	}
	type change struct {
		pair
		added bool
	}
	facts := map[change]*link{}
	var names []string
	for _, set := range []struct {
		ls    []domain.ArchLink
		added bool
	}{{c.AddedLinks, true}, {c.RemovedLinks, false}} {
		for _, l := range set.ls {
			p := pair{l.Node, l.Remote}
			if l.Direction == store.In {
				p = pair{l.Remote, l.Node}
			}
			names = append(names, p.client, p.server)
			k := change{p, set.added}
			if facts[k] == nil {
				facts[k] = &link{}
			}
			if !slices.Contains(facts[k].ports, l.Port) {
				facts[k].ports = append(facts[k].ports, l.Port)
			}
		}
	}
	names = append(append(names, c.AddedNodes...), c.RemovedNodes...)
	g := newGrouper(names)
	keys, byKey := g.boxes(names)
	lk := newLinker(m, "../", groups)
	d := &dotGraph{attrs: []kv{{"rankdir", "LR"}, {"fontname", "Helvetica"}}}
	ids := map[string]string{}
	for i, k := range keys {
		ids[k] = "n" + strconv.Itoa(i)
		b := byKey[k]
		title, note, a := boxTitle(k, b), "", []kv{{"style", "filled"}, {"fillcolor", "#ffffff"}, {"color", "#424242"}}
		switch {
		case len(b.members) == 1 && slices.Contains(c.AddedNodes, k):
			note = "node appeared"
			a = []kv{{"style", "filled"}, {"fillcolor", "#c8e6c9"}, {"color", "#1b6e2a"}, {"penwidth", "3"}}
		case len(b.members) == 1 && slices.Contains(c.RemovedNodes, k):
			note = "node vanished"
			a = []kv{{"style", "filled,dashed"}, {"fillcolor", "#ffcdd2"}, {"color", "#b3261e"}, {"penwidth", "3"}}
		}
		if k == domain.Internet {
			a = append(a, kv{"shape", "ellipse"})
		}
		d.nodes = append(d.nodes, dotNode{ids[k], append(append([]kv{{"label", label(title, note)}}, a...), lk.box(k, b)...)})
	}
	grouped := links[change]{}
	for k, l := range facts {
		gk := change{pair{g.key(k.client), g.key(k.server)}, k.added}
		for _, p := range l.ports {
			grouped.add(gk, p, 0)
		}
	}
	for k, l := range grouped {
		word, a := "vanished", []kv{{"color", "#b3261e"}, {"fontcolor", "#b3261e"}, {"style", "dashed"}, {"penwidth", "2"}}
		if k.added {
			word, a = "appeared", []kv{{"color", "#1b6e2a"}, {"fontcolor", "#1b6e2a"}, {"penwidth", "2"}}
		}
		tip := clean(boxTitle(k.client, byKey[k.client])) + " → " + clean(boxTitle(k.server, byKey[k.server])) + " :" + portList(l.ports) + " " + word
		d.edges = append(d.edges, dotEdge{ids[k.client], ids[k.server],
			append(append([]kv{{"label", portList(l.ports) + "\n" + word}}, a...), kv{"tooltip", cut(tip, maxTip)})})
	}
	slices.SortFunc(d.edges, func(a, b dotEdge) int {
		if c := cmpID(a.from, b.from); c != 0 {
			return c
		}
		if c := cmpID(a.to, b.to); c != 0 {
			return c
		}
		return strings.Compare(a.attrs[0].v, b.attrs[0].v)
	})
	return d.bytes()
}
