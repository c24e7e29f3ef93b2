package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// commandFile writes external commands to the command file of Nagios or
// Naemon: the FIFO that command_file in nagios.cfg names, which the core
// creates when check_external_commands=1.
type commandFile struct {
	path string
}

func newCommandFile(path string) *commandFile { return &commandFile{path: path} }

// String names the file.
func (c *commandFile) String() string { return "command file " + c.path }

// Submit writes one PROCESS_SERVICE_CHECK_RESULT a result, each in one
// atomic write.
func (c *commandFile) Submit(ctx context.Context, results []CheckResult) error {
	f, err := c.open()
	if err != nil {
		return err
	}
	defer f.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = f.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Now()) })
	defer stop()
	errs := submitErrors{target: c.String()}
	now := time.Now()
	for _, r := range results {
		line, err := processServiceCheckResult(r, now)
		if err != nil {
			errs.add(r, err)
			continue
		}
		if _, err := f.WriteString(line + "\n"); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%v); is Nagios reading its commands?", context.Cause(ctx), err)
			}
			return fmt.Errorf("%s: write: %w", c, err)
		}
	}
	return errs.err(len(results))
}

// open opens the FIFO for writing, without following a symlink at its
// name and without blocking. It refuses what is not a FIFO (a status.dat
// takes no commands), and a FIFO someone else may have planted: one
// owned by a user other than us, root or the owner of its directory, one
// every user may write, or one in a directory every user may write.
func (c *commandFile) open() (*os.File, error) {
	fd, err := syscall.Open(c.path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	switch {
	case errors.Is(err, syscall.ENXIO):
		return nil, fmt.Errorf("%s: nobody reads it; is Nagios running, with check_external_commands=1?", c)
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%s: is a symbolic link; give the command file itself (command_file in nagios.cfg)", c)
	case errors.Is(err, syscall.ENOENT):
		return nil, fmt.Errorf("%s: does not exist; give command_file of nagios.cfg (e.g. /var/lib/nagios4/rw/nagios.cmd) "+
			"and make sure check_external_commands=1 and Nagios runs", c)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%s: permission denied; run as a user in the file's group (nagios, or www-data on Debian)", c)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	f := os.NewFile(uintptr(fd), c.path)
	if err := c.trusted(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// trusted checks the opened file and its directory (see open).
func (c *commandFile) trusted(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", c, err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		return fmt.Errorf("%s: is not a FIFO, so no monitoring core reads it (a status.dat takes no commands); "+
			"give the external command file, command_file in nagios.cfg (e.g. /var/lib/nagios4/rw/nagios.cmd), "+
			"or a livestatus+unix:// socket", c)
	}
	dir, err := os.Stat(filepath.Dir(c.path))
	if err != nil {
		return fmt.Errorf("%s: its directory: %w", c, err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	dst, _ := dir.Sys().(*syscall.Stat_t)
	switch {
	case st == nil || dst == nil:
		return fmt.Errorf("%s: cannot tell its owner", c)
	case dir.Mode().Perm()&0o002 != 0:
		return fmt.Errorf("%s: its directory %s may be written by every user, so anyone could have put the FIFO there "+
			"to read the results; use the command file in the core's own directory", c, filepath.Dir(c.path))
	case fi.Mode().Perm()&0o002 != 0:
		return fmt.Errorf("%s: every user may write it; give it the core's group only (chmod o-w)", c)
	case int(st.Uid) != os.Geteuid() && st.Uid != 0 && st.Uid != dst.Uid:
		return fmt.Errorf("%s: owned by uid %d, neither us (uid %d), root nor the owner of its directory (uid %d): "+
			"not the core's command file", c, st.Uid, os.Geteuid(), dst.Uid)
	}
	return nil
}
