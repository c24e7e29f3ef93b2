package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfileFlags runs a command with --cpu-profile and --mem-profile and
// reads both back: gzip-compressed pprof profiles of CPU time and of
// allocations. A symbolic link where a profile goes is refused.
func TestProfileFlags(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	args := []string{"--data-dir", filepath.Join(dir, "data"), "config", "list", "--cpu-profile", cpu, "--mem-profile", mem}
	if code := run(context.Background(), args, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// A profile's string table names its sample types.
	for p, want := range map[string]string{cpu: "nanoseconds", mem: "alloc_space"} {
		if text := gunzipFile(t, p); !strings.Contains(text, want) {
			t.Errorf("%s is no profile with %s samples", p, want)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", p, err, fi.Mode().Perm())
		}
	}

	target := filepath.Join(dir, "victim")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pprof")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	args = []string{"--data-dir", filepath.Join(dir, "data"), "config", "list", "--cpu-profile", link}
	if code := run(context.Background(), args, e); code != exitFailure || !strings.Contains(stderr.String(), "profile file") {
		t.Errorf("a link as --cpu-profile: exit %d, %q; want a refusal", code, stderr.String())
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
}

func gunzipFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is no gzip-compressed profile: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return string(b)
}
