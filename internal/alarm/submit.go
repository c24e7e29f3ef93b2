package alarm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/monexport"
)

// DefaultService is the service that passive results are for, on each
// node's host, unless nagios_instance's submit_service says otherwise.
const DefaultService = "dotm findings"

// Configured is the --submit SOURCE that stands for the nagios_instance
// setting's source.
const Configured = "nagios_instance"

// Results are the passive results of m's findings: one a node, for
// service on the node's monitoring host (its user_node_aliases name, else
// its own), with the state and text of "dotm check --node" at the default
// thresholds (any finding is a WARNING). Nodes the monitoring does not
// know get none: there is no host to put them on.
func Results(m *analyze.Model, service string) []monitor.CheckResult {
	f := analyze.FindingsOf(m, 0)
	host := monexport.MonitoringNames(m.Conf.NodeAliases)
	th := DefaultThresholds()
	var out []monitor.CheckResult
	for _, node := range m.Current.Nodes {
		if slices.Contains(f.MissingMonitoring, node) {
			continue
		}
		r := NodeResult(f.For(node), node, th)
		r.Name = "DOTM"
		first, perf, long := r.Parts()
		cr := monitor.CheckResult{Host: host(node), Service: service, State: int(r.State), Output: first, Long: long}
		if perf != "" {
			cr.Perf = strings.Split(perf, " ")
		}
		out = append(out, cr)
	}
	return out
}

// Submit sends the passive results of m's findings to each target: a
// source as "dotm collect --monitoring" takes it (with a path being the
// external command file), or Configured for nagios_instance's. Every
// target is tried; the error names those that failed.
func Submit(ctx context.Context, m *analyze.Model, targets []string) error {
	service := cmp.Or(m.Conf.Nagios["submit_service"], DefaultService)
	results := Results(m, service)
	var errs []error
	for _, t := range targets {
		sub, err := Target(t, m.Conf)
		if err == nil {
			err = sub.Submit(ctx, results)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("submit the findings: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Target opens a --submit SOURCE with nagios_instance's credentials.
// Configured is nagios_instance's source, or its command_file when that
// source is a status.dat (which takes no commands). "all" is refused:
// dotm keeps no list of sources besides nagios_instance, since
// collect's --monitoring sources are given each run.
func Target(spec string, conf *domain.Conf) (monitor.Submitter, error) {
	auth, err := monitor.InstanceAuth(conf.Nagios)
	if err != nil {
		return nil, err
	}
	switch spec {
	case "all":
		return nil, errors.New(`--submit all: dotm stores one source, nagios_instance; give --submit nagios_instance, ` +
			`or name each source as collect's --monitoring takes it (--submit may repeat)`)
	case Configured:
		src := conf.Nagios["source"]
		if src == "" {
			return nil, errors.New(`--submit nagios_instance: no source is set; dotm config set nagios_instance '{"source":"livestatus+unix:///run/naemon/live"}', ` +
				`or give the source to --submit`)
		}
		if !strings.Contains(src, "://") && !isFIFO(src) {
			cf := conf.Nagios["command_file"]
			if cf == "" {
				return nil, fmt.Errorf("--submit nagios_instance: its source %s is a status.dat file, which takes no commands; "+
					`set the external command file (command_file in nagios.cfg): dotm config set nagios_instance `+
					`'{"source":%q,"command_file":"/var/lib/nagios4/rw/nagios.cmd"}'`, src, src)
			}
			src = cf
		}
		return monitor.OpenSubmitter(src, auth)
	}
	return monitor.OpenSubmitter(spec, auth)
}

// isFIFO reports whether path is a FIFO, without following a symlink.
func isFIFO(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}
