package layout

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lwindolf/dotm/internal/usertest"
)

// warnings collects a Layouter's warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(msg string) { w.mu.Lock(); w.msgs = append(w.msgs, msg); w.mu.Unlock() }

func (w *warnings) all() string { w.mu.Lock(); defer w.mu.Unlock(); return strings.Join(w.msgs, "\n") }

// TestHostileLayoutCachePlanted: a cache entry with a script, an onload
// attribute or a foreignObject, under the very key of a graph, never
// reaches a page: it is laid out again and the entry replaced.
func TestHostileLayoutCachePlanted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	eng, err := newEmbedded(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := (&Layouter{}).SVG(ctx, legendDOT())
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, cacheKey(eng.id(), legendDOT())+".svg")
	for name, planted := range map[string]string{
		"script":        strings.Replace(string(clean), "</svg>", "<script>alert(1)</script></svg>", 1),
		"onload":        strings.Replace(string(clean), "<svg ", `<svg onload="alert(1)" `, 1),
		"foreignObject": strings.Replace(string(clean), "</svg>", `<foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example/"/></foreignObject></svg>`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(key, []byte(planted), 0o600); err != nil {
				t.Fatal(err)
			}
			l := &Layouter{CacheDir: dir}
			svgs, err := l.LayoutAll(ctx, map[string][]byte{"legend": legendDOT()})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(svgs["legend"], clean) || l.LaidOut() != 1 {
				t.Errorf("the planted entry was used (%d laid out)", l.LaidOut())
			}
			if now, _ := os.ReadFile(key); !bytes.Equal(now, clean) {
				t.Error("the planted entry was not replaced")
			}
		})
	}
}

// TestHostileLayoutCacheRefused: a cache directory that others can write
// (mode 0777, another user's, a symbolic link) is not used: nothing is
// read from or written to it, a warning says why, and the layouts succeed.
func TestHostileLayoutCacheRefused(t *testing.T) {
	ctx := context.Background()
	u := usertest.New(t)
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	theirs := u.Dir(t, base, "theirs", 0o700)
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, files, why string }{
		{open, open, "lets others write"}, {theirs, theirs, "owned by uid"}, {link, real, "symbolic link"},
	} {
		t.Run(filepath.Base(tc.dir), func(t *testing.T) {
			var w warnings
			l := &Layouter{CacheDir: tc.dir, Warn: w.add}
			svgs, err := l.LayoutAll(ctx, map[string][]byte{"legend": legendDOT()})
			if err != nil || checkSVG(svgs["legend"]) != nil {
				t.Fatalf("layout without the cache failed: %v", err)
			}
			if msg := w.all(); !strings.Contains(msg, tc.dir) || !strings.Contains(msg, tc.why) {
				t.Errorf("warning %q: want it to name %s and say %q", msg, tc.dir, tc.why)
			}
			if entries, _ := os.ReadDir(tc.files); len(entries) > 0 {
				t.Errorf("%s was written to: %v", tc.files, entries)
			}
		})
	}
}

// TestHostileLayoutCacheUnwritable: a full or read-only cache (a real tmpfs,
// filled up or remounted read-only) does not fail the layouts; it is said
// once.
func TestHostileLayoutCacheUnwritable(t *testing.T) {
	usertest.New(t) // root, to mount (the user itself is not needed)
	jobs := siteJobs()
	for _, tc := range []struct{ name, opts string }{{"full", "size=64k"}, {"read-only", "size=1m"}} {
		t.Run(tc.name, func(t *testing.T) {
			mnt := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", tc.opts+",mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
				t.Fatalf("mount tmpfs: %v\n%s", err, out)
			}
			t.Cleanup(func() { _ = exec.Command("umount", mnt).Run() })
			if tc.name == "full" {
				f, err := os.Create(filepath.Join(mnt, "filler"))
				if err != nil {
					t.Fatal(err)
				}
				for err == nil {
					_, err = f.Write(make([]byte, 4096))
				}
				f.Close()
			} else if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
				t.Fatalf("remount read-only: %v\n%s", err, out)
			}
			var w warnings
			l := &Layouter{CacheDir: mnt, Warn: w.add}
			svgs, err := l.LayoutAll(context.Background(), jobs)
			if err != nil || len(svgs) != len(jobs) {
				t.Fatalf("layouts with a %s cache: %v", tc.name, err)
			}
			if n := strings.Count(w.all(), mnt+":"); n != 1 {
				t.Errorf("want one warning about storing layouts, got %q", w.all())
			}
		})
	}
}
