package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/lwindolf/dotm/internal/redistest"
)

// TestSiteInBrowser opens the rendered site in a real headless Chromium
// (Debian's chromium) over HTTP: no console errors, the graph shows the
// nodes, the table filter and sort work. Screenshots are kept in
// a directory of the run (artifactsDir).
func TestSiteInBrowser(t *testing.T) {
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
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Errorf("screenshot %s: %v", name, err)
			return
		}
		_ = os.WriteFile(filepath.Join(artifacts, name), shot, 0o644)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html"), chromedp.WaitVisible(chromedp.CSS("svg"))); err != nil {
		t.Fatal(err)
	}
	graphText, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("div.graph svg")))
	if err != nil {
		t.Fatal(err)
	}
	shoot("overview.png")
	for _, n := range []string{"db01", "web01", "app01"} {
		if !strings.Contains(graphText, n) {
			t.Errorf("the overview graph does not show %s", n)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/nodes/db01.html"),
		chromedp.WaitVisible(chromedp.CSS("table.filterable"))); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](visibleRows))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(".filter input"), "3306"), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(ctx, chromedp.Evaluate[int](visibleRows))
	if err != nil {
		t.Fatal(err)
	}
	// The header is sticky: brought to the middle of the window first, so
	// the click cannot land on the navigation bar above it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.querySelector('table.sortable th').scrollIntoView({block: 'center'}), true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("table.sortable th"))); err != nil {
		t.Fatal(err)
	}
	// The click event reaches the page after the input event returns: wait
	// for its effect (the screenshot of a failed run showed it sorted).
	var sorted chromedp.AttributeResult
	for range 30 {
		if sorted, err = chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("table.sortable th"), "aria-sort")); err != nil {
			t.Fatal(err)
		}
		if sorted.Value != "" && sorted.Value != "none" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	shoot("node-db01.png")
	if after == 0 || after >= before {
		t.Errorf("typing into the filter: %d visible rows before, %d after; want fewer but some", before, after)
	}
	if sorted.Value == "" || sorted.Value == "none" {
		t.Errorf("clicking a header did not sort (aria-sort %q)", sorted.Value)
	}
	// The findings and the history (the demo rounds drop web01's first
	// connection before the last one): shown in readable tables.
	for _, pg := range []struct{ path, want string }{
		{"unused.html", "web01"}, {"changes.html", "vanished"}, {"history.html", "first snapshot"}} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"+pg.path), chromedp.WaitVisible(chromedp.CSS("main table"))); err != nil {
			t.Fatalf("%s: %v", pg.path, err)
		}
		text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, pg.want) {
			t.Errorf("%s does not show %q", pg.path, pg.want)
		}
		shoot(strings.TrimSuffix(pg.path, ".html") + ".png")
	}
	if problems := consoleProblems(); len(problems) > 0 {
		t.Errorf("browser console: %v", problems)
	}
}

// startBrowser starts a headless Chromium (the flags this machine needs,
// a fresh profile) and returns its context and what its console reported
// as errors, warnings and exceptions so far.
func startBrowser(t *testing.T, chromium string) (context.Context, func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(cancel)

	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, fmt.Sprintf("console %s: %v", e.Type, e.Args))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// visibleRows counts the body rows shown in the page's first filterable
// table.
const visibleRows = `Array.from(document.querySelector('table.filterable').tBodies[0].rows).filter(r => r.offsetParent !== null).length`

// artifactsDir is where a browser test keeps its screenshots for a person
// to look at: $DOTM_TEST_ARTIFACTS when set, else a new directory of this
// run under $TMPDIR (never a fixed path: two runs at once keep their own).
// It is kept after the test, and logged.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DOTM_TEST_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dotm-test-artifacts-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}
