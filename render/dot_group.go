package render

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// GroupOf is the group a node is drawn in when a graph has too many nodes
// to draw one by one: the domain of an FQDN ("web01.eu.example.com" →
// "eu.example.com"), else the name without trailing digits and separators
// ("web01", "web-02" → "web").
func GroupOf(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 && i < len(name)-1 {
		return name[i+1:]
	}
	if g := strings.TrimRight(name, "0123456789-_"); g != "" {
		return g
	}
	return name
}

// hostGroup is GroupOf applied to the host part of a name only
// ("web01.example.com" → "web"): for fleets that all share one domain.
func hostGroup(name string) string {
	host, _, _ := strings.Cut(name, ".")
	return GroupOf(cmp.Or(host, name))
}

// remoteGroup groups a remote that is no node: the Internet stays itself,
// an IP goes into its /24 (IPv6: /64).
func remoteGroup(remote string) (string, bool) {
	if remote == domain.Internet {
		return domain.Internet, true
	}
	ip, err := netip.ParseAddr(remote)
	if err != nil {
		return "", false
	}
	bits := 64
	if ip.Unmap().Is4() {
		ip, bits = ip.Unmap(), 24
	}
	p, _ := ip.Prefix(bits)
	return p.String(), true
}

// grouper maps names to the boxes they are drawn in: each its own box for
// few names, else one box per group.
type grouper struct{ key func(string) string }

// newGrouper picks how names are drawn: one by one up to maxDrawn, else
// by GroupOf, or by hostGroup when GroupOf would put them all in one box.
func newGrouper(names []string) grouper {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	if len(names) <= maxDrawn {
		return grouper{func(s string) string { return s }}
	}
	for _, f := range []func(string) string{GroupOf, hostGroup} {
		groups := map[string]bool{}
		for _, n := range names {
			if _, ok := remoteGroup(n); !ok {
				groups[f(n)] = true
			}
		}
		if len(groups) > 1 {
			return grouper{groupWith(f)}
		}
	}
	return grouper{groupWith(GroupOf)}
}

// groupWith groups nodes by f and remotes by remoteGroup.
func groupWith(f func(string) string) func(string) string {
	return func(s string) string {
		if g, ok := remoteGroup(s); ok {
			return g
		}
		return f(s)
	}
}

// box is one drawn box: a name or a group of names.
type box struct {
	members []string
}

// boxes draws names as boxes by g: the box keys sorted, each with its
// members sorted.
func (g grouper) boxes(names []string) (keys []string, byKey map[string]*box) {
	byKey = map[string]*box{}
	for _, n := range names {
		k := g.key(n)
		if byKey[k] == nil {
			byKey[k] = &box{}
		}
		byKey[k].members = append(byKey[k].members, n)
	}
	for _, b := range byKey {
		slices.Sort(b.members)
		b.members = slices.Compact(b.members)
	}
	return slices.Sorted(maps.Keys(byKey)), byKey
}

// remoteShape draws a node, an IP, the Internet, or a group of them: its
// name ("web ×12" for a group) and the worst state of the nodes in it.
func remoteShape(m *analyze.Model, id, key string, b *box) dotNode {
	worst := ""
	for _, name := range b.members {
		if n := m.Node(name); n != nil && name != domain.Internet {
			worst = domain.WorstOf(worst, n.Worst)
		}
	}
	title := boxTitle(key, b)
	a := append([]kv{{"label", label(title, worst)}}, stateAttrs(worst, false)...)
	if key == domain.Internet {
		a = append(a, kv{"shape", "ellipse"})
	}
	return dotNode{id: id, attrs: a}
}

// boxTitle is what a box shows of its names: the name, or "web ×12"
// for a group.
func boxTitle(key string, b *box) string {
	if len(b.members) > 1 {
		return cut(key, maxLabel-8) + fmt.Sprintf(" ×%d", len(b.members))
	}
	return b.members[0]
}

// link is an aggregated arrow: the ports it carries and when any of its
// connections was last seen.
type link struct {
	ports    []string
	lastSeen int64
}

// links collects arrows by key, in no order until sorted.
type links[K comparable] map[K]*link

// add records one connection on port for key k.
func (ls links[K]) add(k K, port string, lastSeen int64) {
	l := ls[k]
	if l == nil {
		l = &link{}
		ls[k] = l
	}
	if !slices.Contains(l.ports, port) {
		l.ports = append(l.ports, port)
	}
	l.lastSeen = max(l.lastSeen, lastSeen)
}

// isLoopback tells a connection between two processes of its own node,
// and the service port it reaches.
func isLoopback(c store.Connection) (port string, ok bool) {
	switch {
	case c.LocalService != "":
		return c.LocalService, true
	case c.Remote == c.Node && c.Direction == store.Out:
		return c.Port, true
	}
	return "", false
}

// pair is a client → server fact between nodes or remotes.
