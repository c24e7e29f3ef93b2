package main

import (
	"fmt"
	"strconv"
	"time"
)

// The window of plausible times for --now (and the absolute form of
// --since). A time outside it is a typo or a broken clock, not a backfill:
//
//   - Not before 2000-01-01T00:00:00Z. dotm records when services and
//     connections were seen; nothing it could have observed predates this
//     century, while 0, negative numbers and small counts (a timestamp
//     with its digits cut, year 1000) fall before it.
//   - Not more than a day ahead of this machine's clock. That leaves room
//     for a skewed clock and for an RFC 3339 time written with the wrong
//     zone offset (at most 14 hours either way), and refuses milliseconds
//     given as seconds, int64 max and year 3000, which would otherwise
//     stamp data with a time no later run ever reaches.
//
// A time inside the window but ahead of the clock is still recorded; the
// store never lets such a time age out history (see store.RetentionTime)
// nor hold a newer-looking last_seen against the next runs (store.Newest).
const earliestNow = 946684800 // 2000-01-01T00:00:00Z

// maxAhead is how far ahead of the system clock a given time may be.
const maxAhead = 24 * time.Hour

// parseNow reads --now: empty for the clock, else a plausible time.
func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	return parseTime("--now", s, time.Now())
}

// parseTime reads the time flag gives, in unix seconds or RFC 3339, and
// refuses one outside the plausible window around clock.
func parseTime(flag, s string, clock time.Time) (time.Time, error) {
	latest := clock.Add(maxAhead).Unix()
	var unix int64
	var t time.Time
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		unix, t = n, time.Unix(n, 0) // compared as a number: int64 max overflows a time.Time's year
	} else if t, err = time.Parse(time.RFC3339, s); err == nil {
		unix = t.Unix()
	} else {
		return time.Time{}, fmt.Errorf("%s %q: want unix seconds (1700000000) or RFC 3339 (2026-11-23T20:00:00Z)", flag, s)
	}
	if unix < earliestNow || unix > latest {
		return time.Time{}, fmt.Errorf("%s %q: not a plausible time; give one from %s to a day ahead of this machine's clock (%s)",
			flag, s, time.Unix(earliestNow, 0).UTC().Format(time.RFC3339), time.Unix(latest, 0).UTC().Format(time.RFC3339))
	}
	return t, nil
}
