package main

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/internal/alarm"
	"github.com/lwindolf/dotm/internal/plugin"
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
func unknown(format string, a ...any) *plugin.Result { return alarm.Unknown(format, a...) }

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
		r, err = alarm.Fleet(ctx, s, now, th)
	case o.node == "":
		failed, ferr := plugin.ParseThresholds(o.failedWarning, o.failedCritical, "failed-")
		if ferr != nil {
			return unknown("%v", ferr)
		}
		r, err = alarm.Collection(ctx, s, now, th, failed)
	case o.service == "":
		r, err = alarm.Node(ctx, s, now, o.node, th)
	default:
		r, err = alarm.Impact(ctx, s, o.node, o.service, th)
	}
	if err != nil {
		return unknown("cannot read the store: %v", err)
	}
	return r
}

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
