package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/impact"
	"github.com/lwindolf/dotm/internal/alarm"
	"github.com/lwindolf/dotm/internal/plugin"
	"github.com/lwindolf/dotm/store"
)

type checkOpts struct {
	node, service, now              string
	findings                        bool
	warning, critical               string
	failedWarning, failedCritical   string
	warningChanged, criticalChanged bool
}

// checkPath is the check command's path, for its usage errors: a plugin
// answers bad usage with UNKNOWN, not with exit status 2 (CRITICAL).
const checkPath = "dotm check"

func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "a monitoring plugin: the collection, a node's findings, or a service's impact",
		details: `A Nagios/Icinga/Naemon plugin (Monitoring Plugins guidelines): exit status
0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; one status line
"DOTM STATE - summary | perfdata", then one line per item.

Without --node it checks the collection: the age of the last finished
"dotm collect" (--warning/--critical, seconds; default 900 and 3600), nodes
whose last fetch failed (--failed-warning/--failed-critical, default: any
is a WARNING) and monitoring sources that failed (a WARNING).

--findings checks the findings of the whole fleet: unused services, vanished
connections, unmonitored services, failed fetches and nodes the monitoring
does not know, over all nodes, with one line per node that has any.
--warning/--critical apply to their number (default: any is a WARNING).

--node NAME checks the node's findings, as "dotm report" lists them: unused
services, vanished connections, unmonitored services, its fetch error and
missing monitoring. --warning/--critical apply to their number (default:
any is a WARNING).

--node NAME --service PORT counts the nodes that depend on that service
(directly or through others). --warning/--critical apply to that number
(default: none; OK with the count).

Thresholds are ranges: 10 (alert above 10), 10: (below 10), ~:10 (above
10), 10:20 (outside), @10:20 (inside).`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var o checkOpts
			fs.StringVar(&o.node, "node", "", "check this node's findings")
			fs.BoolVar(&o.findings, "findings", false, "without --node: check the findings of the whole fleet")
			fs.StringVar(&o.service, "service", "", "with --node: check the impact of the node's service on this port")
			fs.StringVar(&o.warning, "warning", "", "WARNING threshold range (see above for each mode's default)")
			fs.StringVar(&o.critical, "critical", "", "CRITICAL threshold range")
			fs.StringVar(&o.failedWarning, "failed-warning", "0", "collection mode: WARNING range for the number of nodes whose fetch failed")
			fs.StringVar(&o.failedCritical, "failed-critical", "", "collection mode: CRITICAL range for the number of nodes whose fetch failed")
			fs.StringVar(&o.now, "now", "", "the time to check as (unix seconds or RFC 3339)")
			return func(ctx context.Context, e *env, args []string) error {
				o.warningChanged, o.criticalChanged = fs.Changed("warning"), fs.Changed("critical")
				return runCheck(ctx, e, args, o)
			}
		},
	}
}

// pluginExit ends a check with its state's exit status; the result has
// been printed already.
type pluginExit plugin.State

func (p pluginExit) Error() string { return "check ended " + plugin.State(p).String() }

func runCheck(ctx context.Context, e *env, args []string, o checkOpts) error {
	r := check(ctx, e, args, o)
	r.Name = "DOTM"
	if err := r.Write(e.stdout); err != nil {
		return err
	}
	if r.State == plugin.OK {
		return nil
	}
	return pluginExit(r.State)
}

// unknown is the result of a check that could not be made.
func unknown(format string, a ...any) *plugin.Result {
	return &plugin.Result{State: plugin.Unknown, Summary: fmt.Sprintf(format, a...)}
}

func check(ctx context.Context, e *env, args []string, o checkOpts) *plugin.Result {
	if len(args) > 0 {
		return unknown("unexpected argument %q; see dotm check --help", args[0])
	}
	if o.service != "" && o.node == "" {
		return unknown("--service needs --node: the node whose service it is")
	}
	if o.findings && o.node != "" {
		return unknown("--findings is the whole fleet's findings; --node NAME alone checks one node's")
	}
	now, err := parseNow(o.now)
	if err != nil {
		return unknown("%v", err)
	}
	def := func(set bool, v, d string) string {
		if set {
			return v
		}
		return d
	}
	var th plugin.Thresholds
	switch {
	case o.findings || o.node != "" && o.service == "":
		th, err = plugin.ParseThresholds(def(o.warningChanged, o.warning, alarm.DefaultWarning), o.critical, "")
	case o.node == "":
		th, err = plugin.ParseThresholds(def(o.warningChanged, o.warning, "900"), def(o.criticalChanged, o.critical, "3600"), "")
	default:
		th, err = plugin.ParseThresholds(o.warning, o.critical, "")
	}
	if err != nil {
		return unknown("%v", err)
	}
	s, err := e.openStore(ctx)
	if err != nil {
		return unknown("cannot read the store: %v", err)
	}
	defer s.Close()
	var r *plugin.Result
	switch {
	case o.findings:
		r, err = checkFleet(ctx, s, now, th)
	case o.node == "":
		failed, ferr := plugin.ParseThresholds(o.failedWarning, o.failedCritical, "failed-")
		if ferr != nil {
			return unknown("%v", ferr)
		}
		r, err = checkCollection(ctx, s, now, th, failed)
	case o.service == "":
		r, err = checkNode(ctx, s, now, o.node, th)
	default:
		r, err = checkImpact(ctx, s, o.node, o.service, th)
	}
	if err != nil {
		return unknown("cannot read the store: %v", err)
	}
	return r
}

// checkCollection checks that collection runs: the age of the last
// finished collect, failed nodes and failed monitoring sources.
func checkCollection(ctx context.Context, s *store.Store, now time.Time, age, failed plugin.Thresholds) (*plugin.Result, error) {
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

// checkNode checks one node's findings, computed by the report's code.
func checkNode(ctx context.Context, s *store.Store, now time.Time, node string, th plugin.Thresholds) (*plugin.Result, error) {
	m, ok, err := analyze.LoadNode(ctx, s, node, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return unknown("%s is not a dotm node; see dotm nodes list", node), nil
	}
	return alarm.NodeResult(analyze.FindingsOf(m, 0).For(node), node, th), nil
}

// checkFleet checks the findings of the whole fleet.
func checkFleet(ctx context.Context, s *store.Store, now time.Time, th plugin.Thresholds) (*plugin.Result, error) {
	m, err := analyze.Load(ctx, s, now)
	if err != nil {
		return nil, err
	}
	return alarm.FleetResult(analyze.FindingsOf(m, 0), m.Current.Nodes, th), nil
}

// checkImpact counts the nodes that depend on node's service on port,
// with the impact code of the site's alert pages.
func checkImpact(ctx context.Context, s *store.Store, node, port string, th plugin.Thresholds) (*plugin.Result, error) {
	p, err := domain.ParsePort(port)
	if err != nil {
		return unknown("--service %q: %v", port, err), nil
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
		return unknown("%s is not a dotm node; see dotm nodes list", node), nil
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
		return unknown("%s has no service on port %d; see dotm nodes show %s", node, p, node), nil
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

// checkExit is the exit status of a check that ended: its state, or
// UNKNOWN (printed as a status line) for bad usage of dotm check, since a
// monitoring core would read exit status 2 as CRITICAL.
func checkExit(e *env, err error) (int, bool) {
	var p pluginExit
	if errors.As(err, &p) {
		return int(p), true
	}
	var u *usageError
	if errors.As(err, &u) && (u.path == checkPath || strings.HasPrefix(u.path, checkPath+" ")) {
		r := unknown("%v; see dotm check --help", err)
		r.Name = "DOTM"
		_ = r.Write(e.stdout)
		return int(plugin.Unknown), true
	}
	return 0, false
}
