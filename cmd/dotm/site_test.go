package main

import (
	"bytes"
	"context"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"golang.org/x/net/html"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/store"
)

// openEmbedded opens the embedded store in dataDir; the caller closes it
// before running dotm on the same directory (one process at a time).
func openEmbedded(t *testing.T, dataDir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// renderFleet collects a simulated fleet (with a hostile process name)
// into an embedded store in dataDir, as of now.
func renderFleet(t *testing.T, dataDir string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st := openEmbedded(t, dataDir)
	defer st.Close()
	// Its own port: other tests serve fleets at the same time.
	fleet := simfleet.Generate(20, 3, montest.FleetPort(t))
	fleet.Lookup("queue01").Services = append(fleet.Lookup("queue01").Services,
		simfleet.Service{Port: 6666, Process: `<script>alert(1)</script>"}->x`})
	if err := demoRounds(ctx, st, fleet, filepath.Join(t.TempDir(), "status.dat"), now); err != nil {
		t.Fatal(err)
	}
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLICode(args...)
	if code != 0 {
		t.Fatalf("dotm %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// runCLICode runs dotm in-process and returns its exit status and output.
func runCLICode(args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = run(context.Background(), args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" }})
	return code, out.String(), errOut.String()
}
func TestSiteFromFleet(
	t *testing.T) {
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
	if geo := string(files1["geo.html"]); !strings.Contains(geo, "--geoip") || strings.Contains(geo, "AS6450") {
		t.Errorf("without --geoip the Geo page only says how to enable it")
	}
	if db := string(files1["nodes/db01.dot"]); db == "" {
		t.Fatal("no db01.dot")
	}

	// With geoip databases: labels on the pages, the same graphs, and
	// still byte-identical renders.
	dbs := writeGeoDBs(t)
	out3, out4 := filepath.Join(t.TempDir(), "site"), filepath.Join(t.TempDir(), "site")
	runCLI(t, append(renderArgs(out3), dbs...)...)
	runCLI(t, append(renderArgs(out4), dbs...)...)
	files3, files4 := readTree(t, out3), readTree(t, out4)
	for name, b := range files3 {
		if !bytes.Equal(b, files4[name]) {
			t.Errorf("%s differs between two renders with --geoip", name)
		}
		if strings.HasSuffix(name, ".dot") && !bytes.Equal(b, files1[name]) {
			t.Errorf("%s changed with --geoip: geo data stays out of the graphs", name)
		}
	}
	checkSite(t, out3, files3)
	geo := string(files3["geo.html"])
	for _, want := range []string{"AS64500", "Example Org", "AS64501", "&lt;script&gt;alert(1)&lt;/script&gt;",
		"203.0.113.", "lb01", "Frankfurt am Main", "db01"} {
		if !strings.Contains(geo, want) {
			t.Errorf("geo.html lacks %q", want)
		}
	}
	if lb := string(files3["nodes/lb01.html"]); !strings.Contains(lb, "Internet: AS6450") {
		t.Errorf("lb01's connections do not label the Internet with its ASN")
	}
	if db := string(files3["nodes/db01.html"]); !strings.Contains(db, "Frankfurt am Main, Germany") {
		t.Errorf("db01's page does not show its location")
	}
}

// writeGeoDBs writes a small City and ASN database (the fleet's nodes are
// in 10.0.0.0/8, its Internet clients in 203.0.113.0/24) and returns the
// --geoip arguments.
func writeGeoDBs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	country := func(iso, name, city string) mmdbtype.Map {
		return mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso), "names": mmdbtype.Map{"en": mmdbtype.String(name)}},
			"city":    mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}},
		}
	}
	as := func(n uint32, org string) mmdbtype.Map {
		return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n),
			"autonomous_system_organization": mmdbtype.String(org)}
	}
	dbs := []struct {
		name, typ string
		nets      map[string]mmdbtype.Map
	}{
		{"city.mmdb", "GeoLite2-City", map[string]mmdbtype.Map{
			"203.0.113.0/24":  country("DE", "Germany", "Berlin"),
			"198.51.100.0/24": country("US", "United States", "Boston"),
			"10.0.0.0/8":      country("DE", "Germany", "Frankfurt am Main"),
		}},
		{"asn.mmdb", "GeoLite2-ASN", map[string]mmdbtype.Map{
			"203.0.113.0/26":   as(64501, "<script>alert(1)</script>"),
			"203.0.113.64/26":  as(64500, "Example Org"),
			"203.0.113.128/25": as(64500, "Example Org"),
			"198.51.100.0/24":  as(64502, "Other Net"),
		}},
	}
	var args []string
	for _, db := range dbs {
		tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: db.typ, IncludeReservedNetworks: true, RecordSize: 24})
		if err != nil {
			t.Fatal(err)
		}
		for cidr, rec := range db.nets {
			_, n, _ := net.ParseCIDR(cidr)
			if err := tree.Insert(n, rec); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := tree.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, db.name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--geoip", path)
	}
	return args
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
		"nodes/db01.html", "graphs/global.svg", "graphs/global.dot", "data/nodes.json", "data/alerts.json", "assets/site.css",
		"unused.html", "problems.html", "changes.html", "history.html", "architecture.json"} {
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
