package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lwindolf/dotm/internal/clidoc"
	"github.com/lwindolf/dotm/internal/textsafe"
	"github.com/lwindolf/dotm/store"
	"github.com/spf13/pflag"
)

// Exit statuses (DESIGN.md): 0 success, 1 failure, 2 bad usage; 3 is
// "dotm report --fail-on-findings" finding something.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitFindings = 3
)

// env is what a command runs with: its streams, the environment and the
// global flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	redisURL string
	dataDir  string
	lockWait time.Duration
	// cpuProfile and memProfile are files for pprof profiles of the
	// command (--cpu-profile, --mem-profile); empty: none.
	cpuProfile, memProfile string
}

// runFunc runs a command with the arguments left after its flags.
type runFunc func(ctx context.Context, e *env, args []string) error

// command is one level of the command tree. A command has either subs or
// bind.
type command struct {
	name    string
	args    string // argument synopsis for the usage line
	summary string
	details string
	subs    []*command
	// bind registers the command's own flags and returns what runs it.
	bind func(fs *pflag.FlagSet) runFunc
}

// usageError is bad usage: exit status 2, with a pointer to --help.
type usageError struct {
	path string
	err  error
}

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

func usagef(path, format string, a ...any) error {
	return &usageError{path: path, err: fmt.Errorf(format, a...)}
}

func run(ctx context.Context, args []string, e *env) int {
	store.QuietClientLogs()
	err := execute(ctx, e, root(), "dotm", args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errChanged) {
		return exitFailure
	}
	if code, ok := checkExit(e, err); ok {
		return code
	}
	fmt.Fprintf(e.stderr, "dotm: %s\n", inert(err.Error()))
	var u *usageError
	if errors.As(err, &findingsError{}) {
		return exitFindings
	}
	if errors.As(err, &u) {
		fmt.Fprintf(e.stderr, "Run '%s --help' for usage.\n", u.path)
		return exitUsage
	}
	return exitFailure
}

func (e *env) globalFlags(path string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(path, pflag.ContinueOnError)
	def := func(cur, envName string) string {
		if cur != "" {
			return cur
		}
		return e.getenv(envName)
	}
	fs.StringVar(&e.redisURL, "redis", def(e.redisURL, "DOTM_REDIS"),
		"Redis server URL: redis://[user:pass@]host:port[/db], rediss://, unix:///path; several comma-separated "+
			"for a Cluster; ?master_name=NAME for Sentinel (env DOTM_REDIS; empty: the embedded store)")
	dd := def(e.dataDir, "DOTM_DATA_DIR")
	if dd == "" {
		dd = store.DefaultDataDir()
	}
	fs.StringVar(&e.dataDir, "data-dir", dd, "directory of the embedded store, used when no --redis is given (env DOTM_DATA_DIR)")
	lw := e.lockWait
	if lw == 0 {
		lw = store.DefaultLockWait
	}
	fs.DurationVar(&e.lockWait, "lock-wait", lw, "how long to wait while another dotm process holds the embedded store, or renders into the same --out")
	fs.StringVar(&e.cpuProfile, "cpu-profile", e.cpuProfile, "write a CPU profile of the command to this file, for go tool pprof")
	fs.StringVar(&e.memProfile, "mem-profile", e.memProfile, "write a heap profile (allocations and what is live at the end) to this file, for go tool pprof")
	return fs
}

// execute parses the flags of cmd and runs it or its sub-command.
func execute(ctx context.Context, e *env, cmd *command, path string, args []string) error {
	own := pflag.NewFlagSet(path, pflag.ContinueOnError)
	var runIt runFunc
	if cmd.bind != nil {
		runIt = cmd.bind(own)
	}
	version := versionFlag(own, path)
	global := e.globalFlags(path)
	fs := pflag.NewFlagSet(path, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.AddFlagSet(own)
	fs.AddFlagSet(global)
	help := fs.BoolP("help", "h", false, "show this help")
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(cmd.subs == nil)
	if err := fs.Parse(args); err != nil {
		return usagef(path, "%v", err)
	}
	if *help {
		printHelp(e.stdout, cmd, path, own, global)
		return nil
	}
	if *version {
		return printVersion(e)
	}
	if cmd.subs == nil {
		return e.profiled(func() error { return runIt(ctx, e, fs.Args()) })
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usagef(path, "missing command; one of: %s", subNames(cmd))
	}
	for _, sub := range cmd.subs {
		if sub.name == rest[0] {
			return execute(ctx, e, sub, path+" "+sub.name, rest[1:])
		}
	}
	return unknownCommand(path, rest[0], cmd)
}

func subNames(cmd *command) string {
	names := make([]string, len(cmd.subs))
	for i, s := range cmd.subs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

func printHelp(w io.Writer, cmd *command, path string, own, global *pflag.FlagSet) {
	synopsis := path
	if cmd.subs != nil {
		synopsis += " COMMAND"
	}
	if cmd.args != "" {
		synopsis += " " + cmd.args
	}
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n", synopsis, cmd.summary)
	if cmd.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.details))
	}
	if cmd.subs != nil {
		fmt.Fprintf(w, "\nCommands:\n")
		for _, s := range cmd.subs {
			fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
		}
		fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", path)
	}
	if own.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", clidoc.Usages(own))
	}
	fmt.Fprintf(w, "\nGlobal flags:\n%s", clidoc.Usages(global))
}

// noArgs is for commands that take no positional arguments.
func noArgs(path string, args []string) error {
	if len(args) > 0 {
		return usagef(path, "unexpected argument %q", args[0])
	}
	return nil
}

// openStore opens the store the global flags select.
func (e *env) openStore(ctx context.Context) (*store.Store, error) {
	return store.Open(ctx, store.Options{URL: e.redisURL, DataDir: e.dataDir, LockWait: e.lockWait})
}

// withStore runs fn with the store open and closes it after, reporting a
// failure to save.
func (e *env) withStore(ctx context.Context, fn func(*store.Store) error) error {
	s, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	err = fn(s)
	return errors.Join(err, s.Close())
}

// inert makes untrusted text safe to print on a terminal: control
// characters (escape sequences among them) and invalid UTF-8 are shown as
// \xNN instead of being sent to the terminal.
func inert(s string) string { return textsafe.Inert(s) }
