package site

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileLockSymlink: a lock file that another user replaced by a
// symlink, or by something that is not a regular file, is refused by
// name; the link's target keeps its bytes, and a dangling link's target
// is not created.
func TestHostileLockSymlink(t *testing.T) {
	parent, elsewhere := t.TempDir(), t.TempDir()
	out := filepath.Join(parent, "site")
	lock := filepath.Join(parent, ".site.lock")
	victim := filepath.Join(elsewhere, "shadow")
	if err := os.WriteFile(victim, []byte("root:secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(parent, "index.html") // a target inside the same directory
	if err := os.WriteFile(inside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{victim, inside, filepath.Join(elsewhere, "created"), "created-here"} {
		_ = os.Remove(lock)
		if err := os.Symlink(target, lock); err != nil {
			t.Fatal(err)
		}
		unlock, err := Lock(context.Background(), out, 100*time.Millisecond)
		if err == nil {
			unlock()
			t.Errorf("a lock file that is a symlink to %s was used", target)
			continue
		}
		if !strings.Contains(err.Error(), lock) || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("link to %s: error %q does not name %s as a symlink", target, err, lock)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "root:secret\n" {
		t.Errorf("the link's target was changed: %q", b)
	}
	if b, _ := os.ReadFile(inside); string(b) != "keep" {
		t.Errorf("the link's target in the same directory was changed: %q", b)
	}
	for _, p := range []string{filepath.Join(elsewhere, "created"), filepath.Join(parent, "created-here")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created through a dangling lock symlink", p)
		}
	}

	// A FIFO is refused at once (opening it must not block) and a
	// directory too.
	_ = os.Remove(lock)
	if err := syscall.Mkfifo(lock, 0o666); err != nil {
		t.Fatal(err)
	}
	if unlock, err := Lock(context.Background(), out, 100*time.Millisecond); err == nil {
		unlock()
		t.Error("a FIFO as lock file was used")
	} else if !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: error %q", err)
	}
	_ = os.Remove(lock)
	if err := os.Mkdir(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	if unlock, err := Lock(context.Background(), out, 100*time.Millisecond); err == nil {
		unlock()
		t.Error("a directory as lock file was used")
	}
	if _, err := os.Lstat(out); err == nil {
		t.Error("a refused lock created the output directory")
	}
}

// TestHostileRefusedOutCreatesNothing: an --out that New refuses (here a
// directory dotm did not write, standing for /etc; a file; a path under a
// file; the root) gets no lock file beside it and no directory.
func TestHostileRefusedOutCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	file := filepath.Join(dir, "file")
	repo := filepath.Join(dir, "repo")
	for _, p := range []string{filepath.Join(etc, "passwd"), file, filepath.Join(repo, ".git", "HEAD")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := readTree(t, dir)
	for _, out := range []string{etc, file, repo, filepath.Join(file, "sub", "site"), "/"} {
		unlock, err := Lock(context.Background(), out, 100*time.Millisecond)
		if err == nil {
			unlock()
			t.Errorf("Lock(%q) was accepted", out)
			continue
		}
		if out != "/" && !strings.Contains(err.Error(), out) && !strings.Contains(err.Error(), file) {
			t.Errorf("Lock(%q): error %q names no path", out, err)
		}
	}
	if after := readTree(t, dir); !equalTrees(before, after) {
		t.Errorf("a refused --out created files: before %v, after %v", keys(before), keys(after))
	}
	if _, err := os.Lstat("/..lock"); err == nil {
		t.Error("a lock file was created in /")
	}
}

// keys lists a readTree map's names, sorted.
func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

// crash leaves out as a run that crashed between the two renames of
// Publish does: the previous site moved aside to ".<base>.old-<N>" and
// the new tree, complete or not, still at ".<base>.tmp-<N>".
func crash(t *testing.T, out string) {
	t.Helper()
	tree, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	parent, base := filepath.Dir(tree.out), filepath.Base(tree.out)
	if err := tree.Write("index.html", []byte("half-written")); err != nil {
		t.Fatal(err)
	}
	// Step 1 of swap, with the tree's own suffix, and no step 2.
	if err := os.Rename(tree.out, filepath.Join(parent, "."+base+".old-"+tree.suffix)); err != nil {
		t.Fatal(err)
	}
	tree.mu.Lock()
	_ = tree.root.Close()
	tree.root = nil
	tree.mu.Unlock()
}

// TestHostileCrashBetweenRenames: after a crash between the renames, the
// next render puts the complete previous site back before it writes
// anything, keeps it while it writes, and publishes over it; a tree
// half-removed by an earlier clean-up is never taken for the site.
func TestHostileCrashBetweenRenames(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "site")
	publish(t, out, map[string]string{"index.html": "old", "nodes/a.html": "a"})
	old := readTree(t, out)
	crash(t, out)
	// A tree an earlier clean-up was removing: its marker went first.
	if err := os.MkdirAll(filepath.Join(parent, ".site.old-999", "nodes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the crash did not leave out missing")
	}

	tree, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, out); !equalTrees(got, old) {
		t.Fatalf("after New: out holds %v, want the previous site %v", keys(got), keys(old))
	}
	if err := tree.Write("index.html", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, out); !equalTrees(got, old) {
		t.Fatalf("while writing: out holds %v, want the previous site", keys(got))
	}
	if err := tree.Publish(); err != nil {
		t.Fatal(err)
	}
	if got := readTree(t, out); string(got["index.html"]) != "new" || got[MarkerName] == nil {
		t.Errorf("after Publish: index.html = %q", got["index.html"])
	}
	if got := names(t, parent); !slices.Equal(got, []string{"site"}) {
		t.Errorf("left beside out: %v", got)
	}

	// A render that fails after the crash still leaves the site served.
	crash(t, out)
	tree, err = New(out)
	if err != nil {
		t.Fatal(err)
	}
	tree.Abort()
	if got := readTree(t, out); string(got["index.html"]) != "new" {
		t.Errorf("after a failed render: index.html = %q, want the last complete site", got["index.html"])
	}
}

// TestHostileCrashBehindSymlink: out is a symlink to the site, and the
// crash left the link dangling; the next render recovers the site behind
// it and keeps the link.
func TestHostileCrashBehindSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	publish(t, real, map[string]string{"index.html": "old"})
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	crash(t, link)
	if _, err := os.Stat(real); err == nil {
		t.Fatal("the crash did not move the site behind the link")
	}
	publish(t, link, map[string]string{"index.html": "new"})
	if got := readTree(t, link+"/")["index.html"]; string(got) != "new" {
		t.Errorf("index.html behind the link = %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink", link)
	}
}
