package layout

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// cacheKey is the name of a layout in the cache: the hash of the cache
// version, the engine (with its version) and the DOT.
func cacheKey(engine string, dot []byte) string {
	h := sha256.New()
	h.Write([]byte(cacheVersion + "\x00" + engine + "\x00"))
	h.Write(dot)
	return hex.EncodeToString(h.Sum(nil))
}

// layoutCache is an open layout cache directory: private to us, checked
// when opened, and used only through its os.Root, so that no link in it
// leads outside.
type layoutCache struct {
	dir  string
	root *os.Root
	warn func(string)
	// readOnly is set after the first failed write: the render goes on,
	// laying out what the cache lacks, and says so once.
	readOnly atomic.Bool
}

// openCache opens (creating it 0700) the cache directory dir. A directory
// another user could write (owned by someone else, group- or
// world-writable, a symbolic link) is refused: its files are inlined into
// pages. A cache that cannot be used is reported through warn and the
// render goes on without it (nil).
func openCache(dir string, warn func(string)) *layoutCache {
	if dir == "" {
		return nil
	}
	if err := privateDir(dir); err != nil {
		warn(fmt.Sprintf("layout cache %s not used: %v; laying out every graph", dir, err))
		return nil
	}
	root, err := os.OpenRoot(dir)
	if err == nil {
		err = sameDir(root, dir)
	}
	if err != nil {
		if root != nil {
			root.Close()
		}
		warn(fmt.Sprintf("layout cache %s not used: %v; laying out every graph", dir, err))
		return nil
	}
	return &layoutCache{dir: dir, root: root, warn: warn}
}

// privateDir makes sure dir is a directory only we can write: created
// with mode 0700 when missing, refused when it is a symbolic link, owned
// by another user, or writable by group or others.
func privateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	return checkPrivate(fi)
}

// checkPrivate refuses what another user could write.
func checkPrivate(fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return errors.New("it is a symbolic link (give the real directory)")
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by uid %d, not by us (uid %d): use a directory of our own", st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("mode %04o lets others write it: chmod 0700 it", fi.Mode().Perm())
	}
	return nil
}

// sameDir makes sure root is the directory that was checked, not one
// swapped in since.
func sameDir(root *os.Root, dir string) error {
	a, err := root.Stat(".")
	if err != nil {
		return err
	}
	b, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !os.SameFile(a, b) {
		return errors.New("it changed while being opened")
	}
	return checkPrivate(a)
}

// close releases the directory.
func (c *layoutCache) close() {
	if c != nil {
		c.root.Close()
	}
}

// get reads a layout and marks it used. An entry that is not exactly what
// dotm's layout writes (see checkSVG) is discarded: the graph is laid out
// again and the entry replaced.
func (c *layoutCache) get(key string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	name := key + ".svg"
	fi, err := c.root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	svg, err := c.root.ReadFile(name)
	if err != nil || !validSVG(svg) || checkSVG(svg) != nil {
		return nil, false
	}
	now := time.Now()
	_ = c.root.Chtimes(name, now, now) // only ages the entry for prune
	return svg, true
}

// put writes a layout: a temporary file renamed into place, so a reader
// never sees half an SVG. A cache that cannot be written (full,
// read-only) is said once and then left alone.
func (c *layoutCache) put(key string, svg []byte) {
	if c == nil || c.readOnly.Load() {
		return
	}
	if err := c.write(key, svg); err != nil && !c.readOnly.Swap(true) {
		c.warn(fmt.Sprintf("layout cache %s: %v; rendering without storing layouts", c.dir, err))
	}
}

func (c *layoutCache) write(key string, svg []byte) error {
	tmp := key + "." + rand.Text() + ".tmp"
	f, err := c.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(svg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.root.Rename(tmp, key+".svg")
	}
	if err != nil {
		_ = c.root.Remove(tmp)
	}
	return err
}

// prune deletes entries (and temporary files left by a crash) not used for
// cacheTTL, so that the cache does not grow with every change.
func (c *layoutCache) prune(now time.Time) {
	if c == nil {
		return
	}
	d, err := c.root.Open(".")
	if err != nil {
		return
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".svg") && !strings.HasSuffix(name, ".tmp") {
			continue
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > cacheTTL {
			_ = c.root.Remove(name)
		}
	}
}

// wasmDir is the directory, inside the cache, where dotm-layout keeps its
// compiled WebAssembly ("" when it cannot be made private).
func (c *layoutCache) wasmDir() string {
	if c == nil {
		return ""
	}
	dir := filepath.Join(c.dir, "wasm")
	if err := c.root.Mkdir("wasm", 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return ""
	}
	fi, err := c.root.Lstat("wasm")
	if err != nil || checkPrivate(fi) != nil {
		return ""
	}
	return dir
}
