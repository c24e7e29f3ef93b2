package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/render"
	"github.com/lwindolf/dotm/render/layout"
	"github.com/lwindolf/dotm/site"
	"github.com/lwindolf/dotm/store"
	"github.com/lwindolf/dotm/templates"
	"github.com/spf13/pflag"
)

type renderOpts struct {
	out, now, notes, layout, cache string
	notesUnsafe, quiet             bool
	geoip                          []string
	metricsFile                    string
	refresh                        int
	// betweenReads, if set, runs in each attempt to read the store after
	// dotm::state was read and before the model is: tests change the
	// store there, as a collect or a flush would.
	betweenReads func(attempt int) error
}

func renderCommand() *command {
	return &command{
		name:    "render",
		summary: "write the static site from the store",
		details: `Writes into a temporary directory beside --out and swaps it in when complete,
so a web server never serves a half-written site and a failed render leaves the
previous one. The same data renders byte-identical files. Graphs whose DOT did
not change since the last render are not laid out again (--cache).`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var o renderOpts
			fs.StringVar(&o.out, "out", "", "directory to publish the site in (required)")
			fs.StringVar(&o.now, "now", "", "the time to render as (unix seconds or RFC 3339)")
			fs.StringVar(&o.notes, "notes", "", "directory of Markdown notes: nodes/<node>.md, services/<process>.md")
			fs.BoolVar(&o.notesUnsafe, "notes-unsafe", false, "pass raw HTML in notes through (trusted notes only)")
			fs.IntVar(&o.refresh, "refresh", 0, "pages reload themselves every SECONDS (a meta refresh; 0: never)")
			fs.StringVar(&o.layout, "layout", "embedded", "graph layout: embedded (built in), native (system Graphviz dot), auto")
			fs.StringArrayVar(&o.geoip, "geoip", nil, "MaxMind/GeoLite2 City, Country or ASN database (.mmdb) for the Geo page and Internet labels (repeatable)")
			fs.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success (for cron)")
			fs.StringVar(&o.cache, "cache", defaultCacheDir(), "directory of laid-out graphs, reused while their DOT is unchanged")
			metricsFlag(fs, &o.metricsFile)
			return func(ctx context.Context, e *env, args []string) error { return runRender(ctx, e, args, o) }
		},
	}
}

// defaultCacheDir is --cache's default: /var/cache/dotm for root, else
// the user's cache directory.
func defaultCacheDir() string {
	if os.Geteuid() == 0 {
		return "/var/cache/dotm"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "dotm")
	}
	return "" // never a shared temporary directory: no cache then
}

func runRender(ctx context.Context, e *env, args []string, o renderOpts) (err error) {
	const path = "dotm render"
	rec := startMetrics(o.metricsFile, "render")
	defer func() { err = rec.done(err) }()
	if err := noArgs(path, args); err != nil {
		return err
	}
	if o.out == "" {
		return usagef(path, "--out DIR is required")
	}
	now, err := parseNow(o.now)
	if err != nil {
		return usagef(path, "%v", err)
	}
	switch o.layout {
	case "embedded", "native", "auto":
	default:
		return usagef(path, "--layout %q: want embedded, native or auto", o.layout)
	}
	if o.refresh < 0 {
		return usagef(path, "--refresh %d: want a number of seconds, or 0 for none", o.refresh)
	}
	geo, err := analyze.OpenGeo(o.geoip)
	if err != nil {
		return err
	}
	defer geo.Close()
	var m *analyze.Model
	err = e.withStore(ctx, func(s *store.Store) error {
		m, err = loadStableModel(ctx, e, s, now, o.betweenReads)
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range render.NoteProblems(o.notes) {
		fmt.Fprintf(e.stderr, "dotm render: warning: %s\n", inert(p.Error()))
	}
	m.AddGeo(geo)
	for _, err := range geo.Errors() {
		fmt.Fprintf(e.stderr, "dotm render: warning: %s\n", inert(err.Error()))
	}
	start := time.Now()
	l := &layout.Layouter{Engine: o.layout, CacheDir: o.cache, Warn: layoutWarn(e, "dotm render")}
	if err := publishSite(ctx, e, m, o.out, l, render.SiteOptions{Templates: templates.FS, Notes: o.notes, NotesUnsafe: o.notesUnsafe, Refresh: o.refresh}); err != nil {
		return err
	}
	rec.rendered(m)
	if o.quiet {
		return nil
	}
	fmt.Fprintf(e.stdout, "rendered %d nodes into %s in %s (%d graphs laid out)\n", len(m.Nodes), o.out,
		time.Since(start).Round(time.Millisecond), l.LaidOut())
	return nil
}

// readAttempts is how many times render reads the store before it gives
// up on a store that keeps changing under it.
const readAttempts = 3

// loadStableModel reads the site's model (loadSiteModel) from a store that
// did not change while it was read: dotm::state (last_updated,
// last_snapshot, the collect lock) must be the same before and after, with
// no collect run writing. Otherwise the read may be torn (all nodes and no
// connections, when the store was flushed and refilled meanwhile), and it
// is read again, up to readAttempts times; a running collect is waited for
// up to --lock-wait. between, if not nil, runs after each first read of
// dotm::state.
func loadStableModel(ctx context.Context, e *env, s *store.Store, now time.Time, between func(attempt int) error) (*analyze.Model, error) {
	deadline := time.Now().Add(e.lockWait)
	var why string
	for attempt := 1; attempt <= readAttempts; attempt++ {
		before, err := s.State(ctx)
		if err != nil {
			return nil, err
		}
		if collecting(s, before) {
			if before, err = waitCollect(ctx, s, deadline); err != nil {
				return nil, err
			}
			if collecting(s, before) {
				return nil, fmt.Errorf("a collect run is writing the store (%s) (its update lock in %s is held until %s); "+
					"nothing was published: render again when it is done, or raise --lock-wait (if no collect runs, "+
					"one crashed and the lock expires then)", s.Where(), "dotm::state",
					time.Unix(before.RunningUntil, 0).UTC().Format(time.RFC3339))
			}
		}
		if between != nil {
			if err := between(attempt); err != nil {
				return nil, err
			}
		}
		m, err := loadSiteModel(ctx, e, s, now)
		if err != nil {
			return nil, err
		}
		after, err := s.State(ctx)
		if err != nil {
			return nil, err
		}
		if why = stateChange(s, before, after); why == "" {
			return m, nil
		}
	}
	return nil, fmt.Errorf("the store (%s) changed while render read it, %d times in a row (last: %s); "+
		"nothing was published, the site was left as it was: render again once collect is done, "+
		"and check that nothing else flushes or rewrites the store", s.Where(), readAttempts, why)
}

// collecting tells whether st says that a collect run holds the update
// lock. An embedded store is held by this render alone, so a lock held
// there is one a crashed run left, not a run writing now.
func collecting(s *store.Store, st store.State) bool {
	return st.UpdateRunning && !s.Embedded()
}

// stateChange says how dotm::state changed between two reads, or "" if
// it did not in a way that matters to a reader.
func stateChange(s *store.Store, before, after store.State) string {
	switch {
	case before.LastUpdated != after.LastUpdated:
		return fmt.Sprintf("dotm::state last_updated went from %d to %d", before.LastUpdated, after.LastUpdated)
	case before.LastSnapshot != after.LastSnapshot:
		return fmt.Sprintf("dotm::state last_snapshot went from %d to %d", before.LastSnapshot, after.LastSnapshot)
	case collecting(s, after):
		return "a collect run started"
	}
	return ""
}

// waitCollect polls dotm::state until no collect run holds the update
// lock or deadline passes, and returns the last state read.
func waitCollect(ctx context.Context, s *store.Store, deadline time.Time) (store.State, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := s.State(ctx)
		if err != nil || !collecting(s, st) || !time.Now().Before(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-tick.C:
		}
	}
}

// layoutWarn says on stderr what the layout worked around (a cache it does
// not use).
func layoutWarn(e *env, cmd string) func(string) {
	return func(msg string) { fmt.Fprintf(e.stderr, "%s: warning: %s\n", cmd, inert(msg)) }
}

// loadSiteModel reads what the site shows, history included; snapshots
// that cannot be read are reported and left out.
func loadSiteModel(ctx context.Context, e *env, s *store.Store, now time.Time) (*analyze.Model, error) {
	m, err := analyze.Load(ctx, s, now)
	if err != nil {
		return nil, err
	}
	bad, err := analyze.LoadHistory(ctx, s, m)
	for _, b := range bad {
		fmt.Fprintf(e.stderr, "dotm render: warning: %s\n", inert(b.Error()))
	}
	return m, err
}

// publishSite builds the site in a temporary tree and swaps it in; on any
// failure the published site stays as it was.
func publishSite(ctx context.Context, e *env, m *analyze.Model, out string, l *layout.Layouter, o render.SiteOptions) error {
	return site.Publish(ctx, out, e.lockWait, func(tree *site.Tree) error {
		return render.BuildSite(ctx, m, tree, l, o)
	})
}
