package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "3f2a9c"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tagged := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}
	for _, tc := range []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
	}{
		{"no build info", nil, "", "", "", Info{Version: "devel"}},
		{"git checkout", vcs, "", "", "", Info{"devel", "3f2a9c+dirty", "2026-12-01T10:00:00Z", "go1.26.8"}},
		{"go install @version", tagged, "", "", "", Info{"v1.2.0", "", "", "go1.26.8"}},
		{"ldflags win", vcs, "1.3.0", "abc", "2026-12-02T00:00:00Z", Info{"1.3.0", "abc", "2026-12-02T00:00:00Z", "go1.26.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.bi, tc.version, tc.commit, tc.date); got != tc.want {
				t.Errorf("get = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := (Info{Version: "devel"}).Line("dotm"); got != "dotm devel (commit unknown, built unknown, unknown Go)" {
		t.Errorf("Line = %q", got)
	}
}

// TestLdflags builds dotm with the linker flags of a release build and
// checks that its --version reports them.
func TestLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dotm")
	}
	bin := filepath.Join(t.TempDir(), "dotm")
	const pkg = "github.com/lwindolf/dotm/internal/buildinfo"
	ld := "-X " + pkg + ".version=9.8.7 -X " + pkg + ".commit=0123abc -X " + pkg + ".date=2026-12-02T00:00:00Z"
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, "github.com/lwindolf/dotm/cmd/dotm").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("dotm --version: %v", err)
	}
	want := "dotm 9.8.7 (commit 0123abc, built 2026-12-02T00:00:00Z, go"
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("dotm --version = %q, want it to start with %q", out, want)
	}
	_ = os.Remove(bin)
}
