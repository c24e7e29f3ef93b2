package site

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// readTree maps every file under dir (slash paths) to its bytes, and
// every directory to nil.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			files[filepath.ToSlash(rel)+"/"] = nil
			return nil
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// publish writes files into a new tree for out and publishes it.
func publish(t *testing.T, out string, files map[string]string) {
	t.Helper()
	tree, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	for rel, s := range files {
		if err := tree.Write(rel, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tree.Publish(); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRefuses(t *testing.T) {
	tree, err := New(filepath.Join(t.TempDir(), "site"))
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Abort()
	for _, rel := range []string{
		"", ".", "..", "../x", "../../etc/passwd", "/etc/passwd", "/", "a/../../x", "a/../x", "./a", "a//b",
		"a/", "nodes/..", `a\b`, `..\..\x`, "a\x00b", MarkerName,
	} {
		err := tree.Write(rel, []byte("x"))
		if err == nil {
			t.Errorf("Write(%q) was accepted", rel)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(rel)) {
			t.Errorf("Write(%q): error %q does not name the path", rel, err)
		}
	}
	if err := tree.Write("nodes/a.html", nil); err != nil {
		t.Fatal(err)
	}
	if err := tree.Write("nodes/a.html", nil); err == nil || !strings.Contains(err.Error(), "written before") {
		t.Errorf("a second write of one path: %v", err)
	}
	if err := tree.Write("nodes/a.html/x", nil); err == nil {
		t.Error("a write below a file was accepted")
	}
}

func TestWriteBytesAndModes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site")
	data := []byte("<html>\x00\xff exact bytes\r\n")
	publish(t, out, map[string]string{"a/b/c.html": string(data), "index.html": ""})
	got, err := os.ReadFile(filepath.Join(out, "a", "b", "c.html"))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("a/b/c.html = %q, %v; want %q", got, err, data)
	}
	if runtime.GOOS == "windows" {
		return
	}
	for rel, want := range map[string]fs.FileMode{".": 0o755, "a": 0o755, "a/b": 0o755, "a/b/c.html": 0o644, "index.html": 0o644, MarkerName: 0o644} {
		fi, err := os.Stat(filepath.Join(out, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", rel, fi.Mode().Perm(), want)
		}
	}
}

func TestPublishSwaps(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "site")
	publish(t, out, map[string]string{"index.html": "old", "nodes/gone.html": "gone"})
	publish(t, out, map[string]string{"index.html": "new", "nodes/web01.html": "web01"})
	want := map[string][]byte{MarkerName: []byte(markerText), "index.html": []byte("new"), "nodes/": nil, "nodes/web01.html": []byte("web01")}
	if got := readTree(t, out); !equalTrees(got, want) {
		t.Errorf("published tree %q, want %q", got, want)
	}
	if got := names(t, parent); len(got) != 1 || got[0] != "site" {
		t.Errorf("beside the site: %q, want only site (no temporary or old trees)", got)
	}
}

func TestAbortKeepsSite(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "site")
	publish(t, out, map[string]string{"index.html": "old", "nodes/web01.html": "web01"})
	before := readTree(t, out)
	tree, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Write("index.html", []byte("half")); err != nil {
		t.Fatal(err)
	}
	tree.Abort()
	tree.Abort()
	if after := readTree(t, out); !equalTrees(before, after) {
		t.Errorf("after Abort the site is %q, was %q", after, before)
	}
	if got := names(t, parent); len(got) != 1 {
		t.Errorf("beside the site after Abort: %q", got)
	}
	if err := tree.Write("x.html", nil); err == nil {
		t.Error("Write after Abort was accepted")
	}
	if err := tree.Publish(); err == nil {
		t.Error("Publish after Abort was accepted")
	}
}

func TestNewRemovesLeftovers(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "site")
	publish(t, out, map[string]string{"index.html": "old"})
	for _, d := range []string{".site.tmp-123/nodes", ".site.old-456", ".site.tmp-abc", ".other.tmp-1", ".site.tmp-1.tmp-2"} {
		if err := os.MkdirAll(filepath.Join(parent, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Abort()
	got := strings.Join(names(t, parent), " ")
	if strings.Contains(got, ".site.tmp-123") || strings.Contains(got, ".site.old-456") {
		t.Errorf("leftovers remain: %s", got)
	}
	for _, keep := range []string{".site.tmp-abc", ".other.tmp-1", ".site.tmp-1.tmp-2", "site"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%s was removed: %s", keep, got)
		}
	}
}

func TestOverlappingRenders(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site")
	publish(t, out, map[string]string{"index.html": "old"})
	first, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Write("index.html", []byte("first")); err != nil {
		t.Fatal(err)
	}
	publish(t, out, map[string]string{"index.html": "second"}) // its New moves first's tree away
	_ = first.Write("nodes/x.html", nil)
	if err := first.Publish(); err == nil {
		t.Error("a render whose tree was removed by another one published")
	}
	if got := readTree(t, out)["index.html"]; string(got) != "second" {
		t.Errorf("index.html = %q, want the second render's", got)
	}
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	foreign := filepath.Join(dir, "foreign")
	repo := filepath.Join(dir, "repo")
	for _, p := range []string{filepath.Join(foreign, "keep.txt"), filepath.Join(repo, ".git", "HEAD"), filepath.Join(repo, MarkerName), file} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, out := range []string{"", "/", file, foreign, repo} {
		if tree, err := New(out); err == nil {
			tree.Abort()
			t.Errorf("New(%q) was accepted", out)
		} else if out != "" && !strings.Contains(err.Error(), out) {
			t.Errorf("New(%q): error %q does not name the path", out, err)
		}
	}
	if got := names(t, foreign); len(got) != 1 {
		t.Errorf("the foreign directory was touched: %q", got)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	publish(t, empty, map[string]string{"index.html": "x"})
	publish(t, filepath.Join(dir, "new", "deeper", "site"), map[string]string{"index.html": "x"})
}

func TestPublishFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	publish(t, real, map[string]string{"index.html": "old"})
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	publish(t, link, map[string]string{"index.html": "new"})
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink: %v", link, err)
	}
	if got := readTree(t, real)["index.html"]; string(got) != "new" {
		t.Errorf("index.html behind the symlink = %q, want new", got)
	}
}

func TestWriteAssets(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site")
	tree, err := New(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteAssets(tree); err != nil {
		t.Fatal(err)
	}
	if err := tree.Publish(); err != nil {
		t.Fatal(err)
	}
	files := readTree(t, out)
	css, js := string(files["assets/site.css"]), string(files["assets/site.js"])
	for _, class := range []string{".state-OK", ".state-WARNING", ".state-CRITICAL", ".state-UNKNOWN", ".state-PENDING", ".state-DOWN", ".state-UP", "position: sticky", "@media print", "nav.top", ".graph svg"} {
		if !strings.Contains(css, class) {
			t.Errorf("site.css lacks %s", class)
		}
	}
	for _, want := range []string{"table.filterable", "table.sortable", "aria-sort", "DOMContentLoaded"} {
		if !strings.Contains(js, want) {
			t.Errorf("site.js lacks %s", want)
		}
	}
	for _, banned := range []string{"eval(", "innerHTML", "fetch(", "XMLHttpRequest", ".style.", "setAttribute('style'", "onclick"} {
		if strings.Contains(js, banned) {
			t.Errorf("site.js uses %s", banned)
		}
	}
}

// equalTrees compares two readTree maps.
func equalTrees(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}
