package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/store"
)

// Changes is the difference between two architectures.
type Changes struct {
	From, To *store.Architecture

	AddedNodes, RemovedNodes       []string
	AddedServices, RemovedServices []store.ArchService
	// ChangedServices are ports whose process changed: [old, new].
	ChangedServices          [][2]store.ArchService
	AddedLinks, RemovedLinks []store.ArchLink
	ChangedLinks             [][2]store.ArchLink
	NewAlerts, ClearedAlerts []store.ArchAlert
	ChangedAlerts            [][2]store.ArchAlert
}

// Diff compares two architectures; from may be nil (everything in to is
// new).
func Diff(from, to *store.Architecture) *Changes {
	if from == nil {
		from = &store.Architecture{}
	}
	c := &Changes{From: from, To: to}
	id := func(s string) string { return s }
	same := func(a, b string) bool { return a == b }
	c.AddedNodes, c.RemovedNodes, _ = diffBy(from.Nodes, to.Nodes, id, same)
	c.AddedServices, c.RemovedServices, c.ChangedServices = diffBy(from.Services, to.Services,
		store.ArchService.Key, func(a, b store.ArchService) bool { return a == b })
	c.AddedLinks, c.RemovedLinks, c.ChangedLinks = diffBy(from.Connections, to.Connections,
		store.ArchLink.Key, func(a, b store.ArchLink) bool { return a == b })
	c.NewAlerts, c.ClearedAlerts, c.ChangedAlerts = diffBy(from.Alerts, to.Alerts,
		store.ArchAlert.Key, func(a, b store.ArchAlert) bool { return a == b })
	return c
}

// diffBy compares two lists by key: what only new has, what only old
// has, and pairs [old, new] under one key that are not equal. Results
// keep the lists' order.
func diffBy[T any](old, new []T, key func(T) string, equal func(a, b T) bool) (added, removed []T, changed [][2]T) {
	before := make(map[string]T, len(old))
	for _, o := range old {
		before[key(o)] = o
	}
	after := make(map[string]bool, len(new))
	for _, n := range new {
		k := key(n)
		after[k] = true
		o, ok := before[k]
		switch {
		case !ok:
			added = append(added, n)
		case !equal(o, n):
			changed = append(changed, [2]T{o, n})
		}
	}
	for _, o := range old {
		if !after[key(o)] {
			removed = append(removed, o)
		}
	}
	return added, removed, changed
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool { return c.Summary() == "no change" }

// Summary is the change in a few words, e.g. "+3 connections,
// -1 service, 2 new alerts" ("no change" when there is none).
func (c *Changes) Summary() string {
	var parts []string
	count := func(n int, format, one, many string) {
		if n == 0 {
			return
		}
		word := many
		if n == 1 {
			word = one
		}
		parts = append(parts, fmt.Sprintf(format, n, word))
	}
	count(len(c.AddedNodes), "+%d %s", "node", "nodes")
	count(len(c.RemovedNodes), "-%d %s", "node", "nodes")
	count(len(c.AddedServices), "+%d %s", "service", "services")
	count(len(c.RemovedServices), "-%d %s", "service", "services")
	count(len(c.ChangedServices), "%d %s", "service changed process", "services changed process")
	count(len(c.AddedLinks), "+%d %s", "connection", "connections")
	count(len(c.RemovedLinks), "-%d %s", "connection", "connections")
	count(len(c.ChangedLinks), "%d %s", "connection changed process", "connections changed process")
	count(len(c.NewAlerts), "%d %s", "new alert", "new alerts")
	count(len(c.ChangedAlerts), "%d %s", "alert changed state", "alerts changed state")
	count(len(c.ClearedAlerts), "%d %s", "alert cleared", "alerts cleared")
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// Totals is the size of an architecture in a few words, e.g. "34 nodes,
// 70 services, 120 connections, 3 alerts".
func Totals(a *store.Architecture) string {
	return fmt.Sprintf("%d nodes, %d services, %d connections, %d alerts",
		len(a.Nodes), len(a.Services), len(a.Connections), len(a.Alerts))
}

// HistoryEntry is a snapshot with its changes against the one before.
type HistoryEntry struct {
	Arch    *store.Architecture
	Changes *Changes
}

// History pairs each snapshot (oldest first) with its changes against
// the previous one (nil for the first), and returns them newest first.
func History(snaps []*store.Architecture) []HistoryEntry {
	out := make([]HistoryEntry, len(snaps))
	var prev *store.Architecture
	for i, a := range snaps {
		out[i] = HistoryEntry{Arch: a}
		if prev != nil { // the first snapshot has nothing to compare with
			out[i].Changes = Diff(prev, a)
		}
		prev = a
	}
	slices.Reverse(out)
	return out
}

// Baseline is the newest snapshot taken at or before t, or else the
// oldest one (exact is false then); nil when there are none.
func Baseline(snaps []*store.Architecture, t int64) (a *store.Architecture, exact bool) {
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i].Time <= t {
			return snaps[i], true
		}
	}
	if len(snaps) > 0 {
		return snaps[0], false
	}
	return nil, false
}
