package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/internal/buildinfo"
)

// The commands about dotm itself: version, help, completion and man.

// versionFlag registers --version on the top level (path "dotm") only.
func versionFlag(fs *pflag.FlagSet, path string) *bool {
	if path != "dotm" {
		return new(bool)
	}
	return fs.Bool("version", false, "print the version and exit")
}

func printVersion(e *env) error {
	_, err := fmt.Fprintln(e.stdout, buildinfo.Get().Line("dotm"))
	return err
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version, commit, build date and Go version",
		bind: func(*pflag.FlagSet) runFunc {
			return func(ctx context.Context, e *env, args []string) error {
				if err := noArgs("dotm version", args); err != nil {
					return err
				}
				return printVersion(e)
			}
		},
	}
}

func helpCommand() *command {
	return &command{
		name:    "help",
		args:    "[COMMAND...]",
		summary: "show the help of a command (as COMMAND --help)",
		bind: func(*pflag.FlagSet) runFunc {
			return func(ctx context.Context, e *env, args []string) error {
				return execute(ctx, e, root(), "dotm", append(append([]string{}, args...), "--help"))
			}
		},
	}
}

// unknownCommand is the usage error for a command name cmd does not
// have, with the one most likely meant.
func unknownCommand(path, typed string, cmd *command) error {
	names := make([]string, len(cmd.subs))
	for i, s := range cmd.subs {
		names[i] = s.name
	}
	if s := suggestName(typed, names); s != "" {
		return usagef(path, "unknown command %q; did you mean %q? (one of: %s)", typed, s, subNames(cmd))
	}
	return usagef(path, "unknown command %q; one of: %s", typed, subNames(cmd))
}

// walkCommands calls fn for cmd and each command below it, depth first, with its
// path ("dotm nodes add") and its own flags.
func walkCommands(cmd *command, path string, fn func(c *command, path string, own *pflag.FlagSet)) {
	own := pflag.NewFlagSet(path, pflag.ContinueOnError)
	own.SortFlags = false
	if cmd.bind != nil {
		cmd.bind(own)
	}
	if path == "dotm" {
		versionFlag(own, path)
	}
	fn(cmd, path, own)
	for _, s := range cmd.subs {
		walkCommands(s, path+" "+s.name, fn)
	}
}

// docGlobalFlags are the global flags as documentation shows them: with
// their defaults, not this environment's DOTM_* values.
func docGlobalFlags() *pflag.FlagSet {
	e := &env{getenv: func(string) string { return "" }}
	fs := e.globalFlags("dotm")
	fs.BoolP("help", "h", false, "show this help")
	return fs
}
