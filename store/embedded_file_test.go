package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// savedStore writes a store of a few hundred keys into a fresh directory
// and returns its dotm.db.
func savedStore(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	s := mustOpen(t, dir)
	ctx := context.Background()
	for i := range 300 {
		if err := s.rdb.HSet(ctx, fmt.Sprintf("dotm::services::n%d::22", i), "process", "sshd", "last_seen", "1000").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, dataFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gunzipT and gzipT unpack and repack a data file, to edit its content
// with a valid checksum.
func gunzipT(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipT(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

var keysField = regexp.MustCompile(`"keys":\d+`)

// A data file that is damaged, or whose count does not match its keys,
// is refused by name with what to do, and left exactly as it was: never
// loaded short and saved back smaller.
func TestHostileEmbeddedDamagedFile(t *testing.T) {
	good := savedStore(t)
	plain := gunzipT(t, good)
	if !bytes.Contains(plain, []byte(`"keys":300`)) {
		t.Fatalf("header does not count 300 keys: %.120s", plain)
	}
	mid := len(good) / 2
	flipped := bytes.Clone(good)
	flipped[mid] ^= 0x40
	oldGz := gzipT(keysField.ReplaceAll(plain, []byte(`"old":1`)))
	for name, damaged := range map[string][]byte{
		"truncated by 3 bytes":        good[:len(good)-3],
		"truncated by 9 bytes":        good[:len(good)-9],
		"cut in the middle":           good[:mid],
		"one byte changed":            flipped,
		"count lowered":               gzipT(keysField.ReplaceAll(plain, []byte(`"keys":299`))),
		"count raised":                gzipT(keysField.ReplaceAll(plain, []byte(`"keys":301`))),
		"count zero":                  gzipT(keysField.ReplaceAll(plain, []byte(`"keys":0`))),
		"count negative":              gzipT(keysField.ReplaceAll(plain, []byte(`"keys":-1`))),
		"old format, truncated":       oldGz[:len(oldGz)-4],
		"trailing garbage after gzip": append(bytes.Clone(good), "junk"...),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, dataFile)
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), Options{DataDir: dir, LockWait: 5 * time.Second})
			if err == nil {
				n, _ := s.scanKeys(context.Background(), "*")
				s.Close()
				t.Fatalf("a damaged file was loaded (%d keys)", len(n))
			}
			for _, want := range []string{path, "restore it from a backup", "move it aside"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			after, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(after, damaged) {
				t.Errorf("the refused file changed (%d bytes before, %d after, %v)", len(damaged), len(after), err)
			}
		})
	}
}

// A file written before the header counted its keys is read to its end.
func TestEmbeddedFileWithoutCount(t *testing.T) {
	plain := gunzipT(t, savedStore(t))
	old := keysField.ReplaceAll(plain, []byte(`"old":1`))
	if bytes.Equal(old, plain) {
		t.Fatal("no count to remove")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, dataFile), gzipT(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	defer s.Close()
	keys, err := s.scanKeys(context.Background(), "*")
	if err != nil || len(keys) != 300 {
		t.Errorf("old file: %d keys, %v; want 300", len(keys), err)
	}
}

// The owner file and the lock file beside dotm.db are never opened through
// a link: a link planted there is refused and its target left alone.
func TestHostileEmbeddedOwnerLink(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"owner symlink", ownerFile, "is a symbolic link"},
		{"owner hard link", ownerFile, "has other hard links"},
		{"lock symlink", lockFile, "symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			outside := filepath.Join(t.TempDir(), "precious")
			if err := os.WriteFile(outside, []byte("keep me\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, tc.file)
			var err error
			if tc.name == "owner hard link" {
				err = os.Link(outside, link)
			} else {
				err = os.Symlink(outside, link)
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), Options{DataDir: dir, LockWait: time.Second})
			if err == nil {
				s.Close()
				t.Fatal("opened the store through a planted link")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), link) {
				t.Errorf("error %q lacks %q and %s", err, tc.want, link)
			}
			if b, err := os.ReadFile(outside); err != nil || string(b) != "keep me\n" {
				t.Errorf("the link's target changed: %q, %v", b, err)
			}
			if fi, err := os.Lstat(link); err != nil || (tc.name != "owner hard link") != (fi.Mode()&os.ModeSymlink != 0) {
				t.Errorf("the planted link was replaced: %v, %v", fi, err)
			}
		})
	}
	// A dangling link is not followed either: its target is never created.
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "created")
	if err := os.Symlink(target, filepath.Join(dir, ownerFile)); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(context.Background(), Options{DataDir: dir, LockWait: time.Second}); err == nil {
		s.Close()
		t.Error("opened the store through a dangling owner link")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Error("the dangling owner link's target was created")
	}
}

// A store that is in use names its holder from a plain owner file only.
func TestHostileEmbeddedOwnerReadNoFollow(t *testing.T) {
	dir := t.TempDir()
	holder := helperProcess(t, "hold", dir)
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer holder.Wait()
	defer holder.Process.Kill()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("root-only-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	owner := filepath.Join(dir, ownerFile)
	if err := os.Remove(owner); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, owner); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{DataDir: dir, LockWait: 200 * time.Millisecond})
	if err == nil || strings.Contains(err.Error(), "root-only-secret") || !strings.Contains(err.Error(), "in use") {
		t.Errorf("err = %v, want in use without the link target's content", err)
	}
}
