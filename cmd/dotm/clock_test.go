package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHostileImplausibleNow gives every command that takes --now (and
// report's --since) a time no clock shows: each is refused with exit 2, a
// message naming the flag, the value and the window, and nothing is
// written: the store is not even created.
func TestHostileImplausibleNow(t *testing.T) {
	bad := []string{"0", "-5", "1000-01-01T00:00:00Z", "9223372036854775807", "3000-01-01T00:00:00Z",
		strconv.FormatInt(time.Now().UnixMilli(), 10), // milliseconds given as seconds
		strconv.FormatInt(time.Now().Add(25*time.Hour).Unix(), 10),
		"1999-12-31T23:59:59Z"}
	for _, value := range bad {
		for _, cmd := range [][]string{
			{"collect", "--now", value},
			{"render", "--out", filepath.Join(t.TempDir(), "site"), "--now", value},
			{"report", "--now", value},
			{"report", "--since", value},
		} {
			if cmd[1] == "--since" && value == "0" {
				continue // an age: since now
			}
			t.Run(cmd[0]+" "+cmd[len(cmd)-2]+" "+value, func(t *testing.T) {
				dataDir := filepath.Join(t.TempDir(), "data")
				args := append([]string{"--data-dir", dataDir}, cmd...)
				code, out, errOut := runCLICode(args...)
				flag := cmd[len(cmd)-2]
				if code != exitUsage || out != "" || !strings.Contains(errOut, flag+` "`+value+`": not a plausible time`) ||
					!strings.Contains(errOut, "give one from 2000-01-01T00:00:00Z to a day ahead of this machine's clock") {
					t.Errorf("dotm %s: exit %d, stdout %q, stderr %q; want exit 2 naming %s, the value and the window",
						strings.Join(cmd, " "), code, out, errOut, flag)
				}
				if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
					t.Errorf("dotm %s refused its time but created the store in %s (%v)", cmd[0], dataDir, err)
				}
			})
		}
	}
}

// The window's edges and both forms are accepted.
func TestParseTimeWindow(t *testing.T) {
	clock := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"946684800", 946684800, true},
		{"2000-01-01T00:00:00Z", 946684800, true},
		{"946684799", 0, false},
		{"2026-12-03T07:00:00Z", clock.Add(24 * time.Hour).Unix(), true},
		{"2026-12-03T07:00:01Z", 0, false},
		{"2026-12-03T08:00:00+02:00", clock.Add(23 * time.Hour).Unix(), true},
		{strconv.FormatInt(clock.Unix(), 10), clock.Unix(), true},
		{"yesterday", 0, false},
	} {
		got, err := parseTime("--now", tc.in, clock)
		if tc.ok && (err != nil || got.Unix() != tc.want) || !tc.ok && err == nil {
			t.Errorf("parseTime(%q) = %v, %v; want %d (ok %v)", tc.in, got.Unix(), err, tc.want, tc.ok)
		}
	}
}
