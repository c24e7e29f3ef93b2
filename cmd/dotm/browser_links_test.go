package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/lwindolf/dotm/internal/redistest"
)

// TestSiteMapInBrowser uses the map as an operator would, in a real
// headless Chromium at 1366×768: click the overview's CRITICAL box to its
// node page, a name of the Hits column to its node page, point at a box
// and see its neighbours highlighted, search for an IP address (with the
// site opened from file://) and get its node. Screenshots are kept in
// a directory of the run (artifactsDir; the test logs where).
func TestSiteMapInBrowser(t *testing.T) {
	chromium := redistest.Require(t, "chromium")
	dataDir := t.TempDir()
	renderFleet(t, dataDir, time.Unix(1795000000, 0))
	out := filepath.Join(t.TempDir(), "site")
	runCLI(t, "render", "--out", out, "--now", "1795000000", "--data-dir", dataDir, "--cache", t.TempDir())
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer srv.Close()
	ctx, consoleProblems := startBrowser(t, chromium)
	artifacts := artifactsDir(t)
	shoot := func(name string) {
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		_ = os.WriteFile(filepath.Join(artifacts, name), shot, 0o644)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	str := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	var location, h1 string
	arrive := func(what string) {
		t.Helper()
		do(what, chromedp.WaitVisible(chromedp.CSS("h1")))
		location = str(what, chromedp.Location())
		h1 = str(what, chromedp.Text(chromedp.CSS("h1")))
	}
	overview := func() {
		t.Helper()
		do("overview", chromedp.Navigate(srv.URL+"/index.html"), chromedp.WaitVisible(chromedp.CSS("div.graph svg")))
	}
	do("viewport", chromedp.EmulateViewport(1366, 768))

	// The CRITICAL box of the overview is a link to its node page.
	overview()
	shoot("map-overview.png")
	crit := str("find the CRITICAL box", chromedp.Evaluate[string](markBox(`t.includes('· CRITICAL')`)))
	if crit == "" {
		t.Fatal("no box of the overview has a tooltip saying CRITICAL")
	}
	do("click the CRITICAL box", chromedp.ScrollIntoView(chromedp.CSS(`[data-test=box]`)), chromedp.Click(chromedp.CSS(`[data-test=box]`)))
	arrive("the CRITICAL box's page")
	name := strings.Fields(crit)[0]
	if !strings.HasSuffix(location, "/nodes/"+name+".html") || h1 != name {
		t.Errorf("the box %q opened %s (h1 %q), want its node page", crit, location, h1)
	}
	shoot("map-node.png")

	// A name in the Hits column of the current problems is a link.
	overview()
	hit := str("a hit", chromedp.Text(chromedp.CSS(`td span[title^="depth"] a`)))
	do("click a hit", chromedp.Click(chromedp.CSS(`td span[title^="depth"] a`)))
	arrive("the hit's page")
	if !strings.HasSuffix(location, "/nodes/"+hit+".html") || h1 != hit {
		t.Errorf("the hit %q opened %s (h1 %q), want its node page", hit, location, h1)
	}

	// Pointing at the CRITICAL box highlights the boxes its arrows join,
	// and only those.
	overview()
	crit = str("find the CRITICAL box", chromedp.Evaluate[string](markBox(`t.includes('· CRITICAL')`)))
	do("scroll", chromedp.ScrollIntoView(chromedp.CSS(`[data-test=box]`)))
	centre, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('[data-test=box]').getBoundingClientRect();
		return [r.x + r.width/2, r.y + r.height/2]; })()`))
	if err != nil || len(centre) != 2 {
		t.Fatalf("box centre %v: %v", centre, err)
	}
	do("hover", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, centre[0], centre[1]))
	lit, err1 := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('div.graph svg g.node.hl')).map(g => g.querySelector('text').textContent).sort()`))
	want, err2 := chromedp.Run(ctx, chromedp.Evaluate[[]string](neighboursOf))
	self, err3 := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-test=box]').closest('g.node').classList.contains('hl-self')`))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if !self || len(lit) == 0 || strings.Join(lit, ",") != strings.Join(want, ",") {
		t.Errorf("pointing at %q highlights %v (itself: %v), want its neighbours %v", crit, lit, self, want)
	}
	shoot("map-hover.png")

	// The boxes are reached with the keyboard: Tab from the link before
	// the CRITICAL box focuses it, with a visible focus and the same
	// highlight.
	do("unhover", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
	focusable := str("focus the link before", chromedp.Evaluate[string](`(() => {
		const links = Array.from(document.querySelectorAll('div.graph svg a')).filter(a => a.hasAttributeNS('http://www.w3.org/1999/xlink', 'href'));
		const i = links.indexOf(document.querySelector('[data-test=box]'));
		if (i < 1) return 'the CRITICAL box is the first link: ' + i;
		links[i-1].focus();
		return '';
	})()`))
	if focusable != "" {
		t.Fatal(focusable)
	}
	do("tab", chromedp.KeyEvent(kb.Tab))
	// (Chromium focuses the link or the box's group around it.)
	focus := str("focus", chromedp.Evaluate[string](`(() => { const a = document.activeElement, box = document.querySelector('[data-test=box]');
		if (a !== box && !a.contains(box)) return 'focus on ' + a.outerHTML.slice(0, 80);
		return getComputedStyle(box.querySelector('polygon, ellipse')).stroke + ' ' + box.closest('g.node').classList.contains('hl-self'); })()`))
	if focus != "rgb(232, 163, 23) true" {
		t.Errorf("Tab to the CRITICAL box: %s; want it focused, outlined in rgb(232, 163, 23) and highlighted", focus)
	}

	// The search box finds a node by an IP address, with the site opened
	// from file://, where a page may not fetch() a JSON file.
	do("node page", chromedp.Navigate("file://"+filepath.Join(out, "nodes", name+".html")), chromedp.WaitVisible(chromedp.CSS("h1")))
	ip := str("its IP", chromedp.Evaluate[string](`(document.querySelector('main p').textContent.match(/\b10\.\d+\.\d+\.\d+\b/) || [''])[0]`))
	if ip == "" {
		t.Fatalf("%s's page shows no 10.x address", name)
	}
	do("search", chromedp.WaitVisible(chromedp.CSS("#site-search")), chromedp.SendKeys(chromedp.CSS("#site-search"), ip),
		chromedp.WaitVisible(chromedp.CSS("#site-search-results a")))
	results, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#site-search-results a')).map(a => a.firstChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	shoot("map-search.png")
	if len(results) != 1 || results[0] != name {
		t.Errorf("searching %s finds %v, want only %s", ip, results, name)
	}
	do("open the result", chromedp.Click(chromedp.CSS("#site-search-results a")))
	arrive("the search result")
	if !strings.HasPrefix(location, "file://") || !strings.HasSuffix(location, "/nodes/"+name+".html") {
		t.Errorf("the search result opened %s", location)
	}
	// The newest snapshot's page draws its changes as a map: the
	// connection that vanished is a dashed arrow saying so.
	do("history", chromedp.Navigate(srv.URL+"/history.html"), chromedp.WaitVisible(chromedp.CSS("main table")),
		chromedp.Click(chromedp.CSS("main table tbody a")), chromedp.WaitVisible(chromedp.CSS("div.graph svg")))
	vanished := str("vanished arrows", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('div.graph svg g.edge')).
		filter(e => e.textContent.includes('vanished') && e.querySelector('path').getAttribute('stroke-dasharray')).
		map(e => e.querySelector('a').getAttributeNS('http://www.w3.org/1999/xlink', 'title')).join('; ')`))
	if !strings.Contains(vanished, "web01 → ") {
		t.Errorf("the newest snapshot's map marks no vanished connection of web01 (dashed, saying so): %q", vanished)
	}
	shoot("map-snapshot.png")

	// Dark mode: the page goes dark, the graphs keep a light panel; the
	// setting names are not broken inside.
	dark := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})
	overview()
	do("dark mode", dark)
	colours := str("colours", chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor + ' ' + getComputedStyle(document.querySelector('div.graph')).backgroundColor`))
	if colours != "rgb(20, 25, 31) rgb(255, 255, 255)" {
		t.Errorf("dark mode: page and graph backgrounds %s, want a dark page and a white graph panel", colours)
	}
	shoot("map-overview-dark.png")
	do("settings", chromedp.Navigate(srv.URL+"/settings.html"), chromedp.WaitVisible(chromedp.CSS("b.setting")))
	broken := str("setting names", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('b.setting')).filter(b => b.getClientRects().length > 1).map(b => b.textContent).join(' ')`))
	if broken != "" {
		t.Errorf("setting names broken across lines: %s", broken)
	}
	shoot("map-settings-dark.png")

	if problems := consoleProblems(); len(problems) > 0 {
		t.Errorf("browser console: %v", problems)
	}
}

// markBox marks the link of the first overview box whose tooltip t
// matches cond with data-test="box", and returns the tooltip.
func markBox(cond string) string {
	return `(() => { for (const a of document.querySelectorAll('div.graph svg g.node a')) {
		const t = a.getAttributeNS('http://www.w3.org/1999/xlink', 'title') || '';
		if (` + cond + `) { a.setAttribute('data-test', 'box'); return t; } } return ''; })()`
}

// neighboursOf are the first label lines of the boxes joined by an arrow
// to the marked box, from the SVG's own ids and arrow classes.
const neighboursOf = `(() => {
	const id = document.querySelector('[data-test=box]').closest('g.node').id;
	const out = new Set();
	for (const e of document.querySelectorAll('div.graph svg g.edge')) {
		const ends = Array.from(e.classList).filter(c => /^(from|to)-/.test(c)).map(c => c.replace(/^(from|to)-/, ''));
		if (ends.includes(id)) ends.filter(x => x !== id).forEach(x => out.add(document.getElementById(x).querySelector('text').textContent));
	}
	return Array.from(out).sort(); })()`
