package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/store"
)

// cronSetup is a cron wrapper installation for one test: a dotm binary,
// an embedded store with a registered simulated fleet, the served site
// and the git archive.
type cronSetup struct {
	dir, bin, dataDir, site, archive string
	fleet                            *simfleet.Fleet
}

func newCronSetup(t *testing.T) *cronSetup {
	t.Helper()
	for _, tool := range []string{"git", "flock", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the cron wrapper needs %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	c := &cronSetup{dir: dir, bin: filepath.Join(dir, "dotm"), dataDir: filepath.Join(dir, "data"),
		site: filepath.Join(dir, "www", "dotm"), archive: filepath.Join(dir, "archive")}
	if out, err := exec.Command("go", "build", "-o", c.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	st := openEmbedded(t, c.dataDir)
	c.fleet = simfleet.Generate(10, 11, montest.FleetPort(t))
	err := c.fleet.Register(context.Background(), st)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve makes the simulated hosts answer, as the fleet is now, until the
// returned function is called.
func (c *cronSetup) serve(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := c.fleet.Serve(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return func() { cancel(); wait() }
}

// wrapper returns a "dotm-cron run" command recording the time now
// (unix seconds), so that runs are apart in time without waiting.
func (c *cronSetup) wrapper(now int64, extra ...string) *exec.Cmd {
	path, _ := filepath.Abs("../../cron/dotm-cron")
	cmd := exec.Command(path, "run")
	nowArg := fmt.Sprintf("--now %d --lock-wait 5m", now)
	cmd.Env = append(os.Environ(), "DOTM="+c.bin, "DOTM_DATA_DIR="+c.dataDir, "DOTM_SITE="+c.site,
		"DOTM_ARCHIVE="+c.archive, "DOTM_COLLECT_ARGS="+nowArg,
		"DOTM_RENDER_ARGS="+nowArg+" --cache "+filepath.Join(c.dir, "cache"),
		"HOME="+c.dir, "GIT_CONFIG_NOSYSTEM=1") // no user identity: the wrapper brings its own
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// run runs the wrapper once and fails unless it succeeds silently.
func (c *cronSetup) run(t *testing.T, now int64) {
	t.Helper()
	defer c.serve(t)()
	if out, err := c.wrapper(now).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("dotm-cron run: %v, output (want none):\n%s", err, out)
	}
}

func (c *cronSetup) git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", c.archive}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// The cron wrapper commits the architecture to git only when it changed:
// once for the first run, not when only times and socket counts moved,
// once more when a connection vanished and a hostile check appeared. It
// commits only its own files, and no name forges a line of the message.
func TestHostileCronWrapperArchivesChanges(t *testing.T) {
	c := newCronSetup(t)
	t0 := time.Now().Unix() - 3600

	c.run(t, t0)
	if n := c.git(t, "rev-list", "--count", "HEAD"); n != "1" {
		t.Fatalf("after the first run: %s commits, want 1", n)
	}
	if msg := c.git(t, "log", "-1", "--format=%s"); !strings.HasPrefix(msg, "first architecture: ") {
		t.Errorf("first commit message %q", msg)
	}
	if files := c.git(t, "ls-files"); !strings.Contains(files, "architecture.json") || !strings.Contains(files, "dot/nodes/web01.dot") {
		t.Errorf("archived files:\n%s", files)
	}

	conns := func() string {
		b, err := os.ReadFile(filepath.Join(c.site, "data", "connections.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	before := conns()

	// Time passes and socket counts jitter: no commit.
	for _, h := range c.fleet.Hosts {
		for _, e := range h.Out {
			e.Count++
		}
	}
	c.run(t, t0+60)
	if conns() == before {
		t.Fatal("the site's connection data did not change: the second run proves nothing")
	}
	if n := c.git(t, "rev-list", "--count", "HEAD"); n != "1" {
		t.Errorf("after a run where only times and counts moved: %s commits, want 1\n%s", n, c.git(t, "log", "-p", "-1"))
	}

	// Files of someone else in the archive, one untracked and one staged,
	// stay out of dotm's commits.
	for _, f := range []string{"stray.txt", "staged.txt"} {
		if err := os.WriteFile(filepath.Join(c.archive, f), []byte("not dotm's\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.git(t, "add", "staged.txt")

	// A connection vanishes and a check with a forged trailer in its name
	// turns critical: one commit that says so, with no trailer.
	app := c.fleet.Lookup("web01").Out[0].To.Name
	c.fleet.Disconnect("web01", app)
	st := openEmbedded(t, c.dataDir)
	err := st.SetChecks(context.Background(), store.NodeCheck{Node: "web01", Status: "UP", LastCheck: t0 + 100},
		[]store.ServiceCheck{{Node: "web01", Service: forgedTrailer, Status: "CRITICAL", LastCheck: t0 + 100},
			{Node: "web01", Service: "bidi\u202etxt.exe", Status: "WARNING", LastCheck: t0 + 100}}, 0)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	c.run(t, t0+120)
	if n := c.git(t, "rev-list", "--count", "HEAD"); n != "2" {
		t.Fatalf("after a connection vanished: %s commits, want 2", n)
	}
	msg := c.git(t, "log", "-1", "--format=%B")
	if !strings.HasPrefix(msg, "-1 connection, 2 new alerts\n") || !strings.Contains(msg, "- connection web01 out 8080 "+app+" (nginx)") {
		t.Errorf("commit message:\n%s", msg)
	}
	checkNoForgedLines(t, "the archive's commit message", msg)
	trailers := exec.Command("git", "-C", c.archive, "interpret-trailers", "--parse")
	trailers.Stdin = strings.NewReader(msg)
	if out, err := trailers.Output(); err != nil || len(out) > 0 {
		t.Errorf("the archive's commit message has trailers %q (%v):\n%s", out, err, msg)
	}
	if files := c.git(t, "show", "--name-only", "--format=", "HEAD"); !strings.Contains(files, "architecture.json") ||
		strings.Contains(files, "stray") || strings.Contains(files, "staged") {
		t.Errorf("the commit changes:\n%s\nwant architecture.json, and neither stray.txt nor staged.txt", files)
	}
	if tracked := c.git(t, "ls-tree", "-r", "--name-only", "HEAD"); strings.Contains(tracked, ".txt") {
		t.Errorf("the archive's HEAD holds files that are not dotm's:\n%s", tracked)
	}
	if status := c.git(t, "status", "--porcelain"); !strings.Contains(status, "A  staged.txt") {
		t.Errorf("the operator's staged file is no longer staged:\n%s", status)
	}

	// On a detached HEAD the wrapper refuses, commits nothing and says why.
	head := c.git(t, "rev-parse", "HEAD")
	c.git(t, "checkout", "-q", "--detach")
	c.fleet.Disconnect("web02", c.fleet.Lookup("web02").Out[0].To.Name)
	stop := c.serve(t)
	out, err := c.wrapper(t0 + 180).CombinedOutput()
	stop()
	if err == nil || !strings.Contains(string(out), "detached HEAD") || !strings.Contains(string(out), c.archive) {
		t.Errorf("dotm-cron on a detached HEAD: %v, output:\n%s", err, out)
	}
	if now := c.git(t, "rev-parse", "HEAD"); now != head {
		t.Errorf("dotm-cron on a detached HEAD committed %s", now)
	}
	if n := c.git(t, "rev-list", "--count", "--all"); n != "2" {
		t.Errorf("dotm-cron on a detached HEAD: %s commits in the archive, want 2", n)
	}
}

// Twelve wrappers started at once all succeed: renders and archive
// copies take turns on the site's render lock, so no copy sees a site
// that a render is replacing.
func TestCronWrapperRacingRuns(t *testing.T) {
	c := newCronSetup(t)
	defer c.serve(t)()
	t0 := time.Now().Unix() - 3600
	// A first run makes the archive, so the racing runs all find it.
	if out, err := c.wrapper(t0).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("dotm-cron run: %v, output (want none):\n%s", err, out)
	}
	const runs = 12
	var wg sync.WaitGroup
	outs, errs := make([][]byte, runs), make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = c.wrapper(t0 + int64(i+1)*60).CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range runs {
		if errs[i] != nil || len(outs[i]) > 0 {
			t.Errorf("racing dotm-cron run %d: %v, output (want none):\n%s", i, errs[i], outs[i])
		}
	}
	if status := c.git(t, "status", "--porcelain"); status != "" {
		t.Errorf("after the racing runs the archive is not clean:\n%s", status)
	}
}

// The systemd units are valid (systemd-analyze verify prints nothing for
// them, with the programs they start in place) and sandboxed: each
// service's exposure in systemd-analyze security is at most 2.5.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("systemd-analyze is needed to check the systemd units: %v", err)
		}
		t.Skipf("no systemd-analyze to check the units with: %v", err)
	}
	units, _ := filepath.Glob("../../cron/*.service")
	timers, _ := filepath.Glob("../../cron/*.timer")
	units = append(append(units, timers...), "../../cmd/dotm-agent/dotm-agent.service")
	if len(units) < 5 {
		t.Fatalf("found only the units %v", units)
	}
	// The units start programs in /usr/local/bin, which verify wants to
	// find: check copies that name the same programs in a directory of
	// the test's own.
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "dotm-agent"), "../dotm-agent").CombinedOutput(); err != nil {
		t.Fatalf("go build dotm-agent: %v\n%s", err, out)
	}
	wrapper, err := os.ReadFile("../../cron/dotm-cron")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "dotm-cron"), wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	var copies []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(u, ".service") && !strings.Contains(string(b), "ExecStart=/usr/local/bin/") {
			t.Errorf("%s: no ExecStart=/usr/local/bin/…", u)
		}
		cp := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(cp, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/", bin+"/")), 0o644); err != nil {
			t.Fatal(err)
		}
		copies = append(copies, cp)
		if !strings.HasSuffix(u, ".service") {
			continue
		}
		for _, want := range []string{"Documentation=", "TimeoutStartSec=", "NoNewPrivileges=yes", "ProtectSystem=strict"} {
			if !strings.Contains(string(b), "\n"+want) {
				t.Errorf("%s lacks %s", u, want)
			}
		}
		out, err := exec.Command(analyze, "security", "--offline=true", "--threshold=25", cp).CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil {
			t.Errorf("systemd-analyze security %s: %v: %s", u, err, lines[len(lines)-1])
		} else {
			t.Log(lines[len(lines)-1])
		}
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, copies...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	report, _ := os.ReadFile("../../cron/dotm-report.service")
	for _, want := range []string{"StateDirectory=dotm", "LoadCredential=smtp-password"} {
		if !strings.Contains(string(report), "\n"+want) {
			t.Errorf("dotm-report.service lacks %s", want)
		}
	}
}
