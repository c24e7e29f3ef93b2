package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lwindolf/dotm/internal/redistest"
)

// TestManPagesRender formats every page dotm man writes with groff, with
// all its warnings on: a page roff cannot read, or one with a character it
// does not know, fails.
func TestManPagesRender(t *testing.T) {
	groff := redistest.Require(t, "groff")
	dir := t.TempDir()
	var errb bytes.Buffer
	if code := run(context.Background(), []string{"man", "--dir", dir}, &env{stdout: &errb, stderr: &errb, getenv: os.Getenv}); code != 0 {
		t.Fatalf("dotm man: exit %d: %s", code, errb.String())
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "*.[18]"))
	if len(pages) < 10 {
		t.Fatalf("dotm man wrote %d pages: %v", len(pages), pages)
	}
	for _, p := range pages {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z", "-rLL=200n", p)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff %s: %v\n%s", filepath.Base(p), err, out)
		}
	}
}
