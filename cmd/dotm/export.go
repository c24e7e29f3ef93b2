package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/internal/monexport"
	"github.com/lwindolf/dotm/store"
)

func exportCommand() *command {
	return &command{
		name:    "export",
		args:    "nagios|icinga2",
		summary: "write monitoring dependencies from the observed architecture",
		details: `Writes dependencies for the monitoring to standard output: for every
connection between two nodes seen within the aging setting, the client's
mapped checks depend on the mapped checks of the service it uses, and the
client host on the server host. "nagios" writes hostdependency and
servicedependency definitions (Nagios, Naemon, Icinga 1), "icinga2" Dependency
objects. Only checks dotm has mapped to a service take part; host names go
back through user_node_aliases. The output is sorted and holds nothing
volatile, so it can be kept in git. A dependency that would close a circle is
left out, as the daemons refuse circles.`,
		bind: func(fs *pflag.FlagSet) runFunc {
			minCount := fs.Int("min-count", 1, "leave out connections with fewer sockets than this (incidental ones)")
			return func(ctx context.Context, e *env, args []string) error { return runExport(ctx, e, args, *minCount) }
		},
	}
}

func runExport(ctx context.Context, e *env, args []string, minCount int) error {
	const path = "dotm export"
	if len(args) != 1 || args[0] != "nagios" && args[0] != "icinga2" {
		return usagef(path, "want one format: nagios or icinga2")
	}
	if minCount < 1 {
		return usagef(path, "--min-count %d: want 1 or more", minCount)
	}
	var d *monexport.Deps
	err := e.withStore(ctx, func(s *store.Store) error {
		conf, err := s.LoadConf(ctx)
		if err != nil {
			return err
		}
		cur, err := s.ReadCurrent(ctx)
		if err != nil {
			return err
		}
		d = monexport.Build(cur, conf.AgingConns, minCount, conf.NodeAliases)
		return nil
	})
	if err != nil {
		return err
	}
	if d.Skipped > 0 {
		fmt.Fprintf(e.stderr, "dotm export: left out %d dependencies whose host or check name cannot be written into a configuration file\n", d.Skipped)
	}
	if d.Cycles > 0 {
		fmt.Fprintf(e.stderr, "dotm export: left out %d dependencies that would close a circle\n", d.Cycles)
	}
	if args[0] == "icinga2" {
		return d.Icinga2(e.stdout)
	}
	return d.Nagios(e.stdout)
}
