// Package nofollow opens files that another user may have planted a
// symlink at: the lock file beside a site, a note, a store's bookkeeping
// files. A file is opened only if it is a regular file inside the given
// directory, reached without following a symlink at its own name.
package nofollow

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// ErrNotRegular is returned (wrapped, with the path) for a name that is a
// symlink, a directory, a FIFO, a device or anything else but a regular
// file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens the file at rel inside dir with flag (os.O_RDONLY,
// os.O_RDWR|os.O_CREATE, ...) and, when it creates the file, perm.
//
// rel is a slash path relative to dir. Its directories are resolved in an
// os.Root of dir, so neither ".." nor a symlink can lead outside dir. Its
// last component is opened with O_NOFOLLOW: a symlink there is refused
// (ErrNotRegular), whether it points at an existing file or nowhere, and
// nothing is created at its target. What is opened must be a regular
// file; a FIFO or device is refused without blocking on it and before
// anything is read or written. The error names the path.
func Open(dir, rel string, flag int, perm fs.FileMode) (*os.File, error) {
	full := path.Join(dir, rel)
	if !fs.ValidPath(rel) || rel == "." {
		return nil, &fs.PathError{Op: "open", Path: full, Err: fs.ErrInvalid}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	parent, err := root.Open(path.Dir(rel))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: errors.Unwrap(err)}
	}
	defer parent.Close()
	raw, err := parent.SyscallConn()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: err}
	}
	var fd int
	var oerr error
	cerr := raw.Control(func(dirfd uintptr) {
		for {
			fd, oerr = syscall.Openat(int(dirfd), path.Base(rel),
				flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOCTTY, uint32(perm.Perm()))
			if oerr != syscall.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: cerr}
	}
	if oerr == syscall.ELOOP || oerr == syscall.EISDIR {
		// ELOOP: the name is a symlink (O_NOFOLLOW).
		return nil, &fs.PathError{Op: "open", Path: full, Err: ErrNotRegular}
	}
	if oerr != nil {
		return nil, &fs.PathError{Op: "open", Path: full, Err: oerr}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		_ = syscall.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: full, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		_ = syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: full, Err: ErrNotRegular}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		_ = syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: full, Err: err}
	}
	return os.NewFile(uintptr(fd), full), nil
}

// ReadFile reads the regular file at rel inside dir, as Open does, up to
// limit bytes; a longer file is an error naming it.
func ReadFile(dir, rel string, limit int64) ([]byte, error) {
	f, err := Open(dir, rel, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: longer than %d bytes", f.Name(), limit)
	}
	return b, nil
}
