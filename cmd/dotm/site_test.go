package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/store"
)

// renderFleet collects a simulated fleet (with a hostile process name)
// into an embedded store in dataDir, as of now.
func renderFleet(t *testing.T, dataDir string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Its own port: the collect tests serve fleets on 14848 and 14849 at
	// the same time.
	fleet := simfleet.Generate(20, 3, 14850)
	fleet.Lookup("queue01").Services = append(fleet.Lookup("queue01").Services,
		simfleet.Service{Port: 6666, Process: `<script>alert(1)</script>"}->x`})
	if err := demoRounds(ctx, st, fleet, filepath.Join(t.TempDir(), "status.dat"), now); err != nil {
		t.Fatal(err)
	}
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("dotm %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

func TestSiteFromFleet(t *testing.T) {
	dataDir, cache := t.TempDir(), t.TempDir()
	now := time.Unix(1795000000, 0)
	renderFleet(t, dataDir, now)
	out1, out2 := filepath.Join(t.TempDir(), "site"), filepath.Join(t.TempDir(), "site")
	renderArgs := func(out string) []string {
		return []string{"render", "--out", out, "--now", "1795000000", "--data-dir", dataDir, "--cache", cache}
	}
	first := runCLI(t, renderArgs(out1)...)
	second := runCLI(t, renderArgs(out2)...)
	if !strings.Contains(second, "(0 graphs laid out)") || strings.Contains(first, "(0 graphs laid out)") {
		t.Errorf("second render must lay out nothing: %q then %q", first, second)
	}
	files1, files2 := readTree(t, out1), readTree(t, out2)
	if len(files1) != len(files2) {
		t.Fatalf("%d files, then %d", len(files1), len(files2))
	}
	for name, b := range files1 {
		if !bytes.Equal(b, files2[name]) {
			t.Errorf("%s differs between two renders of the same state", name)
		}
	}
	checkSite(t, out1, files1)
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkSite parses every page: internal links resolve, graph pages carry
// their SVG, the node monitoring table's second column is the mapped
// service, and hostile names are inert text.
func checkSite(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for _, want := range []string{"index.html", "nodes.html", "services.html", "alerts.html", "settings.html",
		"nodes/db01.html", "graphs/global.svg", "graphs/global.dot", "data/nodes.json", "data/alerts.json", "assets/site.css"} {
		if files[want] == nil {
			t.Errorf("missing %s", want)
		}
	}
	for name, b := range files {
		// In DOT the name is a quoted label (its quote escaped); anywhere
		// else it must never appear as markup.
		switch {
		case strings.HasSuffix(name, ".dot"):
			if strings.Contains(string(b), `</script>"}`) {
				t.Errorf("%s has the hostile name's quote unescaped", name)
			}
		case strings.Contains(string(b), "<script>alert(1)"):
			t.Errorf("%s contains the hostile process name unescaped", name)
		}
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		doc, err := html.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, link := range links(doc) {
			target := path.Join(path.Dir(name), strings.SplitN(strings.SplitN(link, "#", 2)[0], "?", 2)[0])
			if files[target] == nil {
				t.Errorf("%s links to %s, which does not exist", name, link)
			}
		}
		graphPage := strings.HasPrefix(name, "nodes/") || name == "index.html" || name == "services.html"
		if graphPage && find(doc, "svg") == nil {
			t.Errorf("%s has no graph", name)
		}
	}
	db := files["nodes/db01.html"]
	if !bytes.Contains(db, []byte("<td>MySQL connections</td><td>mysqld</td>")) {
		t.Errorf("db01's monitoring table does not show the mapped service in its second column")
	}
}

// links returns the site-internal href and src values of a page.
func links(n *html.Node) []string {
	var out []string
	if n.Type == html.ElementNode {
		for _, a := range n.Attr {
			if (a.Key == "href" || a.Key == "src") && !strings.Contains(a.Val, "://") && !strings.HasPrefix(a.Val, "#") {
				out = append(out, a.Val)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, links(c)...)
	}
	return out
}

func find(n *html.Node, tag string) *html.Node {
	if n.Type == html.ElementNode && n.Data == tag {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, tag); f != nil {
			return f
		}
	}
	return nil
}
