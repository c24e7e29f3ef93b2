package layout

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestLayoutEmbeddedProcesses: graphs laid out at once run in separate
// dotm-layout processes (no one-at-a-time limit), a malformed graph fails
// alone and its process lays out the next one, and a process that died is
// replaced.
func TestLayoutEmbeddedProcesses(t *testing.T) {
	ctx := context.Background()
	e, err := newEmbedded(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	a, _, err := e.take(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := e.take(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.cmd.Process.Pid == b.cmd.Process.Pid {
		t.Fatal("two graphs at once share one process")
	}
	e.put(a)
	e.put(b)
	if _, err := e.svg(ctx, []byte("digraph { a -> ")); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("malformed graph: %v", err)
	}
	want, err := e.svg(ctx, legendDOT())
	if err != nil || !validSVG(want) {
		t.Fatalf("after a malformed graph: %v", err)
	}
	if len(e.all) != 2 {
		t.Errorf("%d processes started for 2 at once", len(e.all))
	}
	for _, c := range e.idle {
		_ = c.cmd.Process.Kill()
	}
	got, err := e.svg(ctx, legendDOT())
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("after its process died: %v", err)
	}
}

// TestLayoutProgramMissing: without dotm-layout the embedded engine says
// where it looked and how to fix it.
func TestLayoutProgramMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := (&Layouter{}).SVG(context.Background(), legendDOT())
	for _, want := range []string{"dotm-layout", "beside dotm", "PATH", "go build -o bin/ ./cmd/...", "--layout native"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v: want it to say %q", err, want)
		}
	}
}

// TestLayoutEmbeddedTMPDIR: dotm-layout's compiled WebAssembly goes to the
// cache's wasm directory (0700), or to a private temporary directory
// removed afterwards; never straight into TMPDIR.
func TestLayoutEmbeddedTMPDIR(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	cache := t.TempDir()
	if _, err := (&Layouter{CacheDir: cache}).SVG(context.Background(), legendDOT()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(cache + "/wasm/go-graphviz")
	if err != nil || !fi.IsDir() {
		t.Errorf("no compiled WebAssembly in the cache: %v", err)
	}
	if wasm, err := os.Stat(cache + "/wasm"); err != nil || wasm.Mode().Perm() != 0o700 {
		t.Errorf("wasm directory: %v, %v", wasm.Mode(), err)
	}
	if _, err := (&Layouter{}).SVG(context.Background(), legendDOT()); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
