package site

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// Lock keeps two renders from publishing into out at once: it takes a
// file lock beside out (.<name>.lock), waiting up to wait for another
// render to finish. The kernel drops the lock when its holder dies.
func Lock(ctx context.Context, out string, wait time.Duration) (unlock func(), err error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	// The site's parent may not exist yet (a first render into
	// /srv/www/dotm): create it, as publishing would.
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("create the directory of --out: %w", err)
	}
	l := flock.New(filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".lock"))
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err := l.TryLockContext(lctx, 50*time.Millisecond)
	if ok {
		return func() { _ = l.Unlock() }, nil
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock %s: %w", l.Path(), err)
	}
	return nil, fmt.Errorf("another render is publishing into %s; gave up after %s (raise --lock-wait, "+
		"or run renders one after another)", out, wait)
}
