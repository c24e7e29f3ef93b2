package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// The look of the graphs: colours by monitoring state, line styles, labels
// of edges.

// palette is how a monitoring state is drawn.
type palette struct{ line, fill string }

// colours gives the palette of a state: OK green, WARNING orange,
// UNKNOWN purple, CRITICAL/DOWN red, PENDING grey, none white.
func colours(state string) palette {
	switch state {
	case "OK", "UP":
		return palette{"#2e7d32", "#c8e6c9"}
	case "PENDING":
		return palette{"#616161", "#e0e0e0"}
	case "WARNING":
		return palette{"#e65100", "#ffe0b2"}
	case "UNKNOWN", "UNREACHABLE":
		return palette{"#6a1b9a", "#e1bee7"}
	case "CRITICAL", "DOWN":
		return palette{"#b71c1c", "#ffcdd2"}
	}
	return palette{"#424242", "#ffffff"}
}

// bad reports whether a state is drawn as a problem (thick double border),
// so that it shows without colour too.
func bad(state string) bool { return domain.Severity(state) > 0 }

// styleOf is the style attribute of a filled shape, dashed when old.
func styleOf(base string, old bool) string {
	if old {
		return base + ",dashed"
	}
	return base
}

// stateAttrs are the attributes of a shape in the given state.
func stateAttrs(state string, old bool) []kv {
	p := colours(state)
	a := []kv{{"color", p.line}, {"fillcolor", p.fill}, {"style", styleOf("filled", old)}}
	if bad(state) {
		a = append(a, kv{"penwidth", "3"}, kv{"peripheries", "2"})
	}
	return a
}

// clusterAttrs are the attributes of a cluster (a node's frame) in the
// given state: clusters have no peripheries, so a problem is a thick line.
func clusterAttrs(lbl, state string) []kv {
	p := colours(state)
	a := []kv{{"label", lbl}, {"color", p.line}, {"fillcolor", "#fafafa"}, {"style", "filled,rounded"}}
	if bad(state) {
		a = append(a, kv{"penwidth", "3"})
	}
	return a
}

// edgeAttrs are the attributes of an arrow labelled with ports, dashed
// when all connections behind it are old.
func edgeAttrs(ports []string, old bool) []kv {
	a := []kv{{"label", portList(ports)}}
	if old {
		a = append(a, kv{"style", "dashed"})
	}
	return a
}

// portList shows ports sorted, at most maxPorts of them then "+N".
func portList(ports []string) string {
	ports = slices.Clone(ports)
	slices.SortFunc(ports, store.ComparePorts)
	ports = slices.Compact(ports)
	for i, p := range ports {
		ports[i] = cut(p, 12)
	}
	if len(ports) > maxPorts {
		return strings.Join(ports[:maxPorts], ",") + fmt.Sprintf(" +%d", len(ports)-maxPorts)
	}
	return strings.Join(ports, ",")
}

// processName shows a process name, or that it is not known.
func processName(p string) string { return cmp.Or(p, "(unknown process)") }
