package analyze

import (
	"cmp"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// NewModel builds a Model as of now from nodes given directly (tests,
// demos, benchmarks), the way Load does from the store: services and
// connections hang on their nodes (hidden ones left out), services are
// grouped by process, checks of Monitored nodes give Worst, and the
// dependency graph and alerts are computed. The nodes are copied; a
// service's or connection's Node field is set to its node's name.
// Coverage is left empty; a nil conf is the default configuration.
func NewModel(now int64, conf *domain.Conf, nodes []*Node) *Model {
	if conf == nil {
		conf = domain.DefaultConf()
	}
	m := &Model{Now: now, Conf: conf, byName: map[string]*Node{}}
	cur := &store.Current{Checks: map[string]store.Checks{}}
	seen := map[string]bool{}
	for _, in := range nodes {
		if in == nil || seen[in.Name] {
			continue
		}
		seen[in.Name] = true
		cur.Nodes = append(cur.Nodes, in.Name)
		cur.Infos = append(cur.Infos, in.Node)
		for _, sv := range in.Services {
			sv.Node = in.Name
			cur.Services = append(cur.Services, sv)
		}
		for _, c := range in.Connections {
			c.Node = in.Name
			cur.Connections = append(cur.Connections, c)
		}
		if in.Monitored {
			cur.Checks[in.Name] = in.Checks
		}
	}
	slices.SortFunc(cur.Services, func(a, b store.Service) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), cmp.Compare(a.Port, b.Port))
	})
	slices.SortFunc(cur.Connections, func(a, b store.Connection) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Port, b.Port),
			strings.Compare(a.Remote, b.Remote))
	})
	m.build(cur, store.MonitoringStatus{}, false)
	return m
}
