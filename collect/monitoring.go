package collect

import (
	"cmp"
	"context"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// Worse reports whether state a is worse than b.
func Worse(a, b string) bool { return domain.Severity(a) > domain.Severity(b) }

// SourceResult is how one monitoring source fared in a run.
type SourceResult struct {
	Source        string // without credentials
	Err           string // "" when it answered
	Hosts, Checks int
	// Orphans are checks of a host the source does not list: dropped,
	// and not counted in Checks.
	Orphans int
}

// fetchMonitoring reads every source; a failing source is reported and
// skipped, so the others still count.
func fetchMonitoring(ctx context.Context, sources []monitor.Source, timeout time.Duration) (*monitor.State, []SourceResult) {
	all := &monitor.State{}
	var results []SourceResult
	for _, src := range sources {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		st, err := src.Fetch(sctx)
		cancel()
		r := SourceResult{Source: src.String()}
		if err != nil {
			r.Err = err.Error()
		} else {
			listed := make(map[string]bool, len(st.Hosts))
			for _, h := range st.Hosts {
				listed[h.Name] = true
			}
			r.Hosts = len(st.Hosts)
			for _, sv := range st.Services {
				if !listed[sv.Host] {
					r.Orphans++
					continue
				}
				all.Services = append(all.Services, sv)
				r.Checks++
			}
			all.Hosts = append(all.Hosts, st.Hosts...)
		}
		results = append(results, r)
	}
	return all, results
}

// nodeNamer maps monitoring host names to dotm nodes: user_node_aliases
// first (the user's word wins), then the exact name (case-insensitive),
// then a short name to an FQDN whose first label it is, in either
// direction (web01 ↔ web01.dc1.example.com). Two FQDNs never match each
// other (db1.foo.example.com is not db1.bar.example.net), an IP address
// matches only exactly (10.0.0.5 is not 10.20.30.40), and a short name
// that fits several FQDNs matches none.
type nodeNamer struct {
	aliases map[string]string
	exact   map[string]string   // lower-case name → node
	fqdns   map[string][]string // lower-case first label → FQDN nodes
	shorts  map[string]string   // lower-case short name → node
}

func newNodeNamer(nodes []string, aliases map[string]string) *nodeNamer {
	n := &nodeNamer{aliases: aliases, exact: map[string]string{}, fqdns: map[string][]string{}, shorts: map[string]string{}}
	for _, node := range nodes {
		lower := strings.ToLower(node)
		n.exact[lower] = node
		switch label, fqdn := hostLabel(lower); {
		case label == "":
		case fqdn:
			n.fqdns[label] = append(n.fqdns[label], node)
		default:
			n.shorts[label] = node
		}
	}
	return n
}

// hostLabel returns the first label of a lower-case host name and whether
// the name is an FQDN (has more labels); "" for an IP address or a name
// with an empty first label.
func hostLabel(name string) (label string, fqdn bool) {
	if _, err := netip.ParseAddr(name); err == nil {
		return "", false
	}
	label, _, fqdn = strings.Cut(name, ".")
	return label, fqdn
}

// node returns the node a monitoring host name stands for, or "".
func (n *nodeNamer) node(name string) string {
	if a, ok := n.aliases[name]; ok {
		return a
	}
	lower := strings.ToLower(name)
	if node, ok := n.exact[lower]; ok {
		return node
	}
	switch label, fqdn := hostLabel(lower); {
	case label == "":
	case fqdn:
		return n.shorts[label]
	case len(n.fqdns[label]) == 1:
		return n.fqdns[label][0]
	}
	return "" // unknown, or ambiguous between several nodes
}

// nodeChecks is what monitoring says about one node, ready to store.
type nodeChecks struct {
	node   store.NodeCheck
	checks []store.ServiceCheck
	alerts map[int]string // service port → worst state of its mapped checks
}

// mapChecks joins monitoring state onto nodes and their services, and
// returns the monitored hosts that are no node. Checks are mapped to
// services by service_mapping: a check whose name matches a rule's check
// regex hits every service of its node whose process matches the rule's
// process regex.
func mapChecks(st *monitor.State, conf *domain.Conf, services map[string][]store.Service, namer *nodeNamer,
	useAliases bool) (map[string]*nodeChecks, []string) {
	var unknown []string
	out := map[string]*nodeChecks{}
	hostNode := map[string]string{}
	get := func(node string) *nodeChecks {
		nc := out[node]
		if nc == nil {
			nc = &nodeChecks{node: store.NodeCheck{Node: node, ServicesAlerts: map[string]string{},
				OtherAlerts: map[string]string{}}, alerts: map[int]string{}}
			out[node] = nc
		}
		return nc
	}
	for _, h := range st.Hosts {
		name := h.Name
		if useAliases && h.Alias != "" {
			name = h.Alias
		}
		node := namer.node(name)
		if node == "" {
			unknown = append(unknown, h.Name)
			continue
		}
		hostNode[h.Name] = node
		nc := get(node)
		nc.node.Status, nc.node.LastCheck, nc.node.LastStatusChange = h.Status, h.LastCheck, h.LastStateChange
		nc.node.StatusInformation = h.Output
	}
	for _, s := range st.Services {
		node, ok := hostNode[s.Host]
		if !ok {
			continue
		}
		nc := get(node)
		hit := hits(s.Name, conf.Mapping, services[node])
		procs := map[string]bool{}
		for _, sv := range hit {
			procs[sv.Process] = true
			if cur, seen := nc.alerts[sv.Port]; !seen || Worse(s.Status, cur) {
				nc.alerts[sv.Port] = s.Status
			}
			if cur, seen := nc.node.ServicesAlerts[sv.Process]; s.Status != monitor.OK && (!seen || Worse(s.Status, cur)) {
				nc.node.ServicesAlerts[sv.Process] = s.Status
			}
		}
		if len(hit) == 0 && s.Status != monitor.OK {
			nc.node.OtherAlerts[s.Name] = s.Status
		}
		nc.checks = append(nc.checks, store.ServiceCheck{
			Node: node, Service: s.Name, Status: s.Status, LastCheck: s.LastCheck,
			LastStatusChange: s.LastStateChange, StatusInformation: s.Output,
			Mapping: strings.Join(slices.Sorted(maps.Keys(procs)), ","),
		})
	}
	for _, nc := range out {
		slices.SortFunc(nc.checks, func(a, b store.ServiceCheck) int { return strings.Compare(a.Service, b.Service) })
	}
	slices.Sort(unknown)
	return out, slices.Compact(unknown)
}

// hits returns the services of a node that a check concerns.
func hits(check string, rules []domain.MappingRule, services []store.Service) []store.Service {
	var out []store.Service
	for _, sv := range services {
		for _, r := range rules {
			if r.Check.MatchString(check) && r.Process.MatchString(sv.Process) {
				out = append(out, sv)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Service) int { return cmp.Compare(a.Port, b.Port) })
	return out
}

// writeMonitoring stores the mapped checks with expiry and sets each
// service's alert_status. Where no check maps any more the status is
// cleared, but for nodes monitoring did not mention only when every source
// answered: a source that failed keeps its old alerts until they expire.
func writeMonitoring(ctx context.Context, st checkWriter, mapped map[string]*nodeChecks,
	services map[string][]store.Service, ttl time.Duration, allAnswered bool) error {
	for _, node := range slices.Sorted(maps.Keys(mapped)) {
		nc := mapped[node]
		if err := st.SetChecks(ctx, nc.node, nc.checks, ttl); err != nil {
			return err
		}
	}
	for node, svcs := range services {
		var alerts map[int]string
		if nc := mapped[node]; nc != nil {
			alerts = nc.alerts
		} else if !allAnswered {
			continue
		}
		if err := st.SetAlertStatus(ctx, node, svcs, alerts); err != nil {
			return err
		}
	}
	return nil
}
