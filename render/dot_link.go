package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/site"
	"github.com/lwindolf/dotm/store"
)

// Links and tooltips of the graphs: every box and arrow of an SVG the site
// embeds is a link to the page about it (Graphviz URL), with a tooltip that
// says in words what it is. Links are relative to the page that embeds the
// SVG inline; the SVG files beside it are rewritten for their own place
// (standaloneSVG). Tooltips are built of cleaned, cut names and written by
// quote like any label.

// linker makes the links and tooltips of one graph.
type linker struct {
	m *analyze.Model
	// root is the relative prefix from the embedding page to the site
	// root ("" or "../").
	root string
	// groups are the keys of the groups that have a page.
	groups map[string]bool
}

func newLinker(m *analyze.Model, root string, groups []Group) linker {
	lk := linker{m: m, root: root, groups: map[string]bool{}}
	for _, g := range groups {
		lk.groups[g.Key] = true
	}
	return lk
}

// maxTip is the most runes a tooltip shows.
const maxTip = 200

// linkAttrs are the attributes of a box or arrow linking to href (none
// when empty) with tooltip tip.
func linkAttrs(href, tip string) []kv {
	a := []kv{{"tooltip", cut(tip, maxTip)}}
	if href != "" {
		a = append(a, kv{"URL", href})
	}
	return a
}

// box links a box of names: a node to its page, a group to its page (if
// it has one); an IP or the Internet has only a tooltip.
func (lk linker) box(key string, b *box) []kv {
	if len(b.members) == 1 {
		name := b.members[0]
		if n := lk.m.Node(name); n != nil && name != domain.Internet {
			return linkAttrs(lk.root+NodePath(name)+".html", nodeTip(n))
		}
		if name == domain.Internet {
			return linkAttrs("", domain.Internet)
		}
		return linkAttrs("", clean(name)+" · not a node of the fleet")
	}
	counts := map[string]int{}
	nodes := 0
	for _, name := range b.members {
		if n := lk.m.Node(name); n != nil {
			nodes++
			if bad(n.Worst) {
				counts[n.Worst]++
			}
		}
	}
	tip := fmt.Sprintf("%s · %d members, %d of them nodes", clean(key), len(b.members), nodes)
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		tip += fmt.Sprintf(" · %d/%d %s", counts[s], len(b.members), s)
	}
	href := ""
	if lk.groups[key] {
		href = lk.root + GroupPath(key) + ".html"
	}
	return linkAttrs(href, tip)
}

// nodeTip says what a node is: "db01 · CRITICAL · mysqld :3306, sshd :22".
func nodeTip(n *analyze.Node) string {
	parts := []string{clean(n.Name), stateWord(n.Worst)}
	var svcs []string
	for _, sv := range n.Services {
		svcs = append(svcs, cut(processName(sv.Process), 30)+" :"+strconv.Itoa(sv.Port))
	}
	slices.Sort(svcs)
	svcs = slices.Compact(svcs)
	if len(svcs) > 4 {
		svcs = append(svcs[:4], fmt.Sprintf("+%d more", len(svcs)-4))
	}
	if len(svcs) > 0 {
		parts = append(parts, strings.Join(svcs, ", "))
	}
	return strings.Join(parts, " · ")
}

// stateWord is a monitoring state in words.
func stateWord(state string) string {
	if state == "" {
		return "no monitoring"
	}
	return clean(state)
}

// service links a service box of node's graph to its process's page.
func (lk linker) service(node, process, port, state string) []kv {
	tip := clean(node) + " · " + cut(processName(process), maxLabel) + " :" + cut(port, 12) + " · " + stateWord(state)
	return linkAttrs(lk.processHref(process), tip)
}

// processHref is the link to a process's page, if the site has one.
func (lk linker) processHref(process string) string {
	if _, ok := slices.BinarySearchFunc(lk.m.Processes, process, func(p *analyze.Process, s string) int {
		return strings.Compare(p.Name, s)
	}); ok {
		return lk.root + ProcessPath(process) + ".html"
	}
	return ""
}

// arrow is the tooltip and link of an arrow from one box to another,
// drawn for facts client → server connections, one of which is via.
type arrow struct {
	from, to string // what the ends show
	facts    int
	via      fact
}

// fact is one client → server connection on a port.
type fact struct{ client, server, port string }

// less orders facts, so that the one an arrow links does not depend on
// map order.
func (f fact) less(o fact) bool {
	return f.client < o.client || f.client == o.client && (f.server < o.server || f.server == o.server && store.ComparePorts(f.port, o.port) < 0)
}

// arrows collects arrows by key.
type arrows[K comparable] map[K]*arrow

// add records fact f under key k.
func (as arrows[K]) add(k K, from, to string, f fact) {
	a := as[k]
	if a == nil {
		a = &arrow{from: from, to: to, via: f}
		as[k] = a
	}
	a.facts++
	if f.less(a.via) {
		a.via = f
	}
}

// edge are the attributes of arrow a: "app03 → db01 :3306, 3
// connections", linking the row of a connection on a node page.
func (lk linker) edge(a *arrow, ports []string) []kv {
	tip := clean(a.from) + " → " + clean(a.to) + " :" + portList(ports)
	if a.facts == 1 {
		tip += ", 1 connection"
	} else {
		tip += fmt.Sprintf(", %d connections", a.facts)
	}
	return append(linkAttrs(lk.rowHref(a.via), tip), kv{"labeltooltip", cut(tip, maxTip)})
}

// rowHref links the row of a connection on the client's node page, else
// (only the server recorded it) on the server's; none if neither holds it.
func (lk linker) rowHref(f fact) string {
	if n := lk.m.Node(f.client); n != nil && hasRow(n, store.Out, f.server, f.port) {
		return lk.root + NodePath(n.Name) + ".html#" + ConnAnchor(store.Out, f.server, f.port)
	}
	if n := lk.m.Node(f.server); n != nil && hasRow(n, store.In, f.client, f.port) {
		return lk.root + NodePath(n.Name) + ".html#" + ConnAnchor(store.In, f.client, f.port)
	}
	return ""
}

// hasRow tells whether n records a connection with remote on port.
func hasRow(n *analyze.Node, dir string, remote, port string) bool {
	return slices.ContainsFunc(n.Connections, func(c store.Connection) bool {
		return c.Direction == dir && c.Remote == remote && c.Port == port
	})
}

// ConnAnchor is the id of a connection's row on its node's page: the
// first row with that direction, remote and port.
func ConnAnchor(dir string, remote, port string) string {
	return "conn-" + site.Slug(dir) + "-" + site.Slug(remote) + "-" + site.Slug(port)
}

// standaloneSVG is an SVG written to graphs/ but drawn with links for
// the site root: its relative links get one "../" more.
func standaloneSVG(svg []byte) []byte {
	return []byte(strings.ReplaceAll(string(svg), `xlink:href="`, `xlink:href="../`))
}
