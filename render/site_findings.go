package render

import (
	"slices"
	"strconv"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/timefmt"
	"github.com/lwindolf/dotm/store"
)

type findingsPage struct {
	*page
	F *analyze.Findings
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
		p := &snapshotPage{b.newPage(path, "Snapshot "+timefmt.Stamp(e.Time)), e}
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
