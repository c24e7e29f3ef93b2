package store

import (
	"testing"
)

func TestRetentionTime(t *testing.T) {
	const day = 86400
	clock := int64(1796000000)
	for _, tc := range []struct {
		name           string
		t, clock, prev int64
		want           int64
	}{
		{"normal run", clock, clock, clock - 600, clock},
		{"--now a day ahead", clock + day, clock, clock - 600, clock},
		{"backfill", clock - 10*day, clock, clock - 600, clock - 10*day},
		{"clock jumped a year", clock + 365*day, clock + 365*day, clock, clock + day},
		{"first run", clock, clock, 0, clock},
		{"after a week without runs", clock, clock, clock - 7*day, clock - 6*day},
	} {
		if got := RetentionTime(tc.t, tc.clock, tc.prev); got != tc.want {
			t.Errorf("%s: RetentionTime = %d, want %d", tc.name, got, tc.want)
		}
	}
}
