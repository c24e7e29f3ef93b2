package plugin

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
)

// TestParseRange runs the examples of the Monitoring Plugins Development
// Guidelines ("Threshold and ranges"): each range with values that must
// and must not alert.
func TestParseRange(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name, in    string
		start, end  float64
		inside      bool
		alert, calm []float64
	}{
		{"upper only", "10", 0, 10, false, []float64{-1, 10.5, 11}, []float64{0, 5, 10}},
		{"lower only", "10:", 10, inf, false, []float64{9.99, 0, -5}, []float64{10, 11, 1e9}},
		{"no lower bound", "~:10", math.Inf(-1), 10, false, []float64{10.01, 11}, []float64{10, 0, -1e9}},
		{"between", "10:20", 10, 20, false, []float64{9, 21}, []float64{10, 15, 20}},
		{"inside", "@10:20", 10, 20, true, []float64{10, 15, 20}, []float64{9, 21}},
		{"zero", "0", 0, 0, false, []float64{1, -1}, []float64{0}},
		{"negative and decimal", "-1.5:2.5", -1.5, 2.5, false, []float64{-2, 3}, []float64{-1.5, 0, 2.5}},
		{"empty start", ":5", 0, 5, false, []float64{-1, 6}, []float64{0, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRange(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Start != c.start || r.End != c.end || r.Inside != c.inside {
				t.Errorf("ParseRange(%q) = %v..%v inside=%v, want %v..%v inside=%v", c.in, r.Start, r.End, r.Inside, c.start, c.end, c.inside)
			}
			for _, v := range c.alert {
				if !r.Alerts(v) {
					t.Errorf("%q: %v does not alert, want it to", c.in, v)
				}
			}
			for _, v := range c.calm {
				if r.Alerts(v) {
					t.Errorf("%q: %v alerts, want it not to", c.in, v)
				}
			}
			if r.String() != c.in {
				t.Errorf("String() = %q, want %q", r.String(), c.in)
			}
		})
	}
}

func TestParseRangeErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":      "is empty",
		"@":     "is empty",
		"abc":   `"abc" is not a number`,
		"20:10": "start 20 is above end 10",
		"1:x":   `end "x" is not a number`,
		"x:1":   `start "x" is not a number`,
		"~":     `"~" is not a number`,
		"NaN":   "is not a number",
		"1:inf": "is not a number",
	} {
		_, err := ParseRange(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRange(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestThresholds(t *testing.T) {
	th, err := ParseThresholds("900", "3600", "")
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[float64]State{0: OK, 900: OK, 901: Warning, 3600: Warning, 3601: Critical} {
		if got := th.State(v); got != want {
			t.Errorf("State(%v) = %v, want %v", v, got, want)
		}
	}
	if _, err := ParseThresholds("1:0", "", "age-"); err == nil || !strings.HasPrefix(err.Error(), "--age-warning: ") {
		t.Errorf("bad warning range: err = %v, want one naming --age-warning", err)
	}
	if got := (Thresholds{}).State(1e9); got != OK {
		t.Errorf("no thresholds: State = %v, want OK", got)
	}
}

func TestWorse(t *testing.T) {
	for _, c := range []struct{ a, b, want State }{
		{OK, Warning, Warning}, {Warning, Unknown, Unknown}, {Unknown, Critical, Critical},
		{Critical, Unknown, Critical}, {Critical, OK, Critical},
	} {
		if got := Worse(c.a, c.b); got != c.want {
			t.Errorf("Worse(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// perfRE is the guidelines' grammar of one performance data item.
var perfRE = regexp.MustCompile(`^('([^']|'')+'|[^'= ]+)=-?[0-9.]+(s|ms|us|%|B|KB|MB|TB|c)?(;[^; ]*){0,4}$`)

// TestHostilePluginOutput checks that untrusted text cannot forge a line,
// a state or a metric, and that perfdata keeps the guidelines' grammar.
func TestHostilePluginOutput(t *testing.T) {
	th, _ := ParseThresholds("900", "3600", "")
	r := &Result{Name: "DOTM", State: Warning, Summary: "a|b\nDOTM OK",
		Long: []string{"web01 nginx|x", "evil\x1b[2J\nline"},
		Perf: []Perf{
			{Label: "age", Value: 1000, UOM: "s", Thresholds: th, Min: Zero()},
			{Label: "it's odd=x", Value: 1.5},
		}}
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		`DOTM WARNING - a/b\x0aDOTM OK | age=1000s;900;3600;0 'it''s odd_x'=1.5`,
		"web01 nginx/x",
		`evil\x1b[2J\x0aline`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("output:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
	_, perf, _ := strings.Cut(lines[0], " | ")
	for _, item := range []string{"age=1000s;900;3600;0", "'it''s odd_x'=1.5"} {
		if !perfRE.MatchString(item) || !strings.Contains(perf, item) {
			t.Errorf("perfdata item %q not in %q or not in the grammar", item, perf)
		}
	}
}
