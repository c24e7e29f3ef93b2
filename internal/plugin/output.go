package plugin

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/internal/textsafe"
)

// State is a plugin result state; its value is the exit code.
type State int

// The plugin states, in the guidelines' order (their exit codes).
const (
	OK State = iota
	Warning
	Critical
	Unknown
)

func (s State) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// Worse returns the worse of two states. UNKNOWN is worse than WARNING but
// not than CRITICAL, as the guidelines order service states.
func Worse(a, b State) State {
	rank := func(s State) int {
		switch s {
		case Critical:
			return 3
		case Unknown:
			return 2
		}
		return int(s)
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// Perf is one performance data item: 'label'=value[UOM];[warn];[crit];[min];[max].
type Perf struct {
	Label string
	Value float64
	// UOM is "", "s", "ms", "us", "%", "B", "KB", "MB", "TB" or "c".
	UOM        string
	Thresholds Thresholds
	Min, Max   *float64
}

// Zero is a Min of 0, the usual floor of a count or an age.
func Zero() *float64 { z := 0.0; return &z }

// String formats the item. The label is quoted when it needs it, a quote
// in it doubled; trailing empty fields are left out.
func (p Perf) String() string {
	fields := []string{
		rangeText(p.Thresholds.Warning), rangeText(p.Thresholds.Critical),
		number(p.Min), number(p.Max),
	}
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	s := quoteLabel(p.Label) + "=" + strconv.FormatFloat(p.Value, 'f', -1, 64) + p.UOM
	for _, f := range fields {
		s += ";" + f
	}
	return s
}

func rangeText(r *Range) string {
	if r == nil {
		return ""
	}
	return r.String()
}

func number(f *float64) string {
	if f == nil || math.IsInf(*f, 0) || math.IsNaN(*f) {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func quoteLabel(l string) string {
	l = strings.Map(func(r rune) rune {
		if r == '=' || r == '|' || r < ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, l)
	if strings.ContainsAny(l, " '") {
		return "'" + strings.ReplaceAll(l, "'", "''") + "'"
	}
	return l
}

// Result is what a plugin run says: a state, a one-line summary, longer
// output lines and performance data.
type Result struct {
	Name    string // the service name that starts the status line, e.g. DOTM
	State   State
	Summary string
	Long    []string
	Perf    []Perf
}

// Write prints the result: the status line "NAME STATE - summary |
// perfdata", then the long output one item a line. Untrusted text in the
// summary and each long output line is made safe: control characters, newlines and tabs become
// \xNN, and '|' (which starts performance data) becomes '/', so a name
// cannot forge a line, a state or a metric.
func (r *Result) Write(w io.Writer) error {
	first, perf, long := r.Parts()
	var b strings.Builder
	b.WriteString(first)
	if perf != "" {
		b.WriteString(" | " + perf)
	}
	b.WriteByte('\n')
	for _, l := range long {
		b.WriteString(l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Parts are the result's pieces, each made safe as Write prints them: the
// status line without performance data ("NAME STATE - summary"), the
// performance data items joined by spaces, and the long output lines. A
// passive check result carries them in the fields the monitoring has for
// them.
func (r *Result) Parts() (first, perf string, long []string) {
	first = fmt.Sprintf("%s %s - %s", r.Name, r.State, clean(r.Summary))
	parts := make([]string, len(r.Perf))
	for i, p := range r.Perf {
		parts[i] = p.String()
	}
	long = make([]string, len(r.Long))
	for i, l := range r.Long {
		long[i] = clean(l)
	}
	return first, strings.Join(parts, " "), long
}

func clean(s string) string {
	return strings.ReplaceAll(textsafe.Cell(s), "|", "/")
}
