// Package alarm turns dotm's findings into monitoring results: the plugin
// result of "dotm check"'s findings modes, and the passive check results
// "dotm report --submit" sends to Nagios, Naemon or Icinga. One piece of
// code decides a node's state for both, so the active check and the
// passive result of a node always agree.
package alarm

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/plugin"
)

// DefaultWarning is the WARNING range of the findings modes when none is
// given: any finding at all.
const DefaultWarning = "0"

// DefaultThresholds are the findings modes' thresholds when none are
// given: any finding is a WARNING, none is CRITICAL.
func DefaultThresholds() plugin.Thresholds {
	th, err := plugin.ParseThresholds(DefaultWarning, "", "")
	if err != nil {
		panic(err) // a constant range
	}
	return th
}

// NodeResult is node's state as its findings f (of that node, see
// analyze.Findings.For) make it: the number of findings against th (by
// default any finding is a WARNING), one long output line per finding and
// perfdata of each kind.
func NodeResult(f *analyze.Findings, node string, th plugin.Thresholds) *plugin.Result {
	r := &plugin.Result{}
	for _, u := range f.Unused {
		last := "never used since first seen"
		if !u.Never {
			last = "last used " + stamp(u.LastConnection)
		}
		r.Long = append(r.Long, fmt.Sprintf("unused service %d (%s): %s", u.Port, u.Process, last))
	}
	for _, c := range f.Disconnected {
		r.Long = append(r.Long, fmt.Sprintf("disconnected %s %s port %s (%s), last seen %s", c.Direction, c.Remote, c.Port,
			c.Process, stamp(c.LastSeen)))
	}
	for _, sv := range f.Unmonitored {
		r.Long = append(r.Long, fmt.Sprintf("unmonitored service %d (%s): no check maps to it", sv.Port, sv.Process))
	}
	for _, c := range f.UnmappedChecks {
		r.Long = append(r.Long, fmt.Sprintf("check %s (%s) maps to nothing: a service_mapping rule matches its name, no process of the node", c.Service, c.Status))
	}
	for _, fe := range f.FetchErrors {
		r.Long = append(r.Long, "fetch failed: "+fe.Status)
	}
	for _, p := range f.StoreProblems {
		r.Long = append(r.Long, "store: "+p.Error())
	}
	if len(f.MissingMonitoring) > 0 {
		r.Long = append(r.Long, "the monitoring does not know this node")
	}
	n := f.Count()
	r.State = th.State(float64(n))
	r.Summary = fmt.Sprintf("%s: %s", node, kinds(f))
	r.Perf = append([]plugin.Perf{{Label: "findings", Value: float64(n), Thresholds: th, Min: plugin.Zero()}}, kindPerf(f)...)
	return r
}

// FleetResult is the fleet's state as its findings f make it: the number
// of findings against th, as for one node, with one long output line per
// node that has findings.
func FleetResult(f *analyze.Findings, nodes []string, th plugin.Thresholds) *plugin.Result {
	r := &plugin.Result{}
	byNode := map[string]bool{}
	for _, u := range f.Unused {
		byNode[u.Node] = true
	}
	for _, c := range f.Disconnected {
		byNode[c.Node] = true
	}
	for _, sv := range f.Unmonitored {
		byNode[sv.Node] = true
	}
	for _, fe := range f.FetchErrors {
		byNode[fe.Node] = true
	}
	for _, n := range f.MissingMonitoring {
		byNode[n] = true
	}
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		r.Long = append(r.Long, fmt.Sprintf("%s: %s", node, kinds(f.For(node))))
	}
	n := f.Count()
	r.State = th.State(float64(n))
	r.Summary = fmt.Sprintf("%d of %d nodes with findings: %s", len(byNode), len(nodes), kinds(f))
	total := float64(len(nodes))
	r.Perf = append([]plugin.Perf{{Label: "findings", Value: float64(n), Thresholds: th, Min: plugin.Zero()}}, kindPerf(f)...)
	r.Perf = append(r.Perf, plugin.Perf{Label: "nodes_with_findings", Value: float64(len(byNode)), Min: plugin.Zero(), Max: &total})
	return r
}

// kinds says how many findings of each kind f holds.
func kinds(f *analyze.Findings) string {
	s := fmt.Sprintf("%d unused services, %d disconnected, %d unmonitored", len(f.Unused), len(f.Disconnected), len(f.Unmonitored))
	if n := len(f.UnmappedChecks); n > 0 {
		s += fmt.Sprintf(", %d unmapped checks", n)
	}
	switch n := len(f.FetchErrors); {
	case n == 1:
		s += ", fetch failed"
	case n > 1:
		s += fmt.Sprintf(", %d fetches failed", n)
	}
	switch n := len(f.MissingMonitoring); {
	case n == 1:
		s += ", not monitored"
	case n > 1:
		s += fmt.Sprintf(", %d not monitored", n)
	}
	if n := len(f.StoreProblems); n > 0 {
		s += fmt.Sprintf(", %d unreadable store records", n)
	}
	if f.StaleCollection {
		s += ", collection more than a day old"
	}
	return s
}

// kindPerf is the perfdata of each kind of finding.
func kindPerf(f *analyze.Findings) []plugin.Perf {
	return []plugin.Perf{
		{Label: "unused", Value: float64(len(f.Unused)), Min: plugin.Zero()},
		{Label: "disconnected", Value: float64(len(f.Disconnected)), Min: plugin.Zero()},
		{Label: "unmonitored", Value: float64(len(f.Unmonitored)), Min: plugin.Zero()},
	}
}

func stamp(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
