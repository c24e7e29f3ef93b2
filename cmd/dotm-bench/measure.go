package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// cost is what one child process took.
type cost struct {
	wall time.Duration
	cpu  time.Duration // user + system
	rss  int64         // peak resident set, bytes
}

func (c cost) String() string {
	return fmt.Sprintf("%.2f s, %.0f MB", c.wall.Seconds(), float64(c.rss)/1e6)
}

// measure runs dotm with args and returns its wall time, CPU time and
// peak RSS; the error carries its output.
func measure(ctx context.Context, bin string, args ...string) (cost, string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	c := cost{wall: time.Since(start)}
	if cmd.ProcessState != nil {
		c.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			c.rss = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	text := strings.TrimSpace(out.String())
	if err != nil {
		return c, text, fmt.Errorf("dotm %s: %w: %s", strings.Join(args, " "), err, text)
	}
	return c, text, nil
}

// best runs f n times and keeps the fastest run, with the highest peak
// RSS of all runs (memory is reported conservatively).
func best(n int, f func(i int) (cost, error)) (cost, error) {
	var b cost
	for i := range n {
		c, err := f(i)
		if err != nil {
			return b, err
		}
		rss := max(b.rss, c.rss)
		if i == 0 || c.wall < b.wall {
			b = c
		}
		b.rss = rss
	}
	return b, nil
}
