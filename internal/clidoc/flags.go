// Package clidoc documents a program's command line from its pflag flag
// sets: the flag list of --help, and man pages in roff.
package clidoc

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// Flag is one flag as the help and the man pages show it.
type Flag struct {
	Short, Name string
	Arg         string // the value's placeholder ("duration"); empty for a boolean flag
	Usage       string
	Default     string // shown as "(default ...)"; empty when it is the zero value
}

// Flags lists the visible flags of fs in its order.
func Flags(fs *pflag.FlagSet) []Flag {
	var out []Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		arg, usage := pflag.UnquoteUsage(f)
		if IsBool(f) {
			arg = ""
		}
		fl := Flag{Short: f.Shorthand, Name: f.Name, Arg: arg, Usage: usage}
		if !zeroDefault(f) {
			fl.Default = f.DefValue
			if f.Value.Type() == "string" {
				fl.Default = fmt.Sprintf("%q", f.DefValue)
			}
		}
		out = append(out, fl)
	})
	return out
}

// IsBool tells a flag that takes no value (--quiet, not --quiet=true).
func IsBool(f *pflag.Flag) bool { return f.NoOptDefVal == "true" && f.Value.Type() == "bool" }

func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "<nil>":
		return true
	}
	return false
}

// Usages is the flag list of --help: "  -q, --quiet   print nothing ..."
// for a boolean flag, "      --timeout duration   ..." for one with a
// value.
func Usages(fs *pflag.FlagSet) string {
	flags := Flags(fs)
	heads := make([]string, len(flags))
	width := 0
	for i, f := range flags {
		heads[i] = f.head()
		width = max(width, len(heads[i]))
	}
	var b strings.Builder
	for i, f := range flags {
		line := fmt.Sprintf("%-*s   %s", width, heads[i], f.Usage)
		if f.Default != "" {
			line += " (default " + f.Default + ")"
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

func (f Flag) head() string {
	h := "      --" + f.Name
	if f.Short != "" {
		h = "  -" + f.Short + ", --" + f.Name
	}
	if f.Arg != "" {
		h += " " + f.Arg
	}
	return h
}
