package netinfo

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/process-names.golden")

func TestCanonicalProcess(t *testing.T) {
	tests := []struct{ raw, name, title string }{
		{"nginx: master", "nginx", "nginx: master"},
		{"nginx: worker", "nginx", "nginx: worker"},
		{"nginx", "nginx", ""},
		{"gunicorn: mas", "gunicorn", "gunicorn: mas"},
		{"gunicorn: maste", "gunicorn", "gunicorn: maste"},
		{"redis-server *", "redis-server", "redis-server *"},
		{"redis-server 1", "redis-server", "redis-server 1"},
		{"redis-server *:6379", "redis-server", "redis-server *:6379"},
		{"./redfleet", "redfleet", "./redfleet"},
		{"/usr/bin/python3", "python3", "/usr/bin/python3"},
		{"/usr/bin/python3 -m http.server", "python3", "/usr/bin/python3 -m http.server"},
		{"postgres: 15/main: checkpointer", "postgres", "postgres: 15/main: checkpointer"},
		{"postgres: 15/", "postgres", "postgres: 15/"},
		{"sshd: root@pts/0", "sshd", "sshd: root@pts/0"},
		{"sshd: /usr/sb", "sshd", "sshd: /usr/sb"},
		{"php-fpm: pool www", "php-fpm", "php-fpm: pool www"},
		{"nginx:", "nginx", "nginx:"}, // cut right after the colon
		{"systemd-resolve", "systemd-resolve", ""},
		{" sshd ", "sshd", ""},
		{"", "", ""},
		{":", ":", ""},
		{"/", "/", ""},
		{"dir/", "dir/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			name, title := CanonicalProcess(tt.raw)
			if name != tt.name || title != tt.title {
				t.Errorf("CanonicalProcess(%q) = %q, %q; want %q, %q", tt.raw, name, title, tt.name, tt.title)
			}
			if again, _ := CanonicalProcess(name); again != name {
				t.Errorf("not idempotent: %q gives %q, then %q", tt.raw, name, again)
			}
		})
	}
}

// TestProcessNamesSameMoment reads the netstat, netstat -W and ss tables
// captured at one moment with argv-rewriting daemons running (see
// testdata/README.md): every socket gets the same canonical name from each
// tool, and busybox netstat (no -p) lists the same sockets.
func TestProcessNamesSameMoment(t *testing.T) {
	names := map[string]map[sockKey]string{}
	for _, f := range []string{"titles-netstat-antp.txt", "titles-netstat-antpW.txt", "titles-ss-tanp.txt", "titles-busybox-netstat-ant.txt"} {
		socks := readTable(t, f)
		if len(socks) != 25 {
			t.Fatalf("%s: %d sockets, want 25", f, len(socks))
		}
		names[f] = map[sockKey]string{}
		for _, s := range socks {
			names[f][keyOf(s)] = s.Program
		}
	}
	want := names["titles-ss-tanp.txt"]
	for f, got := range names {
		for k, w := range want {
			g, ok := got[k]
			switch {
			case !ok:
				t.Errorf("%s: no socket %v", f, k)
			case f != "titles-busybox-netstat-ant.txt" && g != w:
				t.Errorf("%s: socket %v is %q, ss says %q", f, k, g, w)
			}
		}
	}
	var daemons []string
	for _, n := range want {
		daemons = append(daemons, n)
	}
	slices.Sort(daemons)
	daemons = slices.Compact(daemons)
	wantDaemons := []string{"gunicorn", "nginx", "php-fpm", "postgres", "psql", "python3", "redfleet", "redis-server", "ssh", "sshd"}
	if !slices.Equal(daemons, wantDaemons) {
		t.Errorf("names %q, want %q", daemons, wantDaemons)
	}
}

// TestProcessNamesGolden lists, for every socket table fixture, each
// distinct (name, title) pair the parsers return, against
// testdata/process-names.golden. Run with -update to rewrite it (refused
// under CI).
func TestProcessNamesGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, path := range files {
		f := filepath.Base(path)
		if strings.HasPrefix(f, "ip-") || strings.HasPrefix(f, "proc-") || strings.Contains(f, "error") {
			continue
		}
		var pairs []string
		for _, s := range readTable(t, f) {
			pairs = append(pairs, fmt.Sprintf("%s\t%q\t%q\n", f, s.Program, s.Title))
		}
		slices.Sort(pairs)
		for _, p := range slices.Compact(pairs) {
			b.WriteString(p)
		}
	}
	golden := filepath.Join("testdata", "process-names.golden")
	if *update {
		if os.Getenv("CI") != "" {
			t.Fatal("-update under CI: golden files are written by a person, not by CI")
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("process names differ from %s (run go test -run Golden -update and review the diff):\n%s", golden, b.String())
	}
}

// readTable parses one fixture: an agent answer or a netstat or ss table.
func readTable(t *testing.T, name string) []Socket {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasPrefix(name, "agent-") {
		h, err := ParseAgent(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return h.Sockets
	}
	socks, err := ParseSocketTable(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return socks
}
