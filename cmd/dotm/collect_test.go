package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestHostileStaleLockSpeaksUnderQuiet leaves an update lock in a real
// Redis as a collect run that died 20 minutes ago would: "collect
// --quiet" steps aside and says so on stderr (for cron's mail), naming
// the holder and its age. A lock taken a moment ago stays quiet.
func TestHostileStaleLockSpeaksUnderQuiet(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	hold := func(age time.Duration) {
		t.Helper()
		since := time.Now().Add(-age)
		err := rdb.HSet(ctx, "dotm::state", "update_running", "1", "update_running_owner", "0123",
			"update_running_until", strconv.FormatInt(since.Add(time.Hour).Unix(), 10),
			"update_running_by", "batch07 pid 4242", "update_running_since", strconv.FormatInt(since.Unix(), 10)).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
	hold(20 * time.Minute)
	code, out, errOut := runCLICode("--redis", srv.URL(), "collect", "--quiet")
	if code != 0 || out != "" || !strings.Contains(errOut, "held by batch07 pid 4242") || (!strings.Contains(errOut, "(20m0s ago") &&
		!strings.Contains(errOut, "(20m1s ago")) {
		t.Errorf("collect --quiet with a 20-minute-old lock: exit %d, stdout %q, stderr %q; want the holder and its age on stderr", code, out, errOut)
	}
	hold(time.Second)
	if code, out, errOut := runCLICode("--redis", srv.URL(), "collect", "--quiet"); code != 0 || out != "" || errOut != "" {
		t.Errorf("collect --quiet with a fresh lock: exit %d, stdout %q, stderr %q; want silence", code, out, errOut)
	}
	if code, out, _ := runCLICode("--redis", srv.URL(), "collect"); code != 0 || !strings.Contains(out, "held by batch07 pid 4242") {
		t.Errorf("collect with a fresh lock: exit %d, stdout %q; want the holder named", code, out)
	}
}
