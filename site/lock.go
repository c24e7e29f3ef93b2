package site

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lwindolf/dotm/internal/nofollow"
)

// LockName is the name of the lock file beside out: ".<base>.lock".
func LockName(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("site: output directory %s: %w", out, err)
	}
	return filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".lock"), nil
}

// Lock keeps two renders from publishing into out at once: it takes a
// file lock beside out (.<name>.lock), waiting up to wait for another
// render to finish. The kernel drops the lock when its holder dies.
//
// out is checked as New checks it before anything is created: a refused
// out (the file system root, a file, a directory dotm did not write)
// leaves no lock file and no directory behind. The lock file is opened
// without following a symlink and must be a regular file: a symlink or
// anything else planted there is refused, and its target is neither
// created nor changed.
func Lock(ctx context.Context, out string, wait time.Duration) (unlock func(), err error) {
	if _, err := checkOut(out); err != nil {
		return nil, err
	}
	path, err := LockName(out)
	if err != nil {
		return nil, err
	}
	// The site's parent may not exist yet (a first render into
	// /srv/www/dotm): create it, as publishing would.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("site: create the directory of --out: %w", err)
	}
	f, err := nofollow.Open(filepath.Dir(path), filepath.Base(path), os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, nofollow.ErrNotRegular) {
		return nil, fmt.Errorf("site: refusing the lock file %s: it is a symlink or not a regular file "+
			"(planted by someone?); remove it and render again", path)
	}
	if err != nil {
		return nil, fmt.Errorf("site: lock file: %w", err)
	}
	if err := waitFlock(ctx, f, wait); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another render is publishing into %s; gave up after %s (raise --lock-wait, "+
				"or run renders one after another)", out, wait)
		}
		return nil, fmt.Errorf("site: lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing drops the lock
}

// waitFlock takes an exclusive flock on f, trying every 50ms for up to
// wait; it returns EWOULDBLOCK when another holder kept it all along.
func waitFlock(ctx context.Context, f *os.File, wait time.Duration) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	try := func() error {
		var ferr error
		if err := raw.Control(func(fd uintptr) {
			for {
				ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
				if ferr != syscall.EINTR {
					return
				}
			}
		}); err != nil {
			return err
		}
		return ferr
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := try()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return err
		case <-tick.C:
		}
	}
}
