// Package packaging holds the test of the dotm and dotm-agent packages:
// built with packaging/build, installed with dpkg on this machine, used,
// removed and purged.
package packaging

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/montest"
)

// requirePackageTest runs the test where it may install packages: as
// root, with dpkg; under CI=true always (a missing tool fails it), else
// only with DOTM_PACKAGE_TEST=1, since it installs dotm into this
// machine's /usr/bin and creates the user dotm.
func requirePackageTest(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	if !ci && os.Getenv("DOTM_PACKAGE_TEST") != "1" {
		t.Skip("installs the packages into this machine: set DOTM_PACKAGE_TEST=1 (as root) to run it")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the package test installs packages with dpkg and needs root")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "runuser", "systemd-analyze", "git", "go", "man"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the package test needs %s (see .ci/run): %v", tool, err)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dpkg runs dpkg, waiting while another dpkg or apt holds its lock.
func dpkg(t *testing.T, args ...string) {
	t.Helper()
	for try := 0; ; try++ {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil {
			return
		}
		if try < 60 && strings.Contains(string(out), "lock") {
			time.Sleep(5 * time.Second)
			continue
		}
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func installed(pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.Contains(string(out), " installed")
}

// contents lists the files (not directories) of a .deb.
func contents(t *testing.T, deb string) []string {
	var files []string
	for _, line := range strings.Split(run(t, "dpkg-deb", "-c", deb), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && !strings.HasPrefix(f[0], "d") {
			files = append(files, strings.TrimPrefix(f[5], "."))
		}
	}
	return files
}

func TestPackagesInstallAndPurge(t *testing.T) {
	requirePackageTest(t)
	for _, p := range []string{"dotm", "dotm-agent"} {
		if installed(p) {
			t.Fatalf("the package %s is installed on this machine; the test would replace and purge it", p)
		}
	}
	_, userErr := user.Lookup("dotm")
	hadUser := userErr == nil

	out := t.TempDir()
	build := exec.Command("./build", out)
	build.Env = append(os.Environ(), "DOTM_VERSION=1.2.3~test")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("packaging/build: %v\n%s", err, b)
	}
	debs := map[string]string{}
	for _, p := range []string{"dotm", "dotm-agent"} {
		m, _ := filepath.Glob(filepath.Join(out, p+"_1.2.3~test_*.deb"))
		if len(m) != 1 {
			t.Fatalf("packaging/build made no single %s package: %v", p, m)
		}
		debs[p] = m[0]
	}
	files := append(contents(t, debs["dotm"]), contents(t, debs["dotm-agent"])...)
	for _, want := range []string{"/usr/bin/dotm", "/usr/bin/dotm-layout", "/usr/bin/dotm-cron", "/usr/bin/dotm-agent",
		"/lib/systemd/system/dotm.service", "/lib/systemd/system/dotm.timer", "/lib/systemd/system/dotm-report.service",
		"/lib/systemd/system/dotm-report.timer", "/lib/systemd/system/dotm-agent.service", "/etc/default/dotm",
		"/usr/share/man/man1/dotm.1.gz", "/usr/share/man/man1/dotm-collect.1.gz", "/usr/share/man/man8/dotm-agent.8.gz",
		"/usr/share/bash-completion/completions/dotm", "/usr/share/zsh/vendor-completions/_dotm",
		"/usr/share/fish/vendor_completions.d/dotm.fish"} {
		found := false
		for _, f := range files {
			found = found || f == want
		}
		if !found {
			t.Errorf("the packages lack %s", want)
		}
	}
	if got := run(t, "dpkg-deb", "-f", debs["dotm"], "Version"); strings.TrimSpace(got) != "1.2.3~test" {
		t.Errorf("dotm package version %q", got)
	}
	ctrl := t.TempDir()
	run(t, "dpkg-deb", "-e", debs["dotm"], ctrl)
	if b, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); strings.TrimSpace(string(b)) != "/etc/default/dotm" {
		t.Errorf("conffiles = %q, want /etc/default/dotm", b)
	}

	t.Cleanup(func() {
		// whatever happened: nothing of the test stays on the machine
		exec.Command("dpkg", "-P", "dotm", "dotm-agent").Run()
		if !hadUser {
			exec.Command("userdel", "dotm").Run()
			exec.Command("groupdel", "dotm").Run()
		}
	})
	dpkg(t, "-i", debs["dotm"], debs["dotm-agent"])

	version := regexp.MustCompile(`^dotm 1\.2\.3~test \(commit [0-9a-f]{40}(\+dirty)?, built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, go1\.\d+`)
	if got := run(t, "/usr/bin/dotm", "--version"); !version.MatchString(got) {
		t.Errorf("dotm --version = %q, want it to match %s", got, version)
	}
	if got := run(t, "/usr/bin/dotm-agent", "--version"); !strings.HasPrefix(got, "dotm-agent 1.2.3~test (commit ") {
		t.Errorf("dotm-agent --version = %q", got)
	}
	for _, dir := range []string{"/var/lib/dotm", "/var/cache/dotm"} {
		if got := strings.TrimSpace(run(t, "stat", "-c", "%U:%G %a", dir)); got != "dotm:dotm 750" {
			t.Errorf("%s is %s, want dotm:dotm 750", dir, got)
		}
	}
	if got := strings.TrimSpace(run(t, "man", "-w", "dotm-agent")); got != "/usr/share/man/man8/dotm-agent.8.gz" {
		t.Errorf("man -w dotm-agent = %q", got)
	}

	// The demo as the dotm user, with the installed programs only (on an
	// agent port reserved for it: other tests serve fleets at the same time).
	// (not t.TempDir, whose parent only root may enter)
	site, err := os.MkdirTemp("", "dotm-package-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(site) })
	run(t, "chown", "dotm:dotm", site)
	demo := run(t, "runuser", "-u", "dotm", "--", "env", "PATH=/usr/bin:/bin", "HOME=/var/lib/dotm",
		"dotm", "demo", "--out", filepath.Join(site, "demo"), "--hosts", "12", "--agent-port", strconv.Itoa(int(montest.FleetPort(t))))
	if !strings.Contains(demo, "site written to") {
		t.Errorf("dotm demo as dotm: %s", demo)
	}
	if fi, err := os.Stat(filepath.Join(site, "demo", "index.html")); err != nil || fi.Size() == 0 {
		t.Errorf("the demo site has no index.html: %v", err)
	}

	// The units as installed, with their programs in /usr/bin.
	units, _ := filepath.Glob("/lib/systemd/system/dotm*.service")
	timers, _ := filepath.Glob("/lib/systemd/system/dotm*.timer")
	units = append(units, timers...)
	if len(units) != 5 {
		t.Errorf("installed units %v, want 5", units)
	}
	if b, err := exec.Command("systemd-analyze", append([]string{"verify"}, units...)...).CombinedOutput(); err != nil || len(b) > 0 {
		t.Errorf("systemd-analyze verify %v: %v\n%s", units, err, b)
	}
	for _, u := range units {
		if b, _ := os.ReadFile(u); strings.Contains(string(b), "/usr/local/") {
			t.Errorf("%s names /usr/local", u)
		}
	}

	// Remove: the programs go, the conffile and the data stay.
	if err := os.WriteFile("/etc/default/dotm", []byte("DOTM_SITE=/var/www/edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dpkg(t, "-r", "dotm", "dotm-agent")
	for _, gone := range []string{"/usr/bin/dotm", "/usr/bin/dotm-agent", "/lib/systemd/system/dotm.service"} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s is left after dpkg -r", gone)
		}
	}
	for _, kept := range []string{"/etc/default/dotm", "/var/lib/dotm"} {
		if _, err := os.Lstat(kept); err != nil {
			t.Errorf("dpkg -r removed %s, which stays until purge: %v", kept, err)
		}
	}

	// Purge: nothing is left.
	dpkg(t, "-P", "dotm", "dotm-agent")
	for _, f := range append(files, "/etc/default/dotm", "/var/lib/dotm", "/var/cache/dotm") {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s is left after dpkg -P", f)
		}
	}
	for _, p := range []string{"dotm", "dotm-agent"} {
		if b, err := exec.Command("dpkg-query", "-W", "-f=${Status}", p).CombinedOutput(); err == nil && strings.Contains(string(b), "config-files") {
			t.Errorf("%s: %s after purge", p, b)
		}
	}
}
