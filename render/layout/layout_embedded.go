package layout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"debug/buildinfo"

	"github.com/lwindolf/dotm/internal/layoutproto"
)

// layoutProgram is the program of the embedded engine. dotm itself does not
// link Graphviz: goccy/go-graphviz compiles its WebAssembly, through a
// cache in $TMPDIR, as soon as a program linking it starts, and so would
// every dotm command.
const layoutProgram = "dotm-layout"

// findLayoutProgram finds dotm-layout beside the running executable, else
// in PATH.
func findLayoutProgram() (string, error) {
	var beside string
	if exe, err := os.Executable(); err == nil {
		beside = filepath.Join(filepath.Dir(exe), layoutProgram)
		if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(layoutProgram); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("layout engine embedded: %s is neither beside dotm (%s) nor in PATH: build it with "+
		"`go build -o bin/ ./cmd/...` (it goes beside dotm), or install graphviz and use --layout native", layoutProgram, beside)
}

// embeddedEngine lays out with dotm-layout processes, one graph at a time
// each: up to as many processes as graphs laid out at once, each with its
// own WebAssembly instance. Each runs with TMPDIR set to a directory only
// we can write, where its compiled WebAssembly is kept.
type embeddedEngine struct {
	program, version string
	warn             func(string)

	mu       sync.Mutex
	tmpdir   string // TMPDIR of the processes; "" until the first one starts
	cacheTmp bool   // tmpdir is in the layout cache (kept)
	ownTmp   string // a temporary tmpdir, removed at close
	idle     []*layoutChild
	all      []*layoutChild
}

// newEmbedded prepares the embedded engine; processes start on first use.
// Its id carries the version of goccy/go-graphviz built into dotm-layout,
// read from the program's build information without running it.
func newEmbedded(c *layoutCache, warn func(string)) (*embeddedEngine, error) {
	program, err := findLayoutProgram()
	if err != nil {
		return nil, err
	}
	e := &embeddedEngine{program: program, version: "unknown", warn: warn}
	if bi, err := buildinfo.ReadFile(program); err == nil {
		for _, d := range bi.Deps {
			if d.Path == "github.com/goccy/go-graphviz" {
				e.version = d.Version
			}
		}
	}
	if dir := c.wasmDir(); dir != "" {
		e.tmpdir, e.cacheTmp = dir, true
	}
	return e, nil
}

// id names the engine and the go-graphviz version.
func (e *embeddedEngine) id() string { return EngineEmbedded + " " + e.version }

// svg lays out dot in an idle dotm-layout process, or a new one. An idle
// process that died since its last graph is dropped and the graph tried
// in the next; one that dies on its first graph fails that graph.
func (e *embeddedEngine) svg(ctx context.Context, dot []byte) ([]byte, error) {
	for {
		c, fresh, err := e.take(ctx)
		if err != nil {
			return nil, err
		}
		svg, err := c.layout(ctx, dot)
		var died *childDied
		if errors.As(err, &died) {
			c.stop()
			if !fresh && ctx.Err() == nil {
				continue
			}
			return nil, err
		}
		e.put(c)
		return svg, err
	}
}

// take returns an idle process, else starts one.
func (e *embeddedEngine) take(ctx context.Context) (_ *layoutChild, fresh bool, _ error) {
	e.mu.Lock()
	if n := len(e.idle); n > 0 {
		c := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return c, false, nil
	}
	tmpdir, cacheTmp, err := e.tmp()
	e.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	c, err := e.start(ctx, tmpdir)
	if err != nil && cacheTmp && ctx.Err() == nil {
		// e.g. a full cache: compile without it
		e.mu.Lock()
		if e.tmpdir == tmpdir {
			e.warn(fmt.Sprintf("compiled WebAssembly in %s not used: %v; compiling in a temporary directory", tmpdir, err))
			e.tmpdir, e.cacheTmp = "", false
		}
		tmpdir, _, err = e.tmp()
		e.mu.Unlock()
		if err == nil {
			c, err = e.start(ctx, tmpdir)
		}
	}
	if err != nil {
		return nil, false, err
	}
	e.mu.Lock()
	e.all = append(e.all, c)
	e.mu.Unlock()
	return c, true, nil
}

// tmp is the processes' TMPDIR: in the cache, else a fresh private
// temporary directory. Called with e.mu held.
func (e *embeddedEngine) tmp() (string, bool, error) {
	if e.tmpdir != "" {
		return e.tmpdir, e.cacheTmp, nil
	}
	dir, err := os.MkdirTemp("", "dotm-layout-")
	if err != nil {
		return "", false, fmt.Errorf("layout engine embedded: make a private TMPDIR for %s: %w", layoutProgram, err)
	}
	e.tmpdir, e.ownTmp = dir, dir
	return dir, false, nil
}

// put makes c available for the next graph.
func (e *embeddedEngine) put(c *layoutChild) {
	e.mu.Lock()
	e.idle = append(e.idle, c)
	e.mu.Unlock()
}

// close ends every process (they exit at the end of their input) and
// removes a temporary TMPDIR.
func (e *embeddedEngine) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.all {
		c.stop()
	}
	e.all, e.idle = nil, nil
	if e.ownTmp != "" {
		_ = os.RemoveAll(e.ownTmp)
		e.ownTmp, e.tmpdir = "", ""
	}
}

// layoutChild is one running dotm-layout.
type layoutChild struct {
	program string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	in      *bufio.Writer
	out     *bufio.Reader
	stderr  *headBuffer
	once    sync.Once
}

// childDied is a dotm-layout that ended or broke the protocol: it is not
// used again.
type childDied struct {
	program string
	err     error
	stderr  string
}

func (d *childDied) Error() string {
	msg := fmt.Sprintf("%s: %v", d.program, d.err)
	if d.stderr != "" {
		msg += ": " + d.stderr
	}
	return msg
}

func (d *childDied) Unwrap() error { return d.err }

// start runs dotm-layout with TMPDIR=tmpdir and waits for its hello.
func (e *embeddedEngine) start(ctx context.Context, tmpdir string) (*layoutChild, error) {
	cmd := exec.Command(e.program)
	env := []string{"TMPDIR=" + tmpdir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	c := &layoutChild{program: e.program, cmd: cmd, stderr: &headBuffer{max: maxStderr}}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start %s: %w", e.program, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", e.program, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", e.program, err)
	}
	c.in, c.out = bufio.NewWriter(c.stdin), bufio.NewReader(stdout)
	kind, payload, err := c.exchange(ctx, nil)
	if err == nil && (kind != layoutproto.Hello || string(payload) != layoutproto.Version) {
		err = &childDied{program: e.program, err: fmt.Errorf("said %s %.40q, not %q: a different program?", kind, payload, layoutproto.Version)}
	}
	if err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// exchange sends a dot frame (none when dot is nil) and reads the answer;
// ctx ending kills the process.
func (c *layoutChild) exchange(ctx context.Context, dot []byte) (string, []byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = c.cmd.Process.Kill() })
	defer stop()
	var err error
	if dot != nil {
		err = layoutproto.Write(c.in, layoutproto.DOT, dot)
	}
	var kind string
	var payload []byte
	if err == nil {
		kind, payload, err = layoutproto.Read(c.out)
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, &childDied{program: c.program, err: ctx.Err()}
		}
		c.kill() // and wait for it, so its stderr is complete
		return "", nil, &childDied{program: c.program, err: err, stderr: strings.TrimSpace(c.stderr.String())}
	}
	return kind, payload, nil
}

// layout lays out one graph.
func (c *layoutChild) layout(ctx context.Context, dot []byte) ([]byte, error) {
	kind, payload, err := c.exchange(ctx, dot)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		return nil, err
	case kind == layoutproto.SVG:
		return payload, nil
	case kind == layoutproto.Err:
		return nil, fmt.Errorf("embedded graphviz: %s", strings.TrimSpace(string(payload)))
	}
	c.kill()
	return nil, &childDied{program: c.program, err: fmt.Errorf("answered a %s frame", kind)}
}

// kill ends a process that may be stuck (e.g. writing an answer nobody
// reads) and waits for it.
func (c *layoutChild) kill() {
	_ = c.cmd.Process.Kill()
	c.stop()
}

// stop ends the process at the end of its input and waits for it.
func (c *layoutChild) stop() {
	c.once.Do(func() {
		_ = c.stdin.Close()
		_ = c.cmd.Wait()
	})
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.b = append(h.b, p[:min(len(p), h.max-len(h.b))]...)
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(h.b)
}
