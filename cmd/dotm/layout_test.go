package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/lwindolf/dotm/internal/bintest"
	"github.com/lwindolf/dotm/internal/usertest"
)

// TestDotmLinksNoGraphviz: the dotm binary does not link goccy/go-graphviz
// or wazero, whose package init compiles WebAssembly through $TMPDIR at
// every start; only dotm-layout does.
func TestDotmLinksNoGraphviz(t *testing.T) {
	deps := func(pkg string) string {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		return string(out)
	}
	dotm := deps(".")
	for _, banned := range []string{"github.com/goccy/go-graphviz", "github.com/tetratelabs/wazero"} {
		if strings.Contains(dotm, banned) {
			t.Errorf("./cmd/dotm depends on %s: only ./cmd/dotm-layout may", banned)
		}
	}
	if !strings.Contains(deps("../dotm-layout"), "github.com/goccy/go-graphviz\n") {
		t.Error("dotm-layout does not link go-graphviz: this check would not see it")
	}
}

// buildBinaries builds dotm and dotm-layout side by side, as the README's
// set-up does, into a directory of the test.
func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := bintest.Build(dir, "dotm", "dotm-layout"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// watchTree reports every access to a directory tree (inotify: open,
// read, create, write, delete, attribute change) of files and
// directories in it.
type watchTree struct{ fd int }

func newWatch(t *testing.T, root string) *watchTree {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_, err = syscall.InotifyAddWatch(fd, p, syscall.IN_ALL_EVENTS)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &watchTree{fd}
	w.events(t) // the walk's own reads
	return w
}

// events are the names of what was touched since the last call.
func (w *watchTree) events(t *testing.T) []string {
	t.Helper()
	var names []string
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(w.fd, buf)
		if err == syscall.EAGAIN {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
			names = append(names, fmt.Sprintf("%s (mask %#x)", strings.TrimRight(string(name), "\x00"), ev.Mask))
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// TestHostileSharedTMPDIR: with TMPDIR a shared directory (mode 1777)
// where another user planted go-graphviz/ (wazero's compilation cache,
// machine code run by whoever trusts it), or where root made it 0700,
// dotm's commands, a render with the embedded layout included, neither
// read nor create anything there, and all succeed: as root, and as that
// other user in root's directory.
func TestHostileSharedTMPDIR(t *testing.T) {
	u := usertest.New(t)
	bin := buildBinaries(t)
	usertest.Reachable(t, bin)
	cases := []struct {
		name  string
		plant func(t *testing.T, shared string)
	}{
		{"planted by another user", func(t *testing.T, shared string) {
			gg := u.Dir(t, shared, "go-graphviz", 0o777)
			wz := u.Dir(t, gg, "wazero-v1.10.1-amd64-linux", 0o777)
			for _, dir := range []string{gg, wz} {
				f := filepath.Join(dir, strings.Repeat("ab", 32))
				if err := os.WriteFile(f, []byte("\x7fELF planted machine code"), 0o666); err != nil {
					t.Fatal(err)
				}
				u.Chown(t, f)
			}
		}},
		{"root's own 0700", func(t *testing.T, shared string) {
			if err := os.Mkdir(filepath.Join(shared, "go-graphviz"), 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shared := t.TempDir()
			usertest.Reachable(t, shared)
			if err := os.Chmod(shared, 0o1777); err != nil {
				t.Fatal(err)
			}
			tc.plant(t, shared)
			watch := newWatch(t, shared)

			data, work := t.TempDir(), t.TempDir()
			hostileStore(t, data, 1795000000)
			dotm := func(cmd *exec.Cmd) string {
				t.Helper()
				cmd.Env = append(os.Environ(), "TMPDIR="+shared)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
				}
				return string(out)
			}
			exe := filepath.Join(bin, "dotm")
			if out := dotm(exec.Command(exe, "--data-dir", data, "nodes", "list")); !strings.Contains(out, "web01") {
				t.Errorf("nodes list: %q", out)
			}
			dotm(exec.Command(exe, "--help"))
			cache, site := filepath.Join(work, "cache"), filepath.Join(work, "site")
			dotm(exec.Command(exe, "--data-dir", data, "render", "--out", site, "--now", "1795000000",
				"--layout", "embedded", "--cache", cache))
			if svg, err := os.ReadFile(filepath.Join(site, "graphs", "global.svg")); err != nil || !bytes.Contains(svg, []byte("</svg>")) {
				t.Errorf("render laid out no global graph: %v", err)
			}
			if _, err := os.Stat(filepath.Join(cache, "wasm", "go-graphviz")); err != nil {
				t.Errorf("the compiled WebAssembly is not in the private cache: %v", err)
			}

			// the other user, in the same TMPDIR, with its own files
			mine := u.Dir(t, work, "user", 0o700)
			usertest.Reachable(t, mine)
			dotm(u.Command(exe, "--data-dir", filepath.Join(mine, "data"), "nodes", "list"))
			dotm(u.Command(exe, "--help"))
			dotm(u.Command(exe, "--data-dir", filepath.Join(mine, "data"), "render", "--out", filepath.Join(mine, "site"),
				"--layout", "embedded", "--cache", filepath.Join(mine, "cache")))

			if ev := watch.events(t); len(ev) > 0 {
				t.Errorf("dotm touched the shared TMPDIR: %v", ev)
			}
			// the watch sees what it should
			if _, err := os.ReadDir(filepath.Join(shared, "go-graphviz")); err != nil {
				t.Fatal(err)
			}
			if len(watch.events(t)) == 0 {
				t.Fatal("the watch on the shared TMPDIR saw nothing of a read of it")
			}
		})
	}
}
