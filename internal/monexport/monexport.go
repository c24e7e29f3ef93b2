// Package monexport turns the observed architecture into dependency
// objects for the monitoring: Nagios hostdependency and servicedependency
// definitions, Icinga 2 Dependency objects. A client's mapped checks come
// to depend on the mapped checks of the service it uses, so the
// monitoring suppresses alerts that are only consequences.
package monexport

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lwindolf/dotm/store"
)

// ServiceDep is "the client's check depends on the server's check".
type ServiceDep struct {
	Host, Service                   string // the server's host and its check
	DependentHost, DependentService string // the client's
}

// HostDep is "the client host depends on the server host".
type HostDep struct{ Host, DependentHost string }

// Deps are the dependencies to export, sorted, without cycles.
type Deps struct {
	Hosts    []HostDep
	Services []ServiceDep
	// Skipped counts names that cannot be written safely into a
	// configuration file (control characters, quotes, ';', '!').
	Skipped int
	// Cycles counts dependencies left out because they would close a
	// circle, which both daemons refuse.
	Cycles int
}

// edge is a client node using a server node's port, with the processes
// at either end.
type edge struct {
	client, server, port   string
	clientProc, serverProc string
}

// Build finds the dependencies in cur: connections between two listed
// nodes seen within aging of the client's last successful fetch, with at
// least minCount sockets, whose client process and server process both
// have mapped checks (hosts: both nodes monitored). Monitoring host names
// come from aliases (monitoring name → node) reversed, else the node name.
func Build(cur *store.Current, aging time.Duration, minCount int, aliases map[string]string) *Deps {
	listed := map[string]bool{}
	for _, n := range cur.Nodes {
		listed[n] = true
	}
	latest := cur.Latest()
	serverProc := map[string]string{} // node + " " + port
	for _, sv := range cur.Services {
		serverProc[sv.Node+" "+strconv.Itoa(sv.Port)] = sv.Process
	}
	// checks maps node → process → check names mapped to it.
	checks := map[string]map[string][]string{}
	for node, c := range cur.Checks {
		checks[node] = map[string][]string{}
		for _, sc := range c.Services {
			for _, p := range strings.Split(sc.Mapping, ",") {
				if p != "" {
					checks[node][p] = append(checks[node][p], sc.Service)
				}
			}
		}
	}
	host := MonitoringNames(aliases)
	agingS := int64(aging / time.Second)
	edges := map[edge]bool{}
	for _, c := range cur.Connections {
		if c.Direction != store.Out || c.LocalService != "" || c.Node == c.Remote ||
			!listed[c.Node] || !listed[c.Remote] || c.Connections < minCount ||
			latest[c.Node]-c.LastSeen >= agingS {
			continue
		}
		sp, ok := serverProc[c.Remote+" "+c.Port]
		if !ok {
			continue
		}
		edges[edge{client: c.Node, server: c.Remote, port: c.Port, clientProc: c.Process, serverProc: sp}] = true
	}
	d := &Deps{}
	hostDeps := map[HostDep]bool{}
	svcDeps := map[ServiceDep]bool{}
	for e := range edges {
		if _, ok := checks[e.client]; !ok {
			continue
		}
		if _, ok := checks[e.server]; !ok {
			continue
		}
		h, dh := host(e.server), host(e.client)
		if !safe(h) || !safe(dh) {
			d.Skipped++
			continue
		}
		hostDeps[HostDep{Host: h, DependentHost: dh}] = true
		for _, sc := range checks[e.server][e.serverProc] {
			for _, cc := range checks[e.client][e.clientProc] {
				if !safe(sc) || !safe(cc) {
					d.Skipped++
					continue
				}
				svcDeps[ServiceDep{Host: h, Service: sc, DependentHost: dh, DependentService: cc}] = true
			}
		}
	}
	d.Hosts = slices.SortedFunc(maps.Keys(hostDeps), func(a, b HostDep) int {
		return cmp.Or(strings.Compare(a.DependentHost, b.DependentHost), strings.Compare(a.Host, b.Host))
	})
	d.Services = slices.SortedFunc(maps.Keys(svcDeps), func(a, b ServiceDep) int {
		return cmp.Or(strings.Compare(a.DependentHost, b.DependentHost), strings.Compare(a.DependentService, b.DependentService),
			strings.Compare(a.Host, b.Host), strings.Compare(a.Service, b.Service))
	})
	d.Hosts, d.Cycles = acyclic(d.Hosts, func(x HostDep) (string, string) { return x.DependentHost, x.Host })
	var n int
	d.Services, n = acyclic(d.Services, func(x ServiceDep) (string, string) {
		return x.DependentHost + "!" + x.DependentService, x.Host + "!" + x.Service
	})
	d.Cycles += n
	return d
}

// MonitoringNames maps a node back to its monitoring host name through
// the aliases; several aliases of one node: the first by name.
func MonitoringNames(aliases map[string]string) func(string) string {
	back := map[string]string{}
	for _, mon := range slices.Sorted(maps.Keys(aliases)) {
		if _, ok := back[aliases[mon]]; !ok {
			back[aliases[mon]] = mon
		}
	}
	return func(node string) string { return cmp.Or(back[node], node) }
}

// acyclic keeps the dependencies in order, leaving out each one that
// would close a circle with those kept before it.
func acyclic[T any](in []T, ends func(T) (from, to string)) ([]T, int) {
	next := map[string][]string{}
	reaches := func(a, b string) bool {
		seen := map[string]bool{}
		stack := []string{a}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if x == b {
				return true
			}
			if !seen[x] {
				seen[x] = true
				stack = append(stack, next[x]...)
			}
		}
		return false
	}
	var out []T
	dropped := 0
	for _, x := range in {
		from, to := ends(x)
		if from == to || reaches(to, from) {
			dropped++
			continue
		}
		next[from] = append(next[from], to)
		out = append(out, x)
	}
	return out, dropped
}

// safe reports whether a name can be written into both daemons'
// configuration as it is.
func safe(s string) bool {
	return s != "" && strings.TrimSpace(s) == s && !strings.ContainsAny(s, ";!\"\\#{}") &&
		!strings.ContainsFunc(s, unicode.IsControl)
}
