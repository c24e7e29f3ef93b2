package main

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestCheckScripts runs testdata/check/*.txtar: dotm check as a monitoring
// core runs it, against a real redis-server ("redis-start") seeded with the
// data contract's keys through redis-cli. "plugin STATE ARGS..." runs
// dotm check ARGS, asserts the exit status of STATE and that the output
// keeps the plugin format: the status line, then long output, perfdata in
// the guidelines' grammar.
func TestCheckScripts(t *testing.T) {
	testscript.Run(t, checkScriptParams(t, testscript.Params{Dir: "testdata/check"}))
}

// TestHostileCheckOutput runs testdata/check-hostile: names and fetch
// errors that try to forge plugin output.
func TestHostileCheckOutput(t *testing.T) {
	testscript.Run(t, checkScriptParams(t, testscript.Params{Dir: "testdata/check-hostile"}))
}

func checkScriptParams(t *testing.T, p testscript.Params) testscript.Params {
	bin := redistest.Require(t, "redis-server")
	redistest.Require(t, "redis-cli")
	p.Setup = func(e *testscript.Env) error {
		e.Setenv("DOTM_DATA_DIR", e.WorkDir+"/data")
		e.Setenv("DOTM_REDIS", "")
		return nil
	}
	p.Cmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"free-port": func(ts *testscript.TestScript, neg bool, args []string) {
			p, err := redistest.FreePortErr()
			ts.Check(err)
			ts.Setenv(args[0], strconv.Itoa(p))
		},
		"redis-start": redisStartCmd(bin),
		"plugin":      pluginCmd,
	}
	p.RequireExplicitExec = true
	return p
}

var pluginStates = map[string]int{"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}

func pluginCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: plugin STATE [ARGS...]")
	}
	want, ok := pluginStates[args[0]]
	if !ok {
		ts.Fatalf("plugin: unknown state %q", args[0])
	}
	err := ts.Exec("dotm", append([]string{"check"}, args[1:]...)...)
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		ts.Fatalf("run dotm check: %v", err)
	}
	if code != want {
		ts.Fatalf("exit status %d, want %d (%s)", code, want, args[0])
	}
	if err := checkPluginOutput(ts.ReadFile("stdout"), args[0]); err != nil {
		ts.Fatalf("%v", err)
	}
}

var statusLine = regexp.MustCompile(`^DOTM (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+?)(?: \| (.*))?$`)

// checkPluginOutput checks output against the plugin format: one status
// line naming state, perfdata (if any) only there, no '|' in long output.
func checkPluginOutput(out, state string) error {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" || !strings.HasSuffix(out, "\n") {
		return fmt.Errorf("output %q: want lines ending in a newline", out)
	}
	m := statusLine.FindStringSubmatch(lines[0])
	if m == nil {
		return fmt.Errorf("status line %q does not match %s", lines[0], statusLine)
	}
	if m[1] != state {
		return fmt.Errorf("status line %q: state %s, want %s", lines[0], m[1], state)
	}
	if m[3] != "" {
		if err := parsePerfdata(m[3]); err != nil {
			return fmt.Errorf("status line %q: %v", lines[0], err)
		}
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "|") {
			return fmt.Errorf("long output line %q holds '|', which would start perfdata", l)
		}
	}
	return nil
}

// perfValue is value[UOM] and perfRange a threshold range, both in the
// guidelines' grammar.
var (
	perfValue = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?(s|ms|us|%|B|KB|MB|TB|c)?$`)
	perfNum   = regexp.MustCompile(`^(-?[0-9]+(\.[0-9]+)?)?$`)
	perfRange = regexp.MustCompile(`^(@?(~|-?[0-9]+(\.[0-9]+)?)?:?(-?[0-9]+(\.[0-9]+)?)?)?$`)
)

// parsePerfdata parses space-separated 'label'=value[UOM];[warn];[crit];[min];[max].
func parsePerfdata(s string) error {
	for s != "" {
		var label string
		if strings.HasPrefix(s, "'") {
			end := 1
			for {
				i := strings.IndexByte(s[end:], '\'')
				if i < 0 {
					return fmt.Errorf("perfdata %q: unterminated label", s)
				}
				end += i + 1
				if !strings.HasPrefix(s[end:], "'") {
					break
				}
				end++ // a doubled quote
			}
			label, s = s[1:end-1], s[end:]
		} else {
			i := strings.IndexByte(s, '=')
			if i <= 0 {
				return fmt.Errorf("perfdata %q: want label=", s)
			}
			label, s = s[:i], s[i:]
			if strings.ContainsAny(label, " '") {
				return fmt.Errorf("perfdata label %q needs quotes", label)
			}
		}
		if label == "" || !strings.HasPrefix(s, "=") {
			return fmt.Errorf("perfdata %q: want a label, then =", s)
		}
		item, rest, _ := strings.Cut(s[1:], " ")
		s = rest
		f := strings.Split(item, ";")
		if len(f) > 5 {
			return fmt.Errorf("perfdata item %q: more than 5 fields", item)
		}
		if !perfValue.MatchString(f[0]) {
			return fmt.Errorf("perfdata item %q: value %q not a number with a UOM", item, f[0])
		}
		for i, x := range f[1:] {
			re := perfRange
			if i >= 2 {
				re = perfNum
			}
			if !re.MatchString(x) {
				return fmt.Errorf("perfdata item %q: field %d %q malformed", item, i+2, x)
			}
		}
	}
	return nil
}

func TestParsePerfdata(t *testing.T) {
	for _, good := range []string{"age=10s;900;3600;0", "'a b'=1;;;0;5 x=2", "'it''s'=1.5%;@10:20;~:5", "c=0"} {
		if err := parsePerfdata(good); err != nil {
			t.Errorf("parsePerfdata(%q) = %v, want ok", good, err)
		}
	}
	for _, bad := range []string{"a b=1", "x=1x", "x=", "=1", "x=1;a", "x=1;;;;;", "'x=1", "x=1;;;z"} {
		if err := parsePerfdata(bad); err == nil {
			t.Errorf("parsePerfdata(%q) = nil, want an error", bad)
		}
	}
}
