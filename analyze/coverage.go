package analyze

import (
	"slices"
	"strings"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// Coverage is how dotm's picture and the monitoring's fit together, in
// both directions.
type Coverage struct {
	// Unmonitored are services of monitored nodes that no check maps to.
	// (Nodes monitoring does not know at all are in MissingMonitoring
	// instead of listing all their services here.)
	Unmonitored []store.Service
	// UnmappedChecks are checks meant for a service (a service_mapping
	// rule matches their name) that map to no detected service.
	UnmappedChecks []store.ServiceCheck
	// HostChecks counts the checks no rule is meant for (Disk /var, Load):
	// they are the node's own, not a gap.
	HostChecks int
	// MissingMonitoring are nodes the monitoring system does not know.
	MissingMonitoring []string
	// Uncollected are monitored hosts that are no dotm node.
	Uncollected []string
	// Sources is how each monitoring source fared in the last run.
	Sources []store.SourceStatus
	// Monitored is false when no collect run has read monitoring yet:
	// then every list above is empty, not "all missing".
	Monitored bool
}

// CoverageOf computes coverage from nodes, their services, the stored
// checks (by node) and the service_mapping rules.
func CoverageOf(nodes []string, services []store.Service, checks map[string]store.Checks, rules []domain.MappingRule) *Coverage {
	c := &Coverage{}
	for _, n := range nodes {
		if _, ok := checks[n]; !ok {
			c.MissingMonitoring = append(c.MissingMonitoring, n)
		}
	}
	mapped := map[string]bool{} // node + " " + process
	for _, nc := range checks {
		for _, sc := range nc.Services {
			if sc.Mapping == "" {
				if !forService(sc.Service, rules) {
					c.HostChecks++
					continue
				}
				c.UnmappedChecks = append(c.UnmappedChecks, sc)
				continue
			}
			for _, p := range strings.Split(sc.Mapping, ",") {
				mapped[sc.Node+" "+p] = true
			}
		}
	}
	for _, sv := range services {
		if _, monitored := checks[sv.Node]; monitored && !mapped[sv.Node+" "+sv.Process] {
			c.Unmonitored = append(c.Unmonitored, sv)
		}
	}
	slices.SortFunc(c.UnmappedChecks, func(a, b store.ServiceCheck) int {
		return strings.Compare(a.Node+"\x00"+a.Service, b.Node+"\x00"+b.Service)
	})
	slices.Sort(c.MissingMonitoring)
	return c
}

// forService tells whether a check's name says it is meant for a service:
// some rule's check regex matches it.
func forService(check string, rules []domain.MappingRule) bool {
	return slices.ContainsFunc(rules, func(r domain.MappingRule) bool { return r.Check.MatchString(check) })
}
