package monitor

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// Submit sends one COMMAND [time] PROCESS_SERVICE_CHECK_RESULT a result,
// each on its own connection, as Livestatus takes commands. Livestatus
// answers a command with nothing; anything it sends back is its error.
func (l *livestatus) Submit(ctx context.Context, results []CheckResult) error {
	ctx, cancel := withDefaultTimeout(ctx, livestatusTimeout)
	defer cancel()
	errs := submitErrors{target: l.String()}
	now := time.Now()
	for _, r := range results {
		line, err := processServiceCheckResult(r, now)
		if err == nil {
			err = l.command(ctx, "COMMAND "+line+"\n\n")
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", l, err)
			}
			errs.add(r, err)
		}
	}
	return errs.err(len(results))
}

// command sends one command and waits until Livestatus closes the
// connection.
func (l *livestatus) command(ctx context.Context, cmd string) error {
	c, done, err := l.dial(ctx)
	if err != nil {
		return err
	}
	defer done()
	if _, err := io.WriteString(c, cmd); err != nil {
		return fmt.Errorf("send command: %v", l.ctxErr(ctx, err))
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	answer, err := io.ReadAll(io.LimitReader(c, 4096))
	if err != nil {
		return fmt.Errorf("after the command: %v", l.ctxErr(ctx, err))
	}
	if msg := strings.TrimSpace(string(answer)); msg != "" {
		return fmt.Errorf("command refused: %s", livestatusMessage(answer))
	}
	return nil
}
