package render

import (
	"cmp"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/store"
)

// NewModel builds a Model as of now from nodes given directly (tests,
// demos, benchmarks), the way Load does from the store: services and
// connections hang on their nodes (hidden ones left out), services are
// grouped by process, checks of Monitored nodes give Worst, and the
// dependency graph and alerts are computed. The nodes are copied; a
// service's or connection's Node field is set to its node's name.
// Coverage is left empty; a nil conf is the default configuration.
func NewModel(now int64, conf *store.Conf, nodes []*Node) *Model {
	if conf == nil {
		conf = defaultConf()
	}
	m := &Model{Now: now, Conf: conf, byName: map[string]*Node{}, Coverage: &Coverage{}}
	var svcs []store.Service
	var conns []store.Connection
	checks := map[string]store.Checks{}
	for _, in := range nodes {
		if in == nil || m.byName[in.Name] != nil {
			continue
		}
		n := &Node{Node: in.Node}
		m.Nodes = append(m.Nodes, n)
		m.byName[n.Name] = n
		for _, sv := range in.Services {
			sv.Node = n.Name
			svcs = append(svcs, sv)
		}
		for _, c := range in.Connections {
			c.Node = n.Name
			conns = append(conns, c)
		}
		if in.Monitored {
			checks[n.Name] = in.Checks
		}
	}
	slices.SortFunc(m.Nodes, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(svcs, func(a, b store.Service) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), cmp.Compare(a.Port, b.Port))
	})
	slices.SortFunc(conns, func(a, b store.Connection) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Port, b.Port),
			strings.Compare(a.Remote, b.Remote))
	})
	m.attach(svcs, conns, checks)
	m.Graph = NewGraph(conns)
	m.alerts()
	return m
}

// defaultConf is the configuration with every setting at its default.
func defaultConf() *store.Conf {
	v := map[string]store.Value{}
	for _, s := range store.Settings() {
		v[s.Name] = s.Default
	}
	return store.ConfFrom(v)
}
