package archtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/lwindolf/dotm/"

// rule forbids packages under from (tests included) to depend, directly
// or not, on packages under any of to, except those under allow.
type rule struct {
	from, why string
	to, allow []string
}

// The arrows, bottom up:
//
//	domain ← store ← impact ← analyze ← render (+ render/layout, site), report
//	store ← collect (+ monitor, simfleet) ; collect/netinfo ← collect/agent
//	cmd/dotm wires them all; cmd/dotm-agent only the agent.
//
// store may use the module's small leaf helpers (internal/textsafe,
// internal/nofollow) and, in its tests, internal/redistest; nothing that
// knows about collecting, analysing or showing.
var rules = []rule{
	{from: "domain", why: "what the data means is a leaf: it knows no store, no collector, no output",
		to: []string{""}, allow: []string{"domain", "internal/textsafe"}},
	{from: "store", why: "the store is the bottom: it knows keys and types, nothing above it",
		to: []string{""}, allow: []string{"store", "domain", "internal/textsafe", "internal/nofollow", "internal/redistest"}},
	{from: "impact", why: "the dependency graph is computed from stored facts alone",
		to: []string{""}, allow: []string{"impact", "store", "domain", "internal/"}},
	{from: "collect", why: "collecting knows nothing of how findings are computed or shown",
		to: []string{"analyze", "render", "report", "site"}},
	{from: "analyze", why: "analysis knows nothing of collecting or of any output",
		to: []string{"collect", "render", "report", "site", "cmd/"}},
	{from: "render", why: "the site and the report are two outputs of the analysis; neither uses the other, nor collects",
		to: []string{"report", "collect"}},
	{from: "report", why: "the report and the site are two outputs of the analysis; neither uses the other, nor collects",
		to: []string{"render", "site", "collect"}},
	{from: "site", why: "site writes files; it knows nothing of what is in them",
		to: []string{"store", "collect", "analyze", "render", "report"}},
	{from: "collect/agent", why: "the agent only reads /proc and answers: it must not link the store, the site or the collector",
		to: []string{"store", "render", "site", "analyze", "report", "collect/monitor", "collect/simfleet"}},
	{from: "cmd/dotm-agent", why: "the agent only reads /proc and answers: it must not link the store, the site or the collector",
		to: []string{"store", "render", "site", "analyze", "report", "collect/monitor", "collect/simfleet"}},
}

// Packages of other modules no command may import itself: cmd/ wires
// packages of ours, which wrap these.
var cmdForbidden = []string{"github.com/redis/go-redis/", "github.com/wneessen/go-mail"}

// under tells whether pkg (a path inside the module) is p or below it.
// The empty prefix is the whole module.
func under(pkg, p string) bool {
	return p == "" || pkg == p || strings.HasPrefix(pkg, strings.TrimSuffix(p, "/")+"/") ||
		strings.HasSuffix(p, "/") && strings.HasPrefix(pkg, p)
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	var lines []string
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	return lines
}

// TestArrows runs go list over every package with its tests and fails on
// an arrow a rule forbids.
func TestArrows(t *testing.T) {
	checked := 0
	for _, line := range goList(t, "-test", "-f", "{{.ImportPath}}|{{.ForTest}}|{{join .Deps \" \"}}", "./...") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list gave %q", line)
		}
		pkg := parts[1] // a package built with its tests
		if pkg == "" {
			pkg = parts[0] // the package itself, or a test main
		}
		pkg = strings.TrimSuffix(strings.TrimPrefix(pkg, mod), ".test")
		for _, r := range rules {
			if !under(pkg, r.from) {
				continue
			}
			checked++
			for _, dep := range strings.Fields(parts[2]) {
				d, ours := strings.CutPrefix(dep, mod)
				if !ours || d == pkg {
					continue
				}
				if forbidden(d, r) {
					t.Errorf("%s depends on %s: %s", parts[0], d, r.why)
				}
			}
		}
	}
	if checked < len(rules) {
		t.Fatalf("only %d packages checked against %d rules: a rule names a package that is gone", checked, len(rules))
	}
}

func forbidden(dep string, r rule) bool {
	for _, a := range r.allow {
		if under(dep, a) {
			return false
		}
	}
	for _, to := range r.to {
		if under(dep, to) {
			return true
		}
	}
	return false
}

// TestCommandsWrapLibraries: no command imports the Redis or mail client
// itself (tests may, to look at what a command left behind).
func TestCommandsWrapLibraries(t *testing.T) {
	lines := goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./cmd/...")
	if len(lines) == 0 {
		t.Fatal("go list found no commands")
	}
	for _, line := range lines {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			for _, bad := range cmdForbidden {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s: wrap what it needs in a package of ours", f[0], imp)
				}
			}
		}
	}
}

// TestRulesCatchAnArrow: the matching itself works; a rule that could
// never fire would let every arrow through.
func TestRulesCatchAnArrow(t *testing.T) {
	cases := []struct {
		dep  string
		r    rule
		want bool
	}{
		{"render", ruleFrom("collect"), true},
		{"render/layout", ruleFrom("collect"), true},
		{"store", ruleFrom("collect"), false},
		{"collect", ruleFrom("store"), true},
		{"domain", ruleFrom("store"), false},
		{"internal/textsafe", ruleFrom("store"), false},
		{"internal/bintest", ruleFrom("store"), true},
		{"store", ruleFrom("domain"), true},
		{"renderer", ruleFrom("collect"), false},
	}
	for _, c := range cases {
		if got := forbidden(c.dep, c.r); got != c.want {
			t.Errorf("forbidden(%s, rule from %s) = %v, want %v", c.dep, c.r.from, got, c.want)
		}
	}
}

func ruleFrom(from string) rule {
	for _, r := range rules {
		if r.from == from {
			return r
		}
	}
	panic("no rule from " + from)
}
