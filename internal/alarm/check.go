package alarm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/impact"
	"github.com/lwindolf/dotm/internal/plugin"
	"github.com/lwindolf/dotm/store"
)

// CollectionReader is what Collection reads of the store.
type CollectionReader interface {
	State(ctx context.Context) (store.State, error)
	Nodes(ctx context.Context) ([]string, error)
	NodeInfo(ctx context.Context, names []string) ([]store.Node, error)
}

// ImpactReader is what Impact reads of the store.
type ImpactReader interface {
	Nodes(ctx context.Context) ([]string, error)
	Services(ctx context.Context, node string) ([]store.Service, error)
	Connections(ctx context.Context, node string) ([]store.Connection, error)
}

// Unknown is an UNKNOWN result with the summary given.
func Unknown(format string, a ...any) *plugin.Result {
	return &plugin.Result{State: plugin.Unknown, Summary: fmt.Sprintf(format, a...)}
}

// Collection checks that collection runs: the age of the last
// finished collect, failed nodes and failed monitoring sources.
func Collection(ctx context.Context, s CollectionReader, now time.Time, age, failed plugin.Thresholds) (*plugin.Result, error) {
	st, err := s.State(ctx)
	if err != nil {
		return nil, err
	}
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := s.NodeInfo(ctx, nodes)
	if err != nil {
		return nil, err
	}
	mon, _, err := st.Monitoring()
	if err != nil {
		return nil, err
	}
	r := &plugin.Result{}
	var bad []string
	for _, n := range infos {
		if n.LastFetch == 0 || n.FetchStatus != "OK" {
			status := n.FetchStatus
			if n.LastFetch == 0 {
				status = "never fetched"
			}
			bad = append(bad, n.Name)
			r.Long = append(r.Long, fmt.Sprintf("node %s: %s", n.Name, status))
		}
	}
	var badSources int
	for _, src := range mon.Sources {
		if src.Status != "OK" {
			badSources++
			r.Long = append(r.Long, fmt.Sprintf("monitoring source %s: %s", src.Source, src.Status))
		}
	}
	if st.LastUpdated == 0 {
		r.State, r.Summary = plugin.Critical, "no collection has finished yet; is dotm collect run from cron?"
	} else {
		a := max(now.Unix()-st.LastUpdated, 0)
		r.State = age.State(float64(a))
		r.Summary = fmt.Sprintf("last collection %s ago", time.Duration(a)*time.Second)
		r.Perf = append(r.Perf, plugin.Perf{Label: "age", Value: float64(a), UOM: "s", Thresholds: age, Min: plugin.Zero()})
	}
	r.State = plugin.Worse(r.State, failed.State(float64(len(bad))))
	r.Summary += fmt.Sprintf(", %d of %d nodes failed", len(bad), len(nodes))
	if len(bad) > 0 {
		r.Summary += " (" + listSome(bad, 3) + ")"
	}
	if badSources > 0 {
		r.State = plugin.Worse(r.State, plugin.Warning)
		r.Summary += fmt.Sprintf(", %d of %d monitoring sources failed", badSources, len(mon.Sources))
	}
	total := float64(len(nodes))
	r.Perf = append(r.Perf,
		plugin.Perf{Label: "failed_nodes", Value: float64(len(bad)), Thresholds: failed, Min: plugin.Zero(), Max: &total},
		plugin.Perf{Label: "nodes", Value: total, Min: plugin.Zero()},
		plugin.Perf{Label: "failed_sources", Value: float64(badSources), Min: plugin.Zero()})
	return r, nil
}

// Node checks one node's findings, computed by the report's code.
func Node(ctx context.Context, s analyze.NodeReader, now time.Time, node string, th plugin.Thresholds) (*plugin.Result, error) {
	m, ok, err := analyze.LoadNode(ctx, s, node, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return Unknown("%s is not a dotm node; see dotm nodes list", node), nil
	}
	return NodeResult(analyze.FindingsOf(m, 0).For(node), node, th), nil
}

// Fleet checks the findings of the whole fleet.
func Fleet(ctx context.Context, s analyze.Reader, now time.Time, th plugin.Thresholds) (*plugin.Result, error) {
	m, err := analyze.Load(ctx, s, now)
	if err != nil {
		return nil, err
	}
	return FleetResult(analyze.FindingsOf(m, 0), m.Current.Nodes, th), nil
}

// Impact counts the nodes that depend on node's service on port, with
// the impact code of the site's alert pages.
func Impact(ctx context.Context, s ImpactReader, node, port string, th plugin.Thresholds) (*plugin.Result, error) {
	p, err := domain.ParsePort(port)
	if err != nil {
		return Unknown("--service %q: %v", port, err), nil
	}
	nodes, err := s.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, n := range nodes {
		listed[n] = true
	}
	if !listed[node] {
		return Unknown("%s is not a dotm node; see dotm nodes list", node), nil
	}
	// The fleet's services, read once: they name the process on the
	// checked port, and impact follows the services its clients serve.
	svcs, err := s.Services(ctx, "")
	if err != nil {
		return nil, err
	}
	var proc string
	for _, sv := range svcs {
		if sv.Node == node && sv.Port == p {
			proc = sv.Process
		}
	}
	if proc == "" {
		return Unknown("%s has no service on port %d; see dotm nodes show %s", node, p, node), nil
	}
	conns, err := s.Connections(ctx, "")
	if err != nil {
		return nil, err
	}
	deps := impact.New(conns, svcs).Impact(node, strconv.Itoa(p))
	r := &plugin.Result{}
	var direct, all int
	for _, d := range deps {
		if !listed[d.Node] {
			continue
		}
		all++
		if d.Depth == 1 {
			direct++
		}
		r.Long = append(r.Long, fmt.Sprintf("%s (depth %d, via %s)", d.Node, d.Depth, d.Via))
	}
	r.State = th.State(float64(all))
	r.Summary = fmt.Sprintf("%d nodes depend on %s:%d (%s), %d directly", all, node, p, proc, direct)
	r.Perf = []plugin.Perf{
		{Label: "dependents", Value: float64(all), Thresholds: th, Min: plugin.Zero()},
		{Label: "direct", Value: float64(direct), Min: plugin.Zero()},
	}
	return r, nil
}

// listSome lists up to n names, then how many more.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return joinNames(names)
	}
	return fmt.Sprintf("%s, +%d more", joinNames(names[:n]), len(names)-n)
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
