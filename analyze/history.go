package analyze

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// LoadHistory reads the history for the site's pages into m: every
// snapshot's summary, and the snapshots the Changes page compares the
// current architecture with. What cannot be read is left out; its errors
// are returned in bad for the caller to report, and those that name a key
// join the store problems the Problems page lists.
func LoadHistory(ctx context.Context, st HistoryReader, m *Model) (bad []error, err error) {
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
				win.Since, win.Exact, win.Changes = base, exact, domain.Diff(base, now)
			}
		}
		m.Windows = append(m.Windows, win)
	}
	return bad, nil
}

// Architecture is m's current architecture as archived in git: no time.
// It is computed once; callers must not change it.
func (m *Model) Architecture() *domain.Architecture {
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
	Since   *domain.Architecture // the baseline, nil without history
	Exact   bool                 // the baseline is as old as the window
	Changes *domain.Changes
}
