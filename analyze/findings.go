package analyze

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/lwindolf/dotm/store"
)

// Findings answer "do we still need X?" and "what is broken?": computed
// once from a Model for the site's Unused & Problems pages and for
// `dotm report`.
type Findings struct {
	// Generated is the model's Now; LastCollection is when collect last
	// finished (0: never).
	Generated      int64
	LastCollection int64
	// Since, when set, limited Unused and Disconnected to findings that
	// arose at or after it.
	Since int64
	// Unused are services still listening that no client used for at
	// least the aging setting, by node and port.
	Unused []UnusedService
	// Disconnected are connections a node stopped showing at least the
	// aging setting before its last successful fetch, each counted once
	// (see store.Links), by node, port, remote.
	Disconnected []store.Connection
	// Coverage gaps, from monitoring.
	Unmonitored       []store.Service
	UnmappedChecks    []store.ServiceCheck
	MissingMonitoring []string
	// FetchErrors are nodes whose last fetch failed or that were never
	// fetched.
	FetchErrors []FetchError
	// Aging is the services' aging setting, for the wording.
	Aging time.Duration
	// StaleCollection is set when the last collection is more than a
	// day older than Generated: cron may have stopped.
	StaleCollection bool
	// StoreProblems are the store's records that were skipped because
	// they cannot be read (store.Current.Problems).
	StoreProblems []store.Problem
}

// UnusedService is a service without clients: Never used since it was
// first seen, or last used at LastConnection.
type UnusedService struct {
	store.Service
	Never bool
}

// FetchError is a node that could not be fetched. LastSuccess is when it
// last answered (0: never).
type FetchError struct {
	Node        string
	Status      string
	LastFetch   int64
	LastSuccess int64
}

// staleCollection is how old the last collection may get before the
// findings warn that collection has stopped.
const staleCollection = 24 * time.Hour

// Count is the number of findings: what --fail-on-findings tests.
func (f *Findings) Count() int {
	n := len(f.Unused) + len(f.Disconnected) + len(f.Unmonitored) + len(f.UnmappedChecks) +
		len(f.MissingMonitoring) + len(f.FetchErrors) + len(f.StoreProblems)
	if f.StaleCollection {
		n++
	}
	return n
}

// FindingsOf computes the findings of m. since (unix seconds, 0: all)
// keeps only unused services and disconnections that arose at or after
// it: when the aging period ran out for them.
func FindingsOf(m *Model, since int64) *Findings {
	f := &Findings{Generated: m.Now, LastCollection: m.State.LastUpdated, Since: since, Aging: m.Conf.UnusedServices}
	f.StaleCollection = f.LastCollection != 0 && time.Duration(m.Now-f.LastCollection)*time.Second > staleCollection
	cur := m.Current
	f.StoreProblems = cur.Problems
	latest := cur.Latest()
	listed := map[string]bool{}
	for _, n := range cur.Nodes {
		listed[n] = true
	}
	agingSvc, agingConn := int64(m.Conf.UnusedServices/time.Second), int64(m.Conf.AgingConns/time.Second)
	for _, sv := range cur.Services {
		ref := latest[sv.Node]
		if !listed[sv.Node] || sv.LastSeen < ref {
			continue // gone from the node: not listening any more
		}
		used := cmp.Or(sv.LastConnection, sv.FirstSeen)
		if ref-used >= agingSvc && used+agingSvc >= since {
			f.Unused = append(f.Unused, UnusedService{Service: sv, Never: sv.LastConnection == 0})
		}
	}
	var gone []store.Connection
	for _, c := range cur.Connections {
		ref := latest[c.Node]
		if listed[c.Node] && ref-c.LastSeen >= agingConn && c.LastSeen+agingConn >= since &&
			!m.Hidden(c.LastSeen, "Connections") {
			gone = append(gone, c)
		}
	}
	f.Disconnected = store.Links(gone)
	if m.Coverage.Monitored {
		f.Unmonitored = m.Coverage.Unmonitored
		f.UnmappedChecks = m.Coverage.UnmappedChecks
		f.MissingMonitoring = m.Coverage.MissingMonitoring
	}
	for _, n := range cur.Infos {
		if n.LastFetch == 0 || n.FetchStatus != "OK" {
			f.FetchErrors = append(f.FetchErrors, FetchError{Node: n.Name, Status: cmp.Or(n.FetchStatus, "never fetched"),
				LastFetch: n.LastFetch, LastSuccess: latest[n.Name]})
		}
	}
	slices.SortFunc(f.FetchErrors, func(a, b FetchError) int { return strings.Compare(a.Node, b.Node) })
	return f
}
