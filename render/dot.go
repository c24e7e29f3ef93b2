package render

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/lwindolf/dotm/render/layout"
)

// The DOT graphs of the site. Every name in them (nodes, processes, ports,
// states) is untrusted: it only ever appears inside a double-quoted label,
// escaped and cut to maxLabel runes; DOT ids are generated ("n3"), never a
// name. Output is sorted, so the same Model gives the same bytes, and it
// holds no volatile figures (times, socket counts): the .dot files are
// archived, and a diff of them is a real architecture change.

const (
	// maxLabel is the most runes one line of untrusted text shows.
	maxLabel = 60
	// maxDrawn is the most boxes a graph draws one by one; beyond it
	// nodes are drawn by group (GroupOf).
	maxDrawn = 40
	// maxPorts is the most ports an edge label lists before "+N".
	maxPorts = 4
)

// kv is one DOT attribute; the value is quoted when written.
type kv struct{ k, v string }

// dotNode is a box, ellipse or other shape of a graph.
type dotNode struct {
	id    string
	attrs []kv
}

// dotEdge is an arrow between two dotNodes.
type dotEdge struct {
	from, to string
	attrs    []kv
}

// dotCluster is a framed group of nodes.
type dotCluster struct {
	attrs []kv
	nodes []dotNode
	// name and sub: frames inside this one (containers, containers.go).
	name string
	sub  []dotCluster
}

// dotGraph collects a graph before writing it, so that the layout engine
// can follow its size.
type dotGraph struct {
	attrs    []kv
	clusters []dotCluster
	nodes    []dotNode
	edges    []dotEdge
}

// size is the number of nodes of g.
func (g *dotGraph) size() int {
	n := len(g.nodes)
	for _, c := range g.clusters {
		n += len(c.nodes)
		for _, s := range c.sub {
			n += len(s.nodes)
		}
	}
	return n
}

// bytes writes g as DOT.
func (g *dotGraph) bytes() []byte {
	var b bytes.Buffer
	b.WriteString("digraph \"dotm\" {\n")
	attrs := append([]kv{{"layout", layout.Algorithm(g.size())}}, g.attrs...)
	if layout.Algorithm(g.size()) != "dot" {
		// overlap=scale, not false: false (prism) takes 20 s and more for
		// 1000 nodes in the embedded (WebAssembly) Graphviz.
		attrs = append(attrs, kv{"overlap", "scale"}, kv{"outputorder", "edgesfirst"})
	}
	writeStmt(&b, "\t", "graph", attrs)
	writeStmt(&b, "\t", "node", []kv{{"fontname", "Helvetica"}, {"fontsize", "10"}, {"shape", "box"}})
	writeStmt(&b, "\t", "edge", []kv{{"fontname", "Helvetica"}, {"fontsize", "9"}, {"color", "#555555"}})
	for i, c := range g.clusters {
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n", i)
		writeStmt(&b, "\t\t", "graph", c.attrs)
		for _, n := range c.nodes {
			writeNode(&b, "\t\t", n)
		}
		for j, sub := range c.sub {
			fmt.Fprintf(&b, "\t\tsubgraph cluster_%d_%d {\n", i, j)
			writeStmt(&b, "\t\t\t", "graph", sub.attrs)
			for _, n := range sub.nodes {
				writeNode(&b, "\t\t\t", n)
			}
			b.WriteString("\t\t}\n")
		}
		b.WriteString("\t}\n")
	}
	for _, n := range g.nodes {
		writeNode(&b, "\t", n)
	}
	for _, e := range g.edges {
		// The class names both ends (site.js highlights neighbours by it).
		attrs := append(slices.Clone(e.attrs), kv{"class", "from-" + boxID(e.from) + " to-" + boxID(e.to)})
		writeStmt(&b, "\t", e.from+" -> "+e.to, attrs)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// writeNode writes a node statement with its SVG id, boxID.
func writeNode(b *bytes.Buffer, indent string, n dotNode) {
	writeStmt(b, indent, n.id, append(slices.Clone(n.attrs), kv{"id", boxID(n.id)}))
}

// boxID is the SVG id of the box with DOT id id: prefixed, so that it
// clashes with no id of the page that embeds the SVG.
func boxID(id string) string { return "box-" + id }

// writeStmt writes one statement (a node, an edge or an attribute
// statement) with its attributes, each value quoted.
func writeStmt(b *bytes.Buffer, indent, head string, attrs []kv) {
	b.WriteString(indent + head)
	for i, a := range attrs {
		sep := ", "
		if i == 0 {
			sep = " ["
		}
		b.WriteString(sep + a.k + "=" + quote(a.v))
	}
	if len(attrs) > 0 {
		b.WriteString("]")
	}
	b.WriteString(";\n")
}

// quote makes s a DOT double-quoted string: backslashes and quotes are
// escaped, so nothing in s can end the string or form an escape such as
// \N; a newline becomes a centred line break; carriage returns go.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// clean makes untrusted text fit for one line of a label: valid UTF-8,
// control and format characters (newlines, bidi overrides) as spaces, at
// most maxLabel runes (cut with "…").
func clean(s string) string { return cut(s, maxLabel) }

// cut is clean with room for at most n runes.
func cut(s string, n int) string {
	rs := []rune(strings.ToValidUTF8(s, "\uFFFD"))
	if len(rs) > n {
		rs = append(rs[:max(n-1, 0)], '…')
	}
	for i, r := range rs {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			rs[i] = ' '
		}
	}
	return string(rs)
}

// label joins cleaned lines of a label; empty lines are left out.
func label(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l = clean(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
