package render

import (
	"bytes"
	"html"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
)

// TestGraphLinks: boxes and arrows link the pages about them, with
// tooltips in words, relative to the page that embeds the graph.
func TestGraphLinks(t *testing.T) {
	m := testModel()
	g := string(GlobalDOT(m))
	for _, want := range []string{
		`tooltip="db01 · CRITICAL · mysqld :3306", URL="nodes/db01.html"`,
		`tooltip="app01 → db01 :3306, 1 connection", URL="nodes/app01.html#conn-out-db01-3306"`,
		`tooltip="10.1.2.3 · not a node of the fleet"`,
	} {
		if !strings.Contains(g, want) {
			t.Errorf("global graph lacks %s:\n%s", want, g)
		}
	}
	db := string(NodeDOT(m, "db01"))
	for _, want := range []string{
		`tooltip="db01 · mysqld :3306 · CRITICAL", URL="../services/mysqld.html"`,
		`URL="../nodes/app01.html"`,
		// 10.1.2.3 is no node: the row is on the server's page
		`tooltip="10.1.2.3 → db01 :3306, 1 connection", URL="../nodes/db01.html#conn-in-10.1.2.3-3306"`,
	} {
		if !strings.Contains(db, want) {
			t.Errorf("db01's graph lacks %s:\n%s", want, db)
		}
	}
	if s := string(ServiceDOT(m)); !strings.Contains(s, `URL="services/mysqld.html"`) {
		t.Errorf("service graph does not link mysqld's page:\n%s", s)
	}
	for name, dot := range allDOT(m) {
		if regexp.MustCompile(`tooltip="[a-z][0-9]+[" -]`).Match(dot) {
			t.Errorf("%s: a tooltip names a Graphviz id", name)
		}
	}
	big := analyze.NewModel(testNow, testConf(), bigFleet(30, ""))
	if g := string(GlobalDOT(big)); !strings.Contains(g, `tooltip="web · 30 members, 30 of them nodes", URL="groups/web.html"`) {
		t.Errorf("group box does not link its page:\n%s", g)
	}
	if g := string(GroupDOT(big, "web")); !strings.Contains(g, `URL="../nodes/web00.html"`) {
		t.Errorf("group graph does not link its nodes' pages:\n%s", g)
	}
}

func TestStandaloneSVG(t *testing.T) {
	in := `<a xlink:href="nodes/db01.html" xlink:title="db01">`
	if got := string(standaloneSVG([]byte(in))); got != `<a xlink:href="../nodes/db01.html" xlink:title="db01">` {
		t.Errorf("standaloneSVG: %s", got)
	}
}

// TestGraphLinksResolve: every link of every graph of the built site,
// inline in its page or in the SVG file beside it, reaches a page of the
// site, and its #fragment an id on that page.
func TestGraphLinksResolve(t *testing.T) {
	for set, m := range map[string]*analyze.Model{"site": testModel(), "hostile": hostileModel()} {
		s := build(t, m)
		href := regexp.MustCompile(`xlink:href="([^"]*)"`)
		links := 0
		for name, doc := range s {
			if !strings.HasSuffix(name, ".html") && !strings.HasSuffix(name, ".svg") {
				continue
			}
			for _, h := range href.FindAllSubmatch(doc, -1) {
				links++
				target, frag, _ := strings.Cut(html.UnescapeString(string(h[1])), "#")
				file := path.Join(path.Dir(name), target)
				page, ok := s[file]
				switch {
				case !ok:
					t.Errorf("%s: %s links %s, which the site lacks", set, name, file)
				case frag != "" && !bytes.Contains(page, []byte(` id="`+frag+`"`)):
					t.Errorf("%s: %s links #%s, which %s lacks", set, name, frag, file)
				}
			}
		}
		if links < 20 {
			t.Errorf("%s: only %d links in the graphs", set, links)
		}
	}
}
