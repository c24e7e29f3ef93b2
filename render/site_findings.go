package render

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lwindolf/dotm/store"
)

// LoadHistory reads the history snapshots into m for the site's history
// pages. A snapshot that cannot be read is left out; its error is
// returned in bad for the caller to report.
func LoadHistory(ctx context.Context, st *store.Store, m *Model) (bad []error, err error) {
	m.Snapshots, bad, err = st.Snapshots(ctx)
	return bad, err
}

// Architecture is m's current architecture as archived in git: no time.
func (m *Model) Architecture() *store.Architecture { return m.Current.Architecture(0) }

type findingsPage struct {
	*page
	F *Findings
}

func (b *builder) findings() error {
	f := FindingsOf(b.m, 0)
	if err := b.render("unused.html", "unused", &findingsPage{b.newPage("unused.html", "Unused & stale"), f}); err != nil {
		return err
	}
	return b.render("problems.html", "problems", &findingsPage{b.newPage("problems.html", "Problems"), f})
}

// window is a "changes in the last …" section.
type window struct {
	Name    string
	Since   *store.Architecture // the baseline, nil without history
	Exact   bool                // the baseline is as old as the window
	Changes *Changes
}

type changesPage struct {
	*page
	Windows []window
}

type historyPage struct {
	*page
	Entries []HistoryEntry
}

type snapshotPage struct {
	*page
	E HistoryEntry
}

// history writes changes.html, history.html and one page per snapshot.
func (b *builder) history() error {
	now := b.m.Architecture()
	asOf := b.m.AsOf()
	cp := &changesPage{page: b.newPage("changes.html", "Changes")}
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"24 hours", 24 * time.Hour}, {"7 days", 7 * 24 * time.Hour}} {
		base, exact := Baseline(b.m.Snapshots, asOf-int64(w.d/time.Second))
		win := window{Name: w.name, Since: base, Exact: exact}
		if base != nil {
			win.Changes = Diff(base, now)
		}
		cp.Windows = append(cp.Windows, win)
	}
	if err := b.render("changes.html", "changes", cp); err != nil {
		return err
	}
	entries := History(b.m.Snapshots)
	if err := b.render("history.html", "history", &historyPage{b.newPage("history.html", "History"), entries}); err != nil {
		return err
	}
	for _, e := range entries {
		path := SnapshotPath(e.Arch.Time)
		p := &snapshotPage{b.newPage(path, "Snapshot "+stamp(e.Arch.Time)), e}
		if err := b.render(path, "snapshot", p); err != nil {
			return err
		}
	}
	return b.w.Write("architecture.json", now.MarshalCanonical())
}

// SnapshotPath is the site path of a snapshot's page.
func SnapshotPath(ts int64) string { return "history/" + strconv.FormatInt(ts, 10) + ".html" }

// SnapshotLink is the relative link from this page to a snapshot's page.
func (p *page) SnapshotLink(ts int64) string { return p.Root + SnapshotPath(ts) }

// Totals is the size of an architecture in a few words.
func (p *page) Totals(a *store.Architecture) string { return Totals(a) }

// span shows a duration in seconds the way people say it: "3 days",
// "5 hours", "40 minutes".
func span(secs int64) string {
	switch d := time.Duration(secs) * time.Second; {
	case secs <= 0:
		return "less than a run"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	default:
		return fmt.Sprintf("%d seconds", secs)
	}
}
