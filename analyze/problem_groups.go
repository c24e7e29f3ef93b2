package analyze

import (
	"cmp"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/domain"
)

// ServiceGroup is one kind of unmonitored service: a process on a port,
// and the nodes it runs on unmonitored. The Problems page shows one row a
// group (node_exporter :9100 on 30 nodes) with the nodes folded.
type ServiceGroup struct {
	Process string
	Port    int
	Nodes   []string
}

// CheckGroup is one check name that maps to nothing, on the nodes that
// have it, with the worst state among them.
type CheckGroup struct {
	Check  string
	Status string
	Nodes  []string
}

// UnmonitoredGroups groups Unmonitored by process and port, the largest
// group first.
func (f *Findings) UnmonitoredGroups() []ServiceGroup {
	type key struct {
		process string
		port    int
	}
	by := map[key]*ServiceGroup{}
	var out []*ServiceGroup
	for _, sv := range f.Unmonitored {
		k := key{sv.Process, sv.Port}
		g := by[k]
		if g == nil {
			g = &ServiceGroup{Process: sv.Process, Port: sv.Port}
			by[k] = g
			out = append(out, g)
		}
		g.Nodes = append(g.Nodes, sv.Node)
	}
	slices.SortFunc(out, func(a, b *ServiceGroup) int {
		return cmp.Or(cmp.Compare(len(b.Nodes), len(a.Nodes)), strings.Compare(a.Process, b.Process), cmp.Compare(a.Port, b.Port))
	})
	return deref(out)
}

// UnmappedGroups groups UnmappedChecks by check name, the largest group
// first.
func (f *Findings) UnmappedGroups() []CheckGroup {
	by := map[string]*CheckGroup{}
	var out []*CheckGroup
	for _, sc := range f.UnmappedChecks {
		g := by[sc.Service]
		if g == nil {
			g = &CheckGroup{Check: sc.Service, Status: sc.Status}
			by[sc.Service] = g
			out = append(out, g)
		}
		if domain.Severity(sc.Status) > domain.Severity(g.Status) {
			g.Status = sc.Status
		}
		g.Nodes = append(g.Nodes, sc.Node)
	}
	slices.SortFunc(out, func(a, b *CheckGroup) int {
		return cmp.Or(cmp.Compare(len(b.Nodes), len(a.Nodes)), strings.Compare(a.Check, b.Check))
	})
	return deref(out)
}

func deref[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}
