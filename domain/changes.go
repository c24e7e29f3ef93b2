package domain

import (
	"fmt"
	"strings"
)

// Changes is the difference between two architectures, as the history
// pages, dotm diff and git commit messages show it. It is stored with
// each snapshot (SnapshotSummary), so the history is shown without
// reading every snapshot.
type Changes struct {
	// From and To are the times of the two architectures (0: none).
	From int64 `json:"from"`
	To   int64 `json:"to"`

	AddedNodes, RemovedNodes       []string
	AddedServices, RemovedServices []ArchService
	// ChangedServices are ports whose process changed: [old, new].
	ChangedServices          [][2]ArchService
	AddedLinks, RemovedLinks []ArchLink
	ChangedLinks             [][2]ArchLink
	NewAlerts, ClearedAlerts []ArchAlert
	ChangedAlerts            [][2]ArchAlert
}

// Diff compares two architectures; from may be nil (everything in to is
// new).
func Diff(from, to *Architecture) *Changes {
	if from == nil {
		from = &Architecture{}
	}
	c := &Changes{From: from.Time, To: to.Time}
	id := func(s string) string { return s }
	same := func(a, b string) bool { return a == b }
	c.AddedNodes, c.RemovedNodes, _ = diffBy(from.Nodes, to.Nodes, id, same)
	c.AddedServices, c.RemovedServices, c.ChangedServices = diffBy(from.Services, to.Services,
		ArchService.Key, func(a, b ArchService) bool { return a == b })
	c.AddedLinks, c.RemovedLinks, c.ChangedLinks = diffBy(from.Connections, to.Connections,
		ArchLink.Key, func(a, b ArchLink) bool { return a == b })
	c.NewAlerts, c.ClearedAlerts, c.ChangedAlerts = diffBy(from.Alerts, to.Alerts,
		ArchAlert.Key, func(a, b ArchAlert) bool { return a == b })
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

// Totals is the size of an architecture.
type Totals struct {
	Nodes       int `json:"nodes"`
	Services    int `json:"services"`
	Connections int `json:"connections"`
	Alerts      int `json:"alerts"`
}

// Totals counts a's parts.
func (a *Architecture) Totals() Totals {
	return Totals{len(a.Nodes), len(a.Services), len(a.Connections), len(a.Alerts)}
}

// String is the size in a few words, e.g. "34 nodes, 70 services, 120
// connections, 3 alerts".
func (t Totals) String() string {
	return fmt.Sprintf("%d nodes, %d services, %d connections, %d alerts", t.Nodes, t.Services, t.Connections, t.Alerts)
}
