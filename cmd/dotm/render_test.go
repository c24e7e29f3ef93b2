package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// renderedFleet collects the simulated fleet once into a data directory
// and returns it with the --now to render at.
func renderedFleet(t *testing.T) (dataDir, now string) {
	t.Helper()
	dataDir = t.TempDir()
	renderFleet(t, dataDir, time.Unix(1795000000, 0))
	return dataDir, "1795000000"
}

func TestRenderNotesAndSecrets(t *testing.T) {
	dataDir, now := renderedFleet(t)
	runCLI(t, "config", "set", "nagios_instance", `{"source":"/x/status.dat","password":"s3cret-pw"}`, "--data-dir", dataDir)
	notes := t.TempDir()
	os.MkdirAll(filepath.Join(notes, "nodes"), 0o755)
	os.MkdirAll(filepath.Join(notes, "services"), 0o755)
	os.WriteFile(filepath.Join(notes, "nodes", "db01.md"), []byte("# Why db01\n\nPrimary <b>MySQL</b> <script>alert(2)</script>\n"), 0o644)
	os.WriteFile(filepath.Join(notes, "services", "mysqld.md"), []byte("Owned by the *data* team.\n"), 0o644)

	out := filepath.Join(t.TempDir(), "site")
	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir(), "--notes", notes)
	db, _ := os.ReadFile(filepath.Join(out, "nodes", "db01.html"))
	if !bytes.Contains(db, []byte("<h1>Why db01</h1>")) || bytes.Contains(db, []byte("<script>alert(2)")) ||
		bytes.Contains(db, []byte("<b>MySQL</b>")) {
		t.Errorf("node note: want Markdown rendered and raw HTML dropped")
	}
	mysqld, _ := os.ReadFile(filepath.Join(out, "services", "mysqld.html"))
	if !bytes.Contains(mysqld, []byte("<em>data</em>")) {
		t.Error("service note missing")
	}
	settings, _ := os.ReadFile(filepath.Join(out, "settings.html"))
	if bytes.Contains(settings, []byte("s3cret-pw")) || !bytes.Contains(settings, []byte("********")) {
		t.Error("the settings page must mask the monitoring password")
	}

	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir(), "--notes", notes, "--notes-unsafe")
	db, _ = os.ReadFile(filepath.Join(out, "nodes", "db01.html"))
	if !bytes.Contains(db, []byte("<b>MySQL</b>")) {
		t.Error("--notes-unsafe must pass raw HTML through")
	}
}

// TestHostileRenderFailureKeepsSite: a render that fails halfway (here: no
// system Graphviz for --layout native) leaves the published site as it
// was.
func TestHostileRenderFailureKeepsSite(t *testing.T) {
	dataDir, now := renderedFleet(t)
	out := filepath.Join(t.TempDir(), "site")
	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir())
	before := readTree(t, out)

	t.Setenv("PATH", t.TempDir())
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"render", "--out", out, "--now", now, "--data-dir", dataDir,
		"--cache", t.TempDir(), "--layout", "native"},
		&env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(string) string { return "" }})
	if code != 1 || !strings.Contains(stderr.String(), "left as it was") {
		t.Fatalf("exit %d, stderr %q: want a failure that says the site was kept", code, stderr.String())
	}
	after := readTree(t, out)
	if len(after) != len(before) {
		t.Fatalf("%d files before, %d after", len(before), len(after))
	}
	for name, b := range before {
		if !bytes.Equal(b, after[name]) {
			t.Errorf("%s changed by a failed render", name)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".site.tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary trees left behind: %v", leftovers)
	}
}

// TestRenderRefresh: --refresh writes a meta refresh into every page, and
// none by default; a negative one is a usage error naming the flag.
func TestRenderRefresh(t *testing.T) {
	dataDir, now := renderedFleet(t)
	out := filepath.Join(t.TempDir(), "site")
	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir())
	const meta = `<meta http-equiv="refresh" content="60">`
	if idx, _ := os.ReadFile(filepath.Join(out, "index.html")); bytes.Contains(idx, []byte(`http-equiv="refresh"`)) {
		t.Error("a meta refresh without --refresh")
	}
	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir(), "--refresh", "60")
	for _, page := range []string{"index.html", "nodes/db01.html", "settings.html"} {
		if b, _ := os.ReadFile(filepath.Join(out, page)); !bytes.Contains(b, []byte(meta)) {
			t.Errorf("%s lacks %s", page, meta)
		}
	}
	code, _, stderr := runCLIAll("render", "--out", out, "--data-dir", dataDir, "--refresh", "-5")
	if code == 0 || !strings.Contains(stderr, "--refresh") {
		t.Errorf("--refresh -5: exit %d, %q; want a usage error naming --refresh", code, stderr)
	}
}
