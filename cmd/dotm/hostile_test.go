package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// hostileNames are names made to break things: markup, DOT syntax, paths,
// terminal escape sequences (CSI, OSC, C1), a forged table row, bidi
// reordering, bad UTF-8 and a name of several KB.
var hostileNames = []string{
	`<script>alert(1)</script>`, `"}; n0 -> n1 [label="x`, `x->y`, `../../etc/passwd`, `/`, `..`,
	"\x1b[2J\x1b[31mred", "\x1b]0;owned\x07title", "\u009b31mC1", "row\nFORGED ROW\tx", "bidi\u202etxt.exe",
	"bad \xff\xfe utf8", strings.Repeat("long", 1500),
}

// hostileStore writes, through the store's API, a node whose services,
// connections, checks and fetch status all carry hostile names: what a
// hostile agent or monitoring system would leave behind.
func hostileStore(t *testing.T, dataDir string, now int64) {
	t.Helper()
	ctx := context.Background()
	st := openEmbedded(t, dataDir)
	defer st.Close()
	if _, err := st.AddNodes(ctx, []domain.NodeSpec{{Name: "web01"}, {Name: "db01"}}); err != nil {
		t.Fatal(err)
	}
	d := store.NodeData{Node: store.Node{Name: "web01", LastFetch: now, FetchStatus: "OK", IPs: []string{"10.0.0.1"}}}
	var checks []store.ServiceCheck
	for i, name := range hostileNames {
		d.Services = append(d.Services, store.Service{Port: 1000 + i, Process: name, FirstSeen: now, LastSeen: now})
		d.Connections = append(d.Connections, store.Connection{Port: "3306", Remote: "db01", Process: name,
			Connections: 1, FirstSeen: now, LastSeen: now, LastConnection: now, Direction: store.Out,
			RemoteHost: "db01", RemotePort: "3306", LocalPort: "high"},
			store.Connection{Port: "443", Remote: name, Process: name, Connections: 1, FirstSeen: now, LastSeen: now,
				LastConnection: now, Direction: store.Out, RemoteHost: name, RemotePort: "443", LocalPort: "high"})
		checks = append(checks, store.ServiceCheck{Node: "web01", Service: name, Status: "CRITICAL", LastCheck: now,
			StatusInformation: name, Mapping: name})
	}
	if err := st.WriteNodeData(ctx, d); err != nil {
		t.Fatal(err)
	}
	db := store.NodeData{Node: store.Node{Name: "db01", LastFetch: now, FetchStatus: "OK", IPs: []string{"10.0.0.2"}},
		Services: []store.Service{{Port: 3306, Process: "mysqld", FirstSeen: now, LastSeen: now}}}
	if err := st.WriteNodeData(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNodeStatus(ctx, "db01", now, "agent said \x1b]52;c;cm0gLXJmIH4=\x07 and\nFORGED ROW"); err != nil {
		t.Fatal(err)
	}
	nc := store.NodeCheck{Node: "web01", Status: "DOWN", LastCheck: now, StatusInformation: "\x1b[5m" + hostileNames[0],
		OtherAlerts: map[string]string{hostileNames[1]: "CRITICAL"}}
	if err := st.SetChecks(ctx, nc, checks, 0); err != nil {
		t.Fatal(err)
	}
}

// runCLIAll runs dotm and returns its exit status, stdout and stderr.
func runCLIAll(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}

// checkInert fails unless text is safe on a terminal: no control
// character but newline, no bidi control, valid UTF-8, and no line that a
// name forged.
func checkInert(t *testing.T, what, text string) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Errorf("%s: not valid UTF-8", what)
	}
	for i, r := range text {
		bad := r != '\n' && unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
		if bad {
			t.Errorf("%s: unsafe character %U at byte %d: %q", what, r, i, text[max(0, i-20):min(len(text), i+20)])
			return
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "FORGED ROW") {
			t.Errorf("%s: a name forged the line %q", what, line)
		}
	}
}

// TestHostileNamesCLI: hostile names in the store, in settings and in a
// monitoring source come out of every command as inert text.
func TestHostileNamesCLI(t *testing.T) {
	dataDir := t.TempDir()
	hostileStore(t, dataDir, time.Now().Unix())
	dd := "--data-dir=" + dataDir

	code, out, errOut := runCLIAll("config", "set", "user_node_aliases",
		`{"\u001b]0;owned\u0007mon":"web01","bidi\u202eevil":"db01"}`, dd)
	if code != 0 {
		t.Fatalf("config set: exit %d: %s", code, errOut)
	}
	checkInert(t, "dotm config set stdout", out)
	checkInert(t, "dotm config set stderr", errOut)
	commands := [][]string{
		{"nodes", "list"}, {"nodes", "show", "web01"}, {"nodes", "show", "db01"}, {"config", "list"},
		{"config", "get", "user_node_aliases"}, {"config", "export"},
		// A monitoring source whose path carries escapes: the collect
		// summary quotes it.
		{"collect", "--timeout", "2s", "--monitoring", filepath.Join(t.TempDir(), "\x1b]0;owned\x07", "status.dat")},
	}
	for _, args := range commands {
		name := strings.Join(args[:2], " ")
		code, out, errOut := runCLIAll(append(args, dd)...)
		if code != 0 {
			t.Errorf("dotm %s: exit %d: %s", name, code, errOut)
		}
		checkInert(t, "dotm "+name+" stdout", out)
		checkInert(t, "dotm "+name+" stderr", errOut)
	}
	if _, out, _ := runCLIAll("nodes", "show", "web01", dd); !strings.Contains(out, `\x1b]0;owned\x07title`) ||
		!strings.Contains(out, "row\\x0aFORGED ROW\\x09x") || !strings.Contains(out, `\xe2\x80\xaetxt.exe`) {
		t.Errorf("nodes show does not show the hostile names escaped:\n%.2000s", out)
	}
}

// walk lists every path below dir.
func walk(t *testing.T, dir string) map[string]bool {
	t.Helper()
	paths := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		paths[p] = true
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestHostileNamesRender: a render of hostile names writes nothing outside
// --out (but its lock beside it), no file name longer than a file system
// allows, and no name as live markup.
func TestHostileNamesRender(t *testing.T) {
	dataDir := t.TempDir()
	now := time.Unix(1795000000, 0)
	hostileStore(t, dataDir, now.Unix())
	parent := t.TempDir()
	out := filepath.Join(parent, "www", "site")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	before := walk(t, parent)
	code, _, errOut := runCLIAll("render", "--out", out, "--now", "1795000000", "--data-dir", dataDir,
		"--cache", t.TempDir())
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	lock := filepath.Join(filepath.Dir(out), ".site.lock")
	for p := range walk(t, parent) {
		if before[p] || p == out || p == lock || strings.HasPrefix(p, out+string(filepath.Separator)) {
			continue
		}
		t.Errorf("render wrote %s, outside --out %s", p, out)
	}
	files := readTree(t, out)
	if len(files) == 0 {
		t.Fatal("render wrote no files")
	}
	for name, b := range files {
		for _, part := range strings.Split(name, "/") {
			if len(part) > 255 || part == ".." {
				t.Errorf("file name %.60q... (%d bytes) is not a safe file name", part, len(part))
			}
		}
		if ext := filepath.Ext(name); (ext == ".html" || ext == ".svg") && bytes.Contains(b, []byte("<script>alert(1)")) {
			t.Errorf("%s holds a hostile name as live markup", name)
		}
		if !utf8.Valid(b) {
			t.Errorf("%s is not valid UTF-8", name)
		}
		if i := bytes.IndexFunc(b, func(r rune) bool {
			return unicode.Is(unicode.Bidi_Control, r) || unicode.IsControl(r) && !strings.ContainsRune("\n\t\r", r)
		}); i >= 0 {
			t.Errorf("%s holds a raw control character: %q", name, b[max(0, i-20):min(len(b), i+20)])
		}
	}
	if !bytes.Contains(files["nodes/web01.html"], []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
		t.Error("web01's page does not show the hostile process name as text")
	}
}

// A monitoring source that goes down (here: its status.dat vanished, then
// answers garbage) keeps the alerts known before until they expire, and
// the site says which source failed and why.
func TestHostileMonitoringDown(t *testing.T) {
	dataDir := t.TempDir()
	now := time.Unix(1795200000, 0)
	renderFleet(t, dataDir, now)
	alertsBefore := readTree(t, renderSite(t, dataDir))["data/alerts.json"]

	garbage := filepath.Join(t.TempDir(), "status.dat")
	if err := os.WriteFile(garbage, []byte("hoststatus {\n\thost_name=\x00\n\x1b[2J{{{{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{filepath.Join(t.TempDir(), "gone.dat"), garbage} {
		code, _, errOut := runCLICode("--data-dir", dataDir, "collect", "--quiet", "--monitoring", source,
			"--now", strconv.FormatInt(now.Unix()+60, 10))
		if code != 0 || !strings.Contains(errOut, source) {
			t.Errorf("collect with %s down: exit %d, %q; want 0 and the source named", source, code, errOut)
		}
		files := readTree(t, renderSite(t, dataDir))
		if !bytes.Equal(files["data/alerts.json"], alertsBefore) || len(alertsBefore) < 10 {
			t.Errorf("with %s down the known alerts changed", source)
		}
		problems := string(files["problems.html"])
		if !strings.Contains(problems, "Monitoring source status.dat "+source+" failed") {
			t.Errorf("problems.html does not name the failed source %s", source)
		}
		if !strings.Contains(string(files["index.html"]), "monitoring status.dat "+source) {
			t.Errorf("the overview does not list the failed source %s", source)
		}
		if bytes.Contains(files["problems.html"], []byte("\x1b")) {
			t.Error("the garbage's escape sequence reached the page")
		}
	}
}

// renderSite renders the store in dataDir into a new directory.
func renderSite(t *testing.T, dataDir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "site")
	runCLI(t, "--data-dir", dataDir, "render", "--out", out, "--cache", t.TempDir())
	return out
}
