package site

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// MarkerName is the file every published tree holds at its top. A
// directory that is not empty and lacks it is not a site written by dotm,
// and New refuses to replace it.
const MarkerName = ".dotm-site"

// markerText is the content of MarkerName.
const markerText = "This directory is a site written by \"dotm render\".\n" +
	"Every render replaces the whole directory: keep nothing else in it.\n"

// Tree is a site being written: a temporary directory beside the output
// directory that Publish swaps in when it is complete, or Abort removes.
//
// The design is a directory swap with two renames on one file system
// (the temporary tree is a sibling of out, ".out.tmp-N"):
//
//  1. rename out to ".out.old-N" (if out exists),
//  2. rename ".out.tmp-N" to out,
//  3. remove ".out.old-N".
//
// A rename is atomic, so at every instant out is either the complete old
// site or the complete new one: a web server never sees a half-written
// site. Between steps 1 and 2 (two system calls, microseconds) out does
// not exist and a request gets "not found"; a symlink swap would close
// that window but would make out a symlink and the web server follow it,
// which is more to configure and explain than it is worth. If out is
// already a symlink, it is followed and the directory it points to is
// replaced.
//
// Files are written 0644 and directories 0755 whatever the umask, with
// exactly the bytes given. Each path may be written once: a second write
// is an error, so two names that meet in one file name cannot silently
// overwrite each other. Files are not fsynced: after a power cut, rerun
// the render.
//
// out belongs to dotm: everything in it is replaced on every render. New
// refuses a directory that holds other things (no MarkerName) or a .git
// (keep a repository that archives the site outside it:
// git --git-dir=DIR --work-tree=OUT). If a run crashed between steps 1
// and 2, out is missing and ".out.old-N" is the only complete site: New
// renames it back to out before anything else, so that the site is
// served again even if this render fails too. It then removes leftover
// ".out.tmp-N" and ".out.old-N" directories of crashed runs (each loses
// its MarkerName first, so a half-removed tree is never taken for a
// site); a render running at the same moment into the same out then
// fails at Publish (its tree was moved away) and leaves the published
// site as it was. Callers still should not render into one out
// concurrently: Lock keeps them apart.
//
// A Tree is safe for use by several goroutines.
type Tree struct {
	out    string // the output directory, symlinks resolved
	tmp    string // the temporary tree, ".<base>.tmp-<suffix>" beside out
	suffix string // the random digits of tmp's name

	mu   sync.Mutex
	root *os.Root        // tmp, confined; nil once published or aborted
	dirs map[string]bool // directories already made in tmp
}

// New prepares a fresh temporary tree beside out for a new site. out must
// be a directory path other than the file system root; it need not exist
// (nor its parent, which is made), and if it exists it must be a site
// written before (see Tree).
func New(out string) (*Tree, error) {
	dir, err := checkOut(out)
	if err != nil {
		return nil, err
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("site: make the parent of %s: %w", dir, err)
	}
	if err := recoverPrevious(dir); err != nil {
		return nil, err
	}
	removeLeftovers(parent, base)
	return newTree(dir, parent, base)
}

// checkOut is New's check of out, made before anything is created: it
// returns the output directory (see outputDir) if it may be replaced.
func checkOut(out string) (string, error) {
	dir, err := outputDir(out)
	if err != nil {
		return "", err
	}
	if err := checkReplaceable(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// recoverPrevious puts the previous site back when a run crashed between
// the two renames of a publish: out is missing, and ".<base>.old-N" still
// holds the complete site moved aside. Only a tree with MarkerName at its
// top is taken: a temporary tree is never published this way, and a tree
// being removed loses its marker first. If several qualify (which takes
// more than one crash), the one whose marker is newest is taken.
func recoverPrevious(out string) error {
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	parent, base := filepath.Dir(out), filepath.Base(out)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var best string
	var bestTime int64
	for _, e := range entries {
		if _, ok := leftover(e.Name(), "."+base+".old-"); !ok || !e.IsDir() {
			continue
		}
		fi, err := os.Lstat(filepath.Join(parent, e.Name(), MarkerName))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if t := fi.ModTime().UnixNano(); best == "" || t > bestTime {
			best, bestTime = e.Name(), t
		}
	}
	if best == "" {
		return nil
	}
	if err := os.Rename(filepath.Join(parent, best), out); err != nil {
		return fmt.Errorf("site: %s is missing and the previous site is in %s (a render crashed while "+
			"publishing); putting it back failed: %w; rename it to %s by hand", out, filepath.Join(parent, best), err, out)
	}
	return nil
}

// newTree makes the temporary directory for out (parent/base) and writes
// the marker into it.
func newTree(out, parent, base string) (*Tree, error) {
	prefix := "." + base + ".tmp-"
	tmp, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return nil, fmt.Errorf("site: make a temporary directory beside %s: %w", out, err)
	}
	t := &Tree{out: out, tmp: tmp, suffix: strings.TrimPrefix(filepath.Base(tmp), prefix), dirs: map[string]bool{}}
	err = os.Chmod(tmp, 0o755)
	if err == nil {
		t.root, err = os.OpenRoot(tmp)
	}
	if err == nil {
		err = t.write(MarkerName, []byte(markerText))
	}
	if err != nil {
		t.Abort()
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("site: prepare %s: %w", tmp, err)
	}
	return t, nil
}

// outputDir is out as an absolute path with a symlink at its end
// followed; it refuses an empty path, the file system root and a
// non-directory.
func outputDir(out string) (string, error) {
	if out == "" {
		return "", errors.New("site: the output directory is an empty path")
	}
	dir, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("site: output directory %s: %w", out, err)
	}
	if dir, err = followLinks(dir); err != nil {
		return "", fmt.Errorf("site: output directory %s: %w", out, err)
	}
	if filepath.Dir(dir) == dir {
		return "", fmt.Errorf("site: refusing to publish into %s, the root of the file system", dir)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dir, nil
	case err != nil:
		return "", fmt.Errorf("site: output directory %s: %w", out, err)
	case !fi.IsDir():
		return "", fmt.Errorf("site: output directory %s exists and is not a directory", dir)
	}
	return dir, nil
}

// followLinks follows symlinks at the end of the absolute path p until it
// names something else or nothing: a symlink whose directory was moved
// aside by a crashed publish resolves to the missing directory, which
// recoverPrevious can put back.
func followLinks(p string) (string, error) {
	for range 40 {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = filepath.Clean(target)
	}
	return "", errors.New("too many levels of symbolic links")
}

// checkReplaceable refuses an existing directory that a swap would
// destroy more than a site in: one that is not empty and lacks the
// marker, or holds a .git.
func checkReplaceable(dir string) error {
	if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
		return fmt.Errorf("site: %s holds .git, which every render would replace; "+
			"keep the repository outside (git --git-dir=DIR --work-tree=%s)", dir, dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, MarkerName)); err == nil {
		return nil
	}
	empty, err := isEmptyDir(dir)
	if err != nil {
		return fmt.Errorf("site: output directory %s: %w", dir, err)
	}
	if !empty {
		return fmt.Errorf("site: %s is not empty and holds no %s, so dotm did not write it; "+
			"refusing to replace it: choose a new or empty directory", dir, MarkerName)
	}
	return nil
}

// isEmptyDir tells whether dir is missing or an empty directory.
func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// removeLeftovers removes, as far as it can, the ".<base>.tmp-N" and
// ".<base>.old-N" directories in parent that crashed runs left. A
// temporary tree is first renamed to its ".old-N" name, so that a run
// still writing it cannot publish it any more.
func removeLeftovers(parent, base string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := filepath.Join(parent, e.Name())
		if n, ok := leftover(e.Name(), "."+base+".tmp-"); ok {
			old := filepath.Join(parent, "."+base+".old-"+n)
			if unmark(name) != nil || os.Rename(name, old) != nil {
				continue
			}
			name = old
		} else if _, ok := leftover(e.Name(), "."+base+".old-"); !ok {
			continue
		}
		removeTree(name)
	}
}

// unmark removes MarkerName from the tree dir, so that recoverPrevious
// never takes it for a complete site.
func unmark(dir string) error {
	err := os.Remove(filepath.Join(dir, MarkerName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// removeTree removes the tree dir, its marker first.
func removeTree(dir string) {
	if unmark(dir) == nil {
		_ = os.RemoveAll(dir)
	}
}

// leftover returns the digits after prefix in name, if name is prefix
// followed by digits only (as os.MkdirTemp makes them).
func leftover(name, prefix string) (string, bool) {
	n, ok := strings.CutPrefix(name, prefix)
	if !ok || n == "" {
		return "", false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return n, true
}

// Write writes data as the file at rel in the tree, making its
// directories. rel is a clean relative slash path built with Path and
// Slug; Write refuses an empty, absolute or unclean path, a backslash, a
// NUL, a ".." that would leave the tree, MarkerName, and a path written
// before.
func (t *Tree) Write(rel string, data []byte) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	if rel == MarkerName {
		return fmt.Errorf("site: refusing to write %q: the name is reserved", rel)
	}
	return t.write(rel, data)
}

// checkRel refuses a rel that is not a clean relative slash path inside
// the tree.
func checkRel(rel string) error {
	var why string
	switch {
	case rel == "" || rel == ".":
		why = "the path is empty"
	case strings.ContainsAny(rel, "\\\x00"):
		why = "the path holds a backslash or NUL"
	case path.IsAbs(rel):
		why = "the path is absolute"
	case path.Clean(rel) != rel:
		why = "the path is not clean (want " + path.Clean(rel) + ")"
	case rel == ".." || strings.HasPrefix(rel, "../"):
		why = "the path leaves the tree"
	default:
		return nil
	}
	return fmt.Errorf("site: refusing to write %q: %s", rel, why)
}

// write writes data to rel (checked) with mode 0644.
func (t *Tree) write(rel string, data []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.root == nil {
		return fmt.Errorf("site: write %q: the tree was already published or aborted", rel)
	}
	if err := t.mkdirs(path.Dir(rel)); err != nil {
		return fmt.Errorf("site: write %q: %w", rel, err)
	}
	f, err := t.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("site: write %q: the path was written before (two names with one file name?)", rel)
	}
	if err != nil {
		return fmt.Errorf("site: write %q: %w", rel, err)
	}
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("site: write %q: %w", rel, err)
	}
	return nil
}

// mkdirs makes dir and its parents in the tree with mode 0755; t.mu is
// held.
func (t *Tree) mkdirs(dir string) error {
	if dir == "." || t.dirs[dir] {
		return nil
	}
	if err := t.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	err := t.root.Mkdir(dir, 0o755)
	if err == nil {
		err = t.root.Chmod(dir, 0o755)
	} else if errors.Is(err, fs.ErrExist) {
		err = nil // a file there makes the write fail
	}
	if err != nil {
		return err
	}
	t.dirs[dir] = true
	return nil
}

// Publish swaps the finished tree in as the output directory and removes
// the previous site (see Tree). On failure the previous site is left in
// place and the temporary tree removed. The Tree cannot be written after.
func (t *Tree) Publish() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.root == nil {
		return fmt.Errorf("site: publish %s: the tree was already published or aborted", t.out)
	}
	_ = t.root.Close()
	t.root = nil
	err := t.swap()
	if err != nil {
		_ = os.RemoveAll(t.tmp)
	}
	return err
}

// swap renames out aside, the temporary tree to out, and removes the old
// site; if the second rename fails it puts the old site back.
func (t *Tree) swap() error {
	old := filepath.Join(filepath.Dir(t.out), "."+filepath.Base(t.out)+".old-"+t.suffix)
	err := os.Rename(t.out, old)
	if errors.Is(err, fs.ErrNotExist) {
		old = ""
	} else if err != nil {
		return fmt.Errorf("site: publish %s: move the previous site aside (is it a mount point? then use a directory in it): %w", t.out, err)
	}
	if err := os.Rename(t.tmp, t.out); err != nil {
		err = fmt.Errorf("site: publish %s: %w", t.out, err)
		if old != "" {
			if rerr := os.Rename(old, t.out); rerr != nil {
				err = errors.Join(err, fmt.Errorf("site: put the previous site back from %s: %w", old, rerr))
			}
		}
		return err
	}
	if old != "" {
		removeTree(old) // a leftover is removed by the next New
	}
	return nil
}

// Abort removes the temporary tree; the published site stays as it was.
// It does nothing after Publish or a first Abort.
func (t *Tree) Abort() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.root == nil {
		return
	}
	_ = t.root.Close()
	t.root = nil
	_ = os.RemoveAll(t.tmp)
}
