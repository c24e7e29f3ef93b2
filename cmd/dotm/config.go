package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/render"
	"github.com/lwindolf/dotm/store"
	"github.com/spf13/pflag"
)

func configCommand() *command {
	return &command{
		name:    "config",
		summary: "show and change settings (dotm::config::*)",
		details: `Values of list and hash settings are JSON, single values plain text:
  dotm config set service_mapping '{"^HTTP":"^nginx.*"}'
  dotm config set other_internal_networks '["100.64.0.0/10"]'
  dotm config set service_port_whitelist 53,22,5666`,
		subs: []*command{
			{name: "list", summary: "show every setting: value, default and description",
				bind: func(*pflag.FlagSet) runFunc { return configList }},
			{name: "get", args: "KEY", summary: "print the value in effect of one setting",
				bind: func(*pflag.FlagSet) runFunc { return configGet }},
			{name: "set", args: "KEY VALUE", summary: "check and store a setting",
				bind: func(*pflag.FlagSet) runFunc { return configSet }},
			{name: "unset", args: "KEY", summary: "forget a setting, so its default applies",
				bind: func(*pflag.FlagSet) runFunc { return configUnset }},
			{name: "export", summary: "print all set values as one JSON object (secrets masked)",
				bind: func(fs *pflag.FlagSet) runFunc {
					secrets := fs.Bool("secrets", false, "include passwords instead of masking them")
					return func(ctx context.Context, e *env, args []string) error {
						return configExport(ctx, e, args, *secrets)
					}
				}},
			{name: "import", args: "FILE|-", summary: "store the settings of a JSON object as export prints it",
				details: `Every value is checked before any is stored. A masked password keeps the
password stored now.`,
				bind: func(*pflag.FlagSet) runFunc { return configImport }},
		},
	}
}

func configList(ctx context.Context, e *env, args []string) error {
	if err := noArgs("dotm config list", args); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		cfg, err := s.Config(ctx)
		if err != nil {
			return err
		}
		for i, sv := range cfg {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			writeSetting(e.stdout, sv)
		}
		return nil
	})
}

func writeSetting(w io.Writer, sv store.SettingValue) {
	val := sv.Text(sv.Value())
	if !sv.IsSet {
		val += "   (default)"
	}
	fmt.Fprintf(w, "%s = %s\n", sv.Name, cell(val))
	fmt.Fprintf(w, "    %s\n", sv.Title)
	fmt.Fprintf(w, "    default: %s\n", cell(sv.Text(sv.Default)))
	for _, line := range wrap(sv.Description, 76) {
		fmt.Fprintf(w, "    %s\n", line)
	}
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func lookupSetting(path string, args []string, n int) (*domain.Setting, error) {
	if len(args) != n {
		want := "KEY"
		if n == 2 {
			want = "KEY VALUE"
		}
		return nil, usagef(path, "want %s, got %d argument(s)", want, len(args))
	}
	st, err := domain.Lookup(args[0])
	if err != nil {
		return nil, usagef(path, "%v", err)
	}
	return st, nil
}

func configGet(ctx context.Context, e *env, args []string) error {
	st, err := lookupSetting("dotm config get", args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		cfg, err := s.Config(ctx)
		if err != nil {
			return err
		}
		for _, sv := range cfg {
			if sv.Name == st.Name {
				fmt.Fprintln(e.stdout, cell(sv.Text(sv.Value())))
			}
		}
		return nil
	})
}

func configSet(ctx context.Context, e *env, args []string) error {
	st, err := lookupSetting("dotm config set", args, 2)
	if err != nil {
		return err
	}
	v, err := st.ParseValue(args[1])
	if err != nil {
		return usagef("dotm config set", "%v", err)
	}
	return e.withStore(ctx, func(s *store.Store) error { return s.SetSetting(ctx, st, v) })
}

func configUnset(ctx context.Context, e *env, args []string) error {
	st, err := lookupSetting("dotm config unset", args, 1)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error { return s.UnsetSetting(ctx, st) })
}

func configExport(ctx context.Context, e *env, args []string, secrets bool) error {
	if err := noArgs("dotm config export", args); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		b, err := s.ExportConfig(ctx, secrets)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(render.InertJSON(b))
		return err
	})
}

func configImport(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return usagef("dotm config import", "give one FILE, or - for standard input")
	}
	var data []byte
	var err error
	if args[0] == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, 16<<20))
	} else {
		data, err = os.ReadFile(args[0])
	}
	if err != nil {
		return fmt.Errorf("read settings to import: %w", err)
	}
	return e.withStore(ctx, func(s *store.Store) error { return s.ImportConfig(ctx, data) })
}
