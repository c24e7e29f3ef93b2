package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/textsafe"
)

func diffCommand() *command {
	return &command{
		name:    "diff",
		args:    "OLD NEW",
		summary: "compare two architecture files (a site's architecture.json)",
		details: `Prints what changed between two architecture files: a summary line such as
"+3 connections, -1 service, 2 new alerts", then one line per change. OLD may
be missing or empty (everything in NEW is new): that is how the cron wrapper
writes its git commit messages. Exit status 0 whether or not anything changed;
--quiet prints nothing and exits 1 when something changed, like diff(1).`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var quiet bool
			fs.BoolVarP(&quiet, "quiet", "q", false, "print nothing; exit 1 when the architectures differ")
			return func(ctx context.Context, e *env, args []string) error { return runDiff(e, args, quiet) }
		},
	}
}

// errChanged is --quiet's "they differ": exit 1 without a message.
var errChanged = errors.New("")

func runDiff(e *env, args []string, quiet bool) error {
	if len(args) != 2 {
		return usagef("dotm diff", "want two files: OLD NEW")
	}
	var arch [2]*domain.Architecture
	for i, name := range args {
		b, err := readArg(e, name)
		if errors.Is(err, os.ErrNotExist) && i == 0 {
			continue
		}
		if err != nil {
			return err
		}
		if i == 0 && len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if arch[i], err = domain.ParseArchitecture(b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	c := domain.Diff(arch[0], arch[1])
	if quiet {
		if c.Empty() {
			return nil
		}
		return errChanged
	}
	summary := c.Summary()
	if arch[0] == nil {
		summary = "first architecture: " + arch[1].Totals().String()
	}
	fmt.Fprintln(e.stdout, textsafe.Cell(summary))
	if arch[0] != nil && !c.Empty() {
		fmt.Fprintln(e.stdout)
		writeChanges(e.stdout, c)
	}
	return nil
}

// readArg reads a file, or standard input for "-".
func readArg(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	return os.ReadFile(name)
}

// writeChanges prints one line per change: "+" appeared, "-" vanished,
// "~" changed. Names are escaped as in a report's table cell (newlines,
// tabs, control and bidi characters as \xNN), since this output becomes
// the git archive's commit message: a hostile check name can neither add
// a line, such as a Signed-off-by trailer, nor reorder one.
func writeChanges(w io.Writer, c *domain.Changes) {
	line := func(sign, format string, a ...any) {
		fmt.Fprintln(w, sign+" "+textsafe.Cell(fmt.Sprintf(format, a...)))
	}
	for _, n := range c.AddedNodes {
		line("+", "node %s", n)
	}
	for _, n := range c.RemovedNodes {
		line("-", "node %s", n)
	}
	svc := func(s domain.ArchService) string { return s.Node + ":" + strconv.Itoa(s.Port) + " (" + s.Process + ")" }
	for _, s := range c.AddedServices {
		line("+", "service %s", svc(s))
	}
	for _, s := range c.RemovedServices {
		line("-", "service %s", svc(s))
	}
	for _, p := range c.ChangedServices {
		line("~", "service %s:%d: %s → %s", p[1].Node, p[1].Port, p[0].Process, p[1].Process)
	}
	link := func(l domain.ArchLink) string {
		return fmt.Sprintf("%s %s %s %s (%s)", l.Node, l.Direction, l.Port, l.Remote, l.Process)
	}
	for _, l := range c.AddedLinks {
		line("+", "connection %s", link(l))
	}
	for _, l := range c.RemovedLinks {
		line("-", "connection %s", link(l))
	}
	for _, p := range c.ChangedLinks {
		line("~", "connection %s %s %s %s: %s → %s", p[1].Node, p[1].Direction, p[1].Port, p[1].Remote, p[0].Process, p[1].Process)
	}
	for _, a := range c.NewAlerts {
		line("+", "alert %s %s: %s", a.Node, a.Check, a.Status)
	}
	for _, a := range c.ClearedAlerts {
		line("-", "alert %s %s (was %s)", a.Node, a.Check, a.Status)
	}
	for _, p := range c.ChangedAlerts {
		line("~", "alert %s %s: %s → %s", p[1].Node, p[1].Check, p[0].Status, p[1].Status)
	}
}
