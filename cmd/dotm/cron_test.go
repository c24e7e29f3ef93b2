package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
)

// The cron wrapper commits the architecture to git only when it changed:
// once for the first run, not when only times and socket counts moved,
// once more when a connection vanished.
func TestCronWrapperArchivesChanges(t *testing.T) {
	for _, tool := range []string{"git", "flock", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the cron wrapper needs %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "dotm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dataDir, site, archive := filepath.Join(dir, "data"), filepath.Join(dir, "www", "dotm"), filepath.Join(dir, "archive")
	ctx := context.Background()
	st := openEmbedded(t, dataDir)
	fleet := simfleet.Generate(10, 11, montest.FleetPort(t))
	err := fleet.Register(ctx, st)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	wrapper, _ := filepath.Abs("../../cron/dotm-cron")
	cronRun := func() {
		t.Helper()
		// The simulated hosts answer with the fleet as it is now.
		sctx, stop := context.WithCancel(ctx)
		wait, err := fleet.Serve(sctx)
		defer func() { stop(); wait() }()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(wrapper, "run")
		cmd.Env = append(os.Environ(), "DOTM="+bin, "DOTM_DATA_DIR="+dataDir, "DOTM_SITE="+site,
			"DOTM_ARCHIVE="+archive, "DOTM_RENDER_ARGS=--cache "+filepath.Join(dir, "cache"),
			"HOME="+dir, "GIT_CONFIG_NOSYSTEM=1") // no user identity: the wrapper brings its own
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Fatalf("dotm-cron run: %v, output (want none):\n%s", err, out)
		}
	}
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", archive}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}

	cronRun()
	if n := git("rev-list", "--count", "HEAD"); n != "1" {
		t.Fatalf("after the first run: %s commits, want 1", n)
	}
	if msg := git("log", "-1", "--format=%s"); !strings.HasPrefix(msg, "first architecture: ") {
		t.Errorf("first commit message %q", msg)
	}
	if files := git("ls-files"); !strings.Contains(files, "architecture.json") || !strings.Contains(files, "dot/nodes/web01.dot") {
		t.Errorf("archived files:\n%s", files)
	}

	conns := func() string {
		b, err := os.ReadFile(filepath.Join(site, "data", "connections.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := conns()

	// Time passes and socket counts jitter: no commit.
	time.Sleep(1100 * time.Millisecond)
	for _, h := range fleet.Hosts {
		for _, e := range h.Out {
			e.Count++
		}
	}
	cronRun()
	if conns() == before {
		t.Fatal("the site's connection data did not change: the second run proves nothing")
	}
	if n := git("rev-list", "--count", "HEAD"); n != "1" {
		t.Errorf("after a run where only times and counts moved: %s commits, want 1\n%s", n, git("log", "-p", "-1"))
	}

	// A connection vanishes: one commit that says so. (Times have a
	// resolution of a second: let one pass.)
	time.Sleep(1100 * time.Millisecond)
	app := fleet.Lookup("web01").Out[0].To.Name
	fleet.Disconnect("web01", app)
	cronRun()
	if n := git("rev-list", "--count", "HEAD"); n != "2" {
		t.Fatalf("after a connection vanished: %s commits, want 2", n)
	}
	msg := git("log", "-1", "--format=%B")
	if !strings.HasPrefix(msg, "-1 connection\n") || !strings.Contains(msg, "- connection web01 out 8080 "+app+" (nginx)") {
		t.Errorf("commit message:\n%s", msg)
	}
	if diff := git("show", "--stat", "--format=", "HEAD"); !strings.Contains(diff, "architecture.json") {
		t.Errorf("the commit does not change architecture.json:\n%s", diff)
	}
}
