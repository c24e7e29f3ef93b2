// Package timefmt writes times and durations the way the site and the
// report show them, so both say the same thing the same way.
package timefmt

import (
	"fmt"
	"time"
)

// Stamp shows a unix time in UTC, or "never".
func Stamp(t int64) string {
	if t <= 0 {
		return "never"
	}
	return time.Unix(t, 0).UTC().Format("2006-01-02 15:04 UTC")
}

// Span shows a duration in seconds the way people say it: "3 days",
// "5 hours", "40 minutes".
func Span(secs int64) string {
	switch d := time.Duration(secs) * time.Second; {
	case secs <= 0:
		return "less than a run"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	default:
		return fmt.Sprintf("%d seconds", secs)
	}
}
