package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The site's search: an index of what can be looked up (nodes with their
// IP addresses, services with their ports, processes, groups), written as
// search.json for other tools and as search-index.js, which sets a global
// for site.js: a page opened from file:// may not fetch() a file, but it
// may load a script.

// searchEntry is one thing the search box finds. JSON keys are short:
// the index of a large fleet is loaded by every page.
type searchEntry struct {
	Kind string `json:"k"` // node, service, process, group
	Name string `json:"n"` // what the result shows
	// Terms are further words that find it (IPs, ports, processes).
	Terms string `json:"t,omitempty"`
	URL   string `json:"u"` // from the site root
}

// searchIndex lists every node, service, process and group of the site.
func (b *builder) searchIndex() []searchEntry {
	var out []searchEntry
	for _, n := range b.m.Nodes {
		var terms []string
		for _, ip := range n.IPs {
			if a, err := netip.ParseAddr(ip); err != nil || !a.IsLoopback() { // every node has 127.0.0.1
				terms = append(terms, ip)
			}
		}
		terms = append(terms, stateWord(n.Worst))
		out = append(out, searchEntry{"node", n.Name, strings.Join(terms, " "), NodePath(n.Name) + ".html"})
		for _, sv := range n.Services {
			port := strconv.Itoa(sv.Port)
			out = append(out, searchEntry{"service", n.Name + " :" + port + " " + processName(sv.Process),
				strings.TrimSpace(sv.Container + " " + sv.AlertStatus), NodePath(n.Name) + ".html"})
		}
	}
	for _, p := range b.m.Processes {
		out = append(out, searchEntry{"process", processName(p.Name), "ports " + portsOf(p), ProcessPath(p.Name) + ".html"})
	}
	for _, g := range b.groupList {
		out = append(out, searchEntry{"group", fmt.Sprintf("%s ×%d", g.Key, len(g.Members)), "", GroupPath(g.Key) + ".html"})
	}
	return out
}

// writeSearch writes search.json and search-index.js.
func (b *builder) writeSearch() error {
	doc, err := json.Marshal(b.searchIndex()) // escapes <, > and &: inert in a script
	if err != nil {
		return fmt.Errorf("encode search index: %w", err)
	}
	doc = InertJSON(doc)
	if err := b.w.Write("search.json", doc); err != nil {
		return err
	}
	var js bytes.Buffer
	js.WriteString("// The index of the site's search box (site.js), written by dotm render.\nwindow.dotmSearch = ")
	js.Write(doc)
	js.WriteString(";\n")
	return b.w.Write("search-index.js", js.Bytes())
}
