package render

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lwindolf/dotm/store"
)

// LoadHistory reads the history for the site's pages into m: every
// snapshot's summary, and the snapshots the Changes page compares the
// current architecture with. What cannot be read is left out; its errors
// are returned in bad for the caller to report, and those that name a key
// join the store problems the Problems page lists.
func LoadHistory(ctx context.Context, st *store.Store, m *Model) (bad []error, err error) {
	defer func() {
		for _, b := range bad {
			p := store.Problem{}
			if errors.As(b, &p) && !slices.ContainsFunc(m.Current.Problems, func(q store.Problem) bool {
				return q.Error() == p.Error()
			}) {
				m.Current.Problems = append(m.Current.Problems, p)
			}
		}
	}()
	if m.History, bad, err = st.SnapshotSummaries(ctx); err != nil {
		return bad, err
	}
	now := m.Architecture()
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"24 hours", 24 * time.Hour}, {"7 days", 7 * 24 * time.Hour}} {
		win := Window{Name: w.name}
		ts, exact, ok := baseline(m.History, m.AsOf()-int64(w.d/time.Second))
		if ok {
			base, found, err := st.LoadSnapshot(ctx, ts)
			if err != nil {
				bad = append(bad, err)
			}
			if found {
				win.Since, win.Exact, win.Changes = base, exact, store.Diff(base, now)
			}
		}
		m.Windows = append(m.Windows, win)
	}
	return bad, nil
}

// Architecture is m's current architecture as archived in git: no time.
// It is computed once; callers must not change it.
func (m *Model) Architecture() *store.Architecture {
	m.archOnce.Do(func() { m.arch = m.Current.Architecture(0) })
	return m.arch
}

// baseline is the time of the newest snapshot taken at or before t, or
// else of the oldest one (exact is false then); ok is false when there
// are none.
func baseline(history []store.SnapshotSummary, t int64) (ts int64, exact, ok bool) {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Time <= t {
			return history[i].Time, true, true
		}
	}
	if len(history) > 0 {
		return history[0].Time, false, true
	}
	return 0, false, false
}

// Window is a "changes in the last …" section of the Changes page.
type Window struct {
	Name    string
	Since   *store.Architecture // the baseline, nil without history
	Exact   bool                // the baseline is as old as the window
	Changes *store.Changes
}

type findingsPage struct {
	*page
	F *Findings
}

func (b *builder) findings() error {
	f := b.f
	if err := b.render("unused.html", "unused", &findingsPage{b.newPage("unused.html", "Unused & stale"), f}); err != nil {
		return err
	}
	return b.render("problems.html", "problems", &findingsPage{b.newPage("problems.html", "Problems"), f})
}

type changesPage struct {
	*page
	Windows []Window
}

type historyPage struct {
	*page
	Entries []store.SnapshotSummary // newest first
}

type snapshotPage struct {
	*page
	E store.SnapshotSummary
}

// history writes changes.html, history.html and one page per snapshot.
func (b *builder) history() error {
	cp := &changesPage{page: b.newPage("changes.html", "Changes"), Windows: b.m.Windows}
	if err := b.render("changes.html", "changes", cp); err != nil {
		return err
	}
	entries := slices.Clone(b.m.History)
	slices.Reverse(entries)
	if err := b.render("history.html", "history", &historyPage{b.newPage("history.html", "History"), entries}); err != nil {
		return err
	}
	for _, e := range entries {
		path := SnapshotPath(e.Time)
		p := &snapshotPage{b.newPage(path, "Snapshot "+stamp(e.Time)), e}
		if err := b.render(path, "snapshot", p); err != nil {
			return err
		}
	}
	return b.w.Write("architecture.json", InertJSON(b.m.Architecture().MarshalCanonical()))
}

// SnapshotPath is the site path of a snapshot's page.
func SnapshotPath(ts int64) string { return "history/" + strconv.FormatInt(ts, 10) + ".html" }

// SnapshotLink is the relative link from this page to a snapshot's page.
func (p *page) SnapshotLink(ts int64) string { return p.Root + SnapshotPath(ts) }

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
