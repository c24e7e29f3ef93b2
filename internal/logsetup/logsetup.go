// Package logsetup gives a daemon the logging flags of ops tools:
// --log-format text|json and --log-level debug|info|warn|error, through
// log/slog.
package logsetup

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
)

// Bind registers --log-format and --log-level on fs and returns what makes
// the logger they ask for, writing to w; it fails on a value neither
// flag knows, naming the flag.
func Bind(fs *pflag.FlagSet) func(w io.Writer) (*slog.Logger, error) {
	format := fs.String("log-format", "text", "log format: text (key=value) or json (one object a line)")
	level := fs.String("log-level", "info", "least severe level logged: debug, info, warn or error")
	return func(w io.Writer) (*slog.Logger, error) { return New(w, *format, *level) }
}

// New returns a logger writing format ("text" or "json") to w, from level
// ("debug", "info", "warn", "error") up.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || strings.ContainsAny(level, "+-") {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
