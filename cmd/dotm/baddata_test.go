package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/store"
)

// badRecord is a record spoilt next to good ones: its key and Redis type,
// and the value as the embedded store's file holds it (fileKey's fields).
type badRecord struct {
	key, typ string
	str      string
	hash     map[string]string
	list     []string
}

// badSnapshot is the time of the bad snapshot: an hour ago, so that no
// retention drops it.
var badSnapshot = strconv.FormatInt(time.Now().Unix()-3600, 10)

// badRecords are planted after a first collect of web01, db01 and app01.
var badRecords = []badRecord{
	{key: "dotm::services::db01::5432", typ: "string", str: "a string where a hash belongs"},
	{key: "dotm::services::web01::1", typ: "hash", hash: map[string]string{"process": "x", "last_seen": "yesterday"}},
	{key: "dotm::connections::web01::8080::app01", typ: "hash", hash: map[string]string{"process": "x", "connections": "many"}},
	{key: "dotm::connections::web01::9000", typ: "hash", hash: map[string]string{"process": "x", "connections": "1"}},
	{key: "dotm::checks::nodes::app01", typ: "string", str: "{not json"},
	{key: "dotm::checks::services::web01", typ: "list", list: []string{`{"node":"web01","service":"SSH","status":"OK"}`, "[[["}},
	{key: "dotm::history::" + badSnapshot, typ: "string", str: "not gzip"},
	{key: "dotm::history", typ: "list", list: []string{badSnapshot}},
	{key: "dotm::connections::web01::<script>alert(1)</script>\x1b[2J", typ: "hash", hash: map[string]string{"process": "x"}},
}

// plantRaw writes the bad records with raw Redis commands, and one more
// entry of web01 in dotm::nodes.
func plantRaw(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	r := redis.NewClient(mustParseURL(t, url))
	defer r.Close()
	var err error
	for _, b := range badRecords {
		r.Del(ctx, b.key)
		switch b.typ {
		case "string":
			err = r.Set(ctx, b.key, b.str, 0).Err()
		case "hash":
			err = r.HSet(ctx, b.key, b.hash).Err()
		case "list":
			err = r.RPush(ctx, b.key, b.list).Err()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := r.RPush(ctx, "dotm::nodes", "web01").Err(); err != nil {
		t.Fatal(err)
	}
}

// plantFile writes the same records into a closed embedded store's
// dotm.db, which has no socket to send raw commands to: it appends key
// lines in the file's own format and counts them in its header.
func plantFile(t *testing.T, dataDir string) {
	t.Helper()
	path := filepath.Join(dataDir, "dotm.db")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 64<<20)
	var lines []string
	replaced := map[string]bool{}
	for _, b := range badRecords {
		replaced[b.key] = true
	}
	for sc.Scan() {
		var k struct {
			Key  string   `json:"k"`
			List []string `json:"l"`
		}
		line := sc.Text()
		if err := json.Unmarshal([]byte(line), &k); err != nil {
			t.Fatal(err)
		}
		switch {
		case k.Key == "dotm::nodes":
			k.List = append(k.List, "web01")
			b, _ := json.Marshal(map[string]any{"k": k.Key, "t": "list", "l": k.List})
			line = string(b)
		case replaced[k.Key]:
			continue
		}
		lines = append(lines, line)
	}
	for _, b := range badRecords {
		j, _ := json.Marshal(map[string]any{"k": b.key, "t": b.typ, "s": b.str, "h": b.hash, "l": b.list})
		lines = append(lines, string(j))
	}
	lines[0] = regexp.MustCompile(`"keys":\d+`).ReplaceAllString(lines[0], fmt.Sprintf(`"keys":%d`, len(lines)-1))
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	zw.Close()
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A store with bad records still collects, renders and reports: each bad
// key is named (on the Problems page and in the report), the other nodes
// are intact, and collect does not blame the store for bad data.
func TestHostileBadStoreCLI(t *testing.T) {
	for _, backend := range []string{"redis-server", "embedded"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dataDir := t.TempDir()
			var where []string
			opts := store.Options{DataDir: dataDir}
			if backend == "redis-server" {
				srv := redistest.Start(t)
				where = []string{"--redis", srv.URL()}
				opts = store.Options{URL: srv.URL()}
			} else {
				where = []string{"--data-dir", dataDir}
			}
			cli := func(args ...string) (int, string, string) { return runCLICode(append(where, args...)...) }
			st, err := store.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			specs := []domain.NodeSpec{{Name: "web01", Method: "local"}, {Name: "db01", Method: "local"}, {Name: "app01", Method: "local"}}
			if _, err := st.AddNodes(ctx, specs); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if code, _, errOut := cli("collect", "--quiet"); code != 0 {
				t.Fatalf("first collect: exit %d: %s", code, errOut)
			}
			if backend == "redis-server" {
				plantRaw(t, opts.URL)
			} else {
				plantFile(t, dataDir)
			}

			code, out, errOut := cli("collect")
			if code != 0 || strings.Contains(out+errOut, "once the store answers") {
				t.Errorf("collect with bad records: exit %d: %s%s", code, out, errOut)
			}
			st, err = store.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			cur, err := st.ReadCurrent(ctx)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			named := map[string]bool{}
			for _, p := range cur.Problems {
				named[p.Key] = true
			}
			// Collect wrote web01's and db01's keys anew where it had data
			// for them; the records it has nothing for stay as planted.
			for _, k := range []string{"dotm::connections::web01::8080::app01", "dotm::connections::web01::9000",
				"dotm::checks::nodes::app01", "dotm::checks::services::web01", "dotm::services::web01::1"} {
				if !named[k] {
					t.Errorf("after collect %s is not reported (problems %v)", k, cur.Problems)
				}
			}
			perNode := map[string]int{}
			for _, sv := range cur.Services {
				perNode[sv.Node]++
			}
			// The three nodes read this machine a moment apart, while other
			// tests open and close listeners: their counts may differ, but
			// none may have lost its services to a neighbour's bad key.
			if len(cur.Nodes) != 3 || perNode["web01"] == 0 || perNode["db01"] == 0 || perNode["app01"] == 0 {
				t.Errorf("after collect: nodes %v, services per node %v; want services on all three", cur.Nodes, perNode)
			}

			site := filepath.Join(t.TempDir(), "site")
			code, _, errOut = cli("render", "--out", site, "--cache", t.TempDir())
			if code != 0 {
				t.Fatalf("render with bad records: exit %d: %s", code, errOut)
			}
			problems, err := os.ReadFile(filepath.Join(site, "problems.html"))
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"dotm::connections::web01::9000", "dotm::checks::nodes::app01",
				"dotm::checks::services::web01", "dotm::history::" + badSnapshot, "dotm::nodes"} {
				if !bytes.Contains(problems, []byte("store: key "+k+" skipped: ")) {
					t.Errorf("problems.html has no row for %s", k)
				}
			}
			if bytes.Contains(problems, []byte("<script>alert")) || bytes.Contains(problems, []byte("\x1b")) {
				t.Error("a key name reached problems.html unescaped")
			}
			for _, n := range []string{"web01", "db01", "app01"} {
				if _, err := os.Stat(filepath.Join(site, "nodes", n+".html")); err != nil {
					t.Errorf("no page for %s: %v", n, err)
				}
			}

			code, out, errOut = cli("report")
			if code != 0 || !strings.Contains(out, "Store problems") || !strings.Contains(out, "store: key dotm::checks::nodes::app01 skipped: ") {
				t.Errorf("text report: exit %d, %s%s", code, out, errOut)
			}
			checkInert(t, "text report", out)
			code, out, errOut = cli("report", "--format", "json")
			var rep struct {
				StoreProblems []struct{ Key, Error string } `json:"store_problems"`
			}
			if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
				t.Fatalf("json report: exit %d, %v: %s", code, err, errOut)
			}
			keys := map[string]string{}
			for _, p := range rep.StoreProblems {
				keys[p.Key] = p.Error
			}
			if !strings.Contains(keys["dotm::connections::web01::8080::app01"], "connections") || keys["dotm::nodes"] == "" {
				t.Errorf("json store_problems = %+v", rep.StoreProblems)
			}
			if backend != "redis-server" {
				return
			}
			// A node hash of another type stops collect at that node's
			// write: the message names the node and does not blame the
			// store.
			r := redis.NewClient(mustParseURL(t, opts.URL))
			defer r.Close()
			r.Del(ctx, "dotm::nodes::app01")
			if err := r.SAdd(ctx, "dotm::nodes::app01", "a set").Err(); err != nil {
				t.Fatal(err)
			}
			code, out, errOut = cli("collect")
			if code == 0 || !strings.Contains(errOut, "app01") || !strings.Contains(errOut, "fix or delete that key") ||
				strings.Contains(errOut, "once the store answers") {
				t.Errorf("collect with a bad node hash: exit %d: %s%s", code, out, errOut)
			}
		})
	}
}

func mustParseURL(t *testing.T, url string) *redis.Options {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}
