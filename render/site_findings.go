package render

import (
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/timefmt"
	"github.com/lwindolf/dotm/store"
)

type findingsPage struct {
	*page
	F *analyze.Findings
}

// findings builds the pages of the findings: unused & stale, problems.
func (b *builder) findings(pg sitePage) error {
	return b.render(pg.path, pg.tmpl, &findingsPage{b.top(pg), b.f})
}

type changesPage struct {
	*page
	Windows []analyze.Window
}

type historyPage struct {
	*page
	Entries []store.SnapshotSummary // newest first
}

type snapshotPage struct {
	*page
	E store.SnapshotSummary
}

// changes writes changes.html: what changed in each window.
func (b *builder) changes(pg sitePage) error {
	return b.render(pg.path, pg.tmpl, &changesPage{page: b.top(pg), Windows: b.m.Windows})
}

// history writes history.html, one page per snapshot and the archived
// architecture.json.
func (b *builder) history(pg sitePage) error {
	entries := slices.Clone(b.m.History)
	slices.Reverse(entries)
	if err := b.render(pg.path, pg.tmpl, &historyPage{b.top(pg), entries}); err != nil {
		return err
	}
	for _, e := range entries {
		path := SnapshotPath(e.Time)
		p := &snapshotPage{b.newPage(path, "Snapshot "+timefmt.Stamp(e.Time)), e}
		if _, ok := b.svgs[snapshotGraph(e.Time)]; ok {
			p.Graph = b.inlineSVG(snapshotGraph(e.Time))
		}
		if err := b.render(path, "snapshot", p); err != nil {
			return err
		}
	}
	return b.w.Write("architecture.json", InertJSON(b.m.Architecture().MarshalCanonical()))
}

// SnapshotPath is the site path of a snapshot's page.
func SnapshotPath(ts int64) string { return "history/" + strconv.FormatInt(ts, 10) + ".html" }

// snapshotGraph is the site path (without extension) of the map of a
// snapshot's changes (ChangesDOT), beside its page.
func snapshotGraph(ts int64) string { return strings.TrimSuffix(SnapshotPath(ts), ".html") }

// SnapshotLink is the relative link from this page to a snapshot's page.
func (p *page) SnapshotLink(ts int64) string { return p.Root + SnapshotPath(ts) }
