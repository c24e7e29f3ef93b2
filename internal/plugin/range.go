// Package plugin speaks the monitoring plugin protocol of Nagios, Icinga,
// Naemon and their kin (the Monitoring Plugins Development Guidelines):
// threshold ranges, performance data, the status line and exit codes.
package plugin

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is a threshold range in the guidelines' syntax, [@]start:end: a
// value alerts when it lies outside start..end (ends included), or inside
// it when the range starts with @. A missing start is 0, "~" is minus
// infinity, a missing end (after the colon) is infinity.
type Range struct {
	Start, End float64
	Inside     bool
	text       string
}

// ParseRange parses a threshold range. The empty string is an error:
// callers treat "no threshold" before calling.
func ParseRange(s string) (Range, error) {
	r := Range{text: s}
	body := s
	if strings.HasPrefix(body, "@") {
		r.Inside, body = true, body[1:]
	}
	if body == "" {
		return Range{}, fmt.Errorf("threshold range %q is empty; write e.g. 10, 10:, ~:10, 10:20 or @10:20", s)
	}
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "0", body
	}
	var err error
	switch start {
	case "~":
		r.Start = math.Inf(-1)
	case "":
		r.Start = 0
	default:
		if r.Start, err = parseNumber(start); err != nil {
			return Range{}, fmt.Errorf("threshold range %q: start %w", s, err)
		}
	}
	if end == "" {
		r.End = math.Inf(1)
	} else if r.End, err = parseNumber(end); err != nil {
		return Range{}, fmt.Errorf("threshold range %q: end %w", s, err)
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("threshold range %q: start %s is above end %s", s, start, end)
	}
	return r, nil
}

func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// Alerts reports whether v is outside the range (inside, for an @ range).
func (r Range) Alerts(v float64) bool {
	in := v >= r.Start && v <= r.End
	return in == r.Inside
}

// String is the range as given, the form perfdata carries.
func (r Range) String() string { return r.text }

// Thresholds are a metric's warning and critical ranges; nil is none.
type Thresholds struct {
	Warning, Critical *Range
}

// ParseThresholds parses warning and critical ranges, either of which may
// be empty (no threshold). flag names them in errors.
func ParseThresholds(warning, critical, flag string) (Thresholds, error) {
	var t Thresholds
	for _, x := range []struct {
		s    string
		dst  **Range
		name string
	}{{warning, &t.Warning, "warning"}, {critical, &t.Critical, "critical"}} {
		if x.s == "" {
			continue
		}
		r, err := ParseRange(x.s)
		if err != nil {
			return t, fmt.Errorf("--%s%s: %w", flag, x.name, err)
		}
		*x.dst = &r
	}
	return t, nil
}

// State is the state of v against the thresholds: CRITICAL before
// WARNING, else OK.
func (t Thresholds) State(v float64) State {
	switch {
	case t.Critical != nil && t.Critical.Alerts(v):
		return Critical
	case t.Warning != nil && t.Warning.Alerts(v):
		return Warning
	}
	return OK
}
