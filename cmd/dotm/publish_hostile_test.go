package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
	"github.com/redis/go-redis/v9"
)

// fillStore writes two nodes into st, web01 connecting to db01's MySQL
// unless nodesOnly, and records a collect at t: what a collect run
// leaves, or, with nodesOnly, what a reader sees of a flushed store that
// is being filled again.
func fillStore(t *testing.T, st *store.Store, at int64, nodesOnly bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.AddNodes(ctx, []domain.NodeSpec{{Name: "web01"}, {Name: "db01"}}); err != nil {
		t.Fatal(err)
	}
	web := store.NodeData{Node: store.Node{Name: "web01", LastFetch: at, FetchStatus: "OK", IPs: []string{"10.0.0.1"}}}
	if !nodesOnly {
		web.Connections = []store.Connection{{Port: "3306", Remote: "db01", Process: "php-fpm", Connections: 4,
			FirstSeen: at, LastSeen: at, LastConnection: at, Direction: store.Out, RemoteHost: "db01",
			RemotePort: "3306", LocalPort: "high"}}
	}
	db := store.NodeData{Node: store.Node{Name: "db01", LastFetch: at, FetchStatus: "OK", IPs: []string{"10.0.0.2"}},
		Services: []store.Service{{Port: 3306, Process: "mysqld", FirstSeen: at, LastSeen: at}}}
	for _, d := range []store.NodeData{web, db} {
		if err := st.WriteNodeData(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetLastUpdated(ctx, at); err != nil {
		t.Fatal(err)
	}
}

// connections counts the entries of a published site's
// data/connections.json.
func connections(t *testing.T, out string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "data", "connections.json"))
	if err != nil {
		t.Fatal(err)
	}
	var conns []json.RawMessage
	if err := json.Unmarshal(b, &conns); err != nil {
		t.Fatal(err)
	}
	return len(conns)
}

// TestHostileTornRead: a real redis-server is flushed and refilled (or a
// collect starts) between render's reads. The store is changed through
// render's own seam between reading dotm::state and reading the model, so
// each attempt sees exactly what the test wrote. A render that cannot get
// one stable read fails and publishes nothing; one that gets it on a
// later attempt publishes the complete data, never the torn read's 0
// connections.
func TestHostileTornRead(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()
	const at = 1795000000
	fillStore(t, st, at, false)
	// tear flushes the store and writes the nodes back without their
	// connections, as a reader in the middle of a refill sees it.
	tear := func(n int64) {
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		fillStore(t, st, at+n, true)
	}

	var stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr,
		getenv: func(string) string { return "" }, redisURL: srv.URL()}
	out := filepath.Join(t.TempDir(), "site")
	o := renderOpts{out: out, now: strconv.Itoa(at), layout: "embedded", cache: t.TempDir(), quiet: true}
	if err := runRender(ctx, e, nil, o); err != nil {
		t.Fatal(err)
	}
	if n := connections(t, out); n != 1 {
		t.Fatalf("first site: %d connections, want 1", n)
	}
	published := readTree(t, out)

	t.Run("always torn", func(t *testing.T) {
		calls := 0
		o := o
		o.betweenReads = func(attempt int) error { calls++; tear(int64(attempt)); return nil }
		err := runRender(ctx, e, nil, o)
		if err == nil || !strings.Contains(err.Error(), "changed while render read it") ||
			!strings.Contains(err.Error(), "nothing was published") || !strings.Contains(err.Error(), "last_updated") {
			t.Fatalf("err = %v, want a failure saying the store changed and nothing was published", err)
		}
		if calls != readAttempts {
			t.Errorf("the store was read %d times, want %d", calls, readAttempts)
		}
		if !equalFiles(published, readTree(t, out)) {
			t.Error("a torn read changed the published site")
		}
	})

	t.Run("torn, then refilled", func(t *testing.T) {
		calls := 0
		o := o
		o.betweenReads = func(attempt int) error {
			calls++
			switch attempt {
			case 1:
				tear(10) // this attempt reads 2 nodes and 0 connections
			case 2:
				fillStore(t, st, at+20, false) // the refill completes
			}
			return nil
		}
		if err := runRender(ctx, e, nil, o); err != nil {
			t.Fatal(err)
		}
		if calls != 3 {
			t.Errorf("the store was read %d times, want 3 (torn, changed, stable)", calls)
		}
		if n := connections(t, out); n != 1 {
			t.Errorf("published %d connections, want the refilled store's 1", n)
		}
	})

	t.Run("collect starts", func(t *testing.T) {
		published := readTree(t, out)
		o := o
		o.betweenReads = func(attempt int) error {
			return st.SetState(ctx, map[string]string{"update_running": "1",
				"update_running_until": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)})
		}
		err := runRender(ctx, e, nil, o) // e.lockWait is 0: no waiting for the collect
		if err == nil || !strings.Contains(err.Error(), "a collect run is writing the store") ||
			!strings.Contains(err.Error(), "nothing was published") {
			t.Fatalf("err = %v, want a failure naming the running collect", err)
		}
		if !equalFiles(published, readTree(t, out)) {
			t.Error("a read during a collect changed the published site")
		}
	})
}

// equalFiles compares two readTree maps.
func equalFiles(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// TestHostileNoteSymlinks: notes that are symlinks (to a root-only file,
// or to another note) or reached through a directory link leading out of
// the notes directory are left out with a warning naming them; an
// ordinary note beside them is published.
func TestHostileNoteSymlinks(t *testing.T) {
	dataDir, now := renderedFleet(t)
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "shadow")
	if err := os.WriteFile(secret, []byte("root:TOPSECRET-HASH:19000::::::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secretDir, "mysqld.md"), []byte("ESCAPED-NOTE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notes := t.TempDir()
	for _, d := range []string{"nodes", "services"} {
		if err := os.Mkdir(filepath.Join(notes, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(notes, "nodes", "db01.md"), []byte("Ordinary *db01* note.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"nodes/web01.md": secret, "services/mysqld.md": "../nodes/db01.md"} {
		if err := os.Symlink(target, filepath.Join(notes, link)); err != nil {
			t.Fatal(err)
		}
	}

	out := filepath.Join(t.TempDir(), "site")
	code, _, stderr := runCLIAll("render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir(), "--notes", notes)
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	site := readTree(t, out)
	for name, b := range site {
		if bytes.Contains(b, []byte("TOPSECRET")) {
			t.Errorf("%s publishes the root-only file a note links to", name)
		}
	}
	if !bytes.Contains(site["nodes/db01.html"], []byte("<em>db01</em>")) {
		t.Error("the ordinary note of db01 is missing")
	}
	if bytes.Contains(site["services/mysqld.html"], []byte("<em>db01</em>")) {
		t.Error("a note that is a symlink to another note was published")
	}
	for _, link := range []string{"nodes/web01.md", "services/mysqld.md"} {
		if !strings.Contains(stderr, "warning: note "+filepath.Join(notes, link)+" is left out") {
			t.Errorf("no warning names %s: %s", link, stderr)
		}
	}

	// A kind directory that is a symlink out of the notes directory.
	escape := t.TempDir()
	if err := os.Symlink(secretDir, filepath.Join(escape, "services")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLIAll("render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir(), "--notes", escape)
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, stderr)
	}
	for name, b := range readTree(t, out) {
		if bytes.Contains(b, []byte("ESCAPED-NOTE")) {
			t.Errorf("%s publishes a note from outside the notes directory", name)
		}
	}
	if !strings.Contains(stderr, filepath.Join(escape, "services")) {
		t.Errorf("no warning names the escaping directory: %s", stderr)
	}
}

// TestHostileCrashBetweenRenamesCLI: a render crashed between the two
// renames of its publish (the previous site at .site.old-N, the new tree
// at .site.tmp-N, no site). The next render, even one that fails, puts
// the complete previous site back; a good one then replaces it.
func TestHostileCrashBetweenRenamesCLI(t *testing.T) {
	dataDir, now := renderedFleet(t)
	parent := t.TempDir()
	out := filepath.Join(parent, "site")
	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir())
	before := readTree(t, out)
	if err := os.Rename(out, filepath.Join(parent, ".site.old-4242")); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(parent, ".site.tmp-4242")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{".dotm-site": "marker\n", "index.html": "half"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	path := os.Getenv("PATH")
	t.Setenv("PATH", t.TempDir()) // --layout native fails: no dot
	code, _, stderr := runCLIAll("render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir(), "--layout", "native")
	if code == 0 {
		t.Fatal("the render without dot succeeded")
	}
	if !equalFiles(before, readTree(t, out)) {
		t.Fatalf("after the failed render, %s is not the complete previous site (%s)", out, stderr)
	}
	os.Setenv("PATH", path) // dotm-layout again, for the embedded engine
	runCLI(t, "render", "--out", out, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir())
	if !equalFiles(before, readTree(t, out)) {
		t.Error("the render after recovery does not publish the same site")
	}
	if got, _ := filepath.Glob(filepath.Join(parent, ".site.*")); len(got) != 1 || filepath.Base(got[0]) != ".site.lock" {
		t.Errorf("left beside the site: %v", got)
	}
}

// TestHostileRefusedOutCLI: a render into a directory dotm did not write
// (standing for --out /etc) is refused and leaves no lock file and no
// directory; a lock file planted as a symlink is refused and its target
// kept.
func TestHostileRefusedOutCLI(t *testing.T) {
	dataDir, now := renderedFleet(t)
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLIAll("render", "--out", etc, "--now", now, "--data-dir", dataDir, "--cache", t.TempDir())
	if code == 0 || !strings.Contains(stderr, etc) {
		t.Fatalf("render --out %s: exit %d, stderr %q: want a refusal naming it", etc, code, stderr)
	}
	if got, _ := os.ReadDir(dir); len(got) != 1 {
		t.Errorf("a refused --out left files beside it: %v", got)
	}

	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, ".site.lock")
	if err := os.Symlink(victim, lock); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLIAll("render", "--out", filepath.Join(dir, "site"), "--now", now, "--data-dir", dataDir, "--cache", t.TempDir())
	if code == 0 || !strings.Contains(stderr, lock) {
		t.Fatalf("render with a symlinked lock: exit %d, stderr %q: want a refusal naming %s", code, stderr, lock)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the lock symlink's target became %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "site")); err == nil {
		t.Error("a refused render created the site")
	}
}
