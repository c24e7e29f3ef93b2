package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gofrs/flock"
	"github.com/redis/go-redis/v9"
)

// The embedded store is miniredis (an in-process implementation of nearly
// all of Redis, including Lua, blocking pops and MULTI/EXEC) made durable:
// it is loaded from a data file when opened and written back, atomically,
// when it is closed or checkpointed. A flock on the directory keeps a
// second process out while one has it open; the kernel drops that lock when
// its holder dies, so a crashed run never leaves the store locked.
//
// Because the data file is replaced by rename only after it was written and
// synced, a process killed at any moment leaves either the previous complete
// state or the new complete state, never a mix.
type embedded struct {
	dir   string
	lock  *flock.Flock
	mr    *miniredis.Miniredis
	dirty atomic.Bool
	// expiring is set once some key has a TTL; only then does the clock
	// move miniredis's TTLs (which costs a walk over every key).
	expiring atomic.Bool
	stop     chan struct{}
	mu       sync.Mutex   // serialises save
	gate     sync.RWMutex // commands hold it shared; save copies the keys holding it alone
}

const (
	dataFile  = "dotm.db"
	lockFile  = "lock"
	ownerFile = "owner"
)

// DefaultDataDir is where the embedded store lives when no directory is
// given: /var/lib/dotm for root, else $XDG_STATE_HOME/dotm
// (~/.local/state/dotm).
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/dotm"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "dotm")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "dotm")
	}
	return filepath.Join(os.TempDir(), "dotm-"+strconv.Itoa(os.Getuid()))
}

func openEmbedded(ctx context.Context, opts Options) (*Store, error) {
	dir := opts.DataDir
	if dir == "" {
		dir = DefaultDataDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w; choose another with --data-dir", dir, err)
	}
	// The lock file is opened without following a symbolic link, so a
	// link planted there never makes dotm create or open its target.
	lock := flock.New(filepath.Join(dir, lockFile), flock.SetFlag(os.O_CREATE|os.O_RDONLY|syscall.O_NOFOLLOW))
	e := &embedded{dir: dir, lock: lock}
	if err := e.acquire(ctx, opts.LockWait); err != nil {
		return nil, err
	}
	// Holding the lock, any temporary file is a leftover of a killed save.
	tmps, _ := filepath.Glob(filepath.Join(dir, dataFile+".tmp-*"))
	for _, f := range tmps {
		_ = os.Remove(f)
	}
	e.mr = miniredis.NewMiniRedis()
	expired, err := e.load()
	if err != nil {
		e.release()
		return nil, err
	}
	e.dirty.Store(expired > 0)
	// Dialling once starts miniredis's listener-less server, which the
	// dialer below then hands each connection to.
	if c, err := e.mr.Dial(); err == nil {
		c.Close()
	}
	rdb := redis.NewClient(&redis.Options{
		Addr:            "embedded",
		Dialer:          func(context.Context, string, string) (net.Conn, error) { return e.dial(), nil },
		DisableIdentity: true,
		// The server runs in this process and answers every command it
		// was sent: a socket deadline would only turn a large or busy
		// store into a broken one. The caller's context deadline still
		// applies.
		ReadTimeout:           -1,
		WriteTimeout:          -1,
		ContextTimeoutEnabled: true,
	})
	rdb.AddHook(dirtyHook{e})
	e.stop = make(chan struct{})
	go e.clock()
	return &Store{rdb: rdb, emb: e, kind: "embedded", where: dir}, nil
}

// acquire takes the directory's lock, waiting up to wait for another
// process to let go of it.
func (e *embedded) acquire(ctx context.Context, wait time.Duration) error {
	if wait <= 0 {
		wait = DefaultLockWait
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err := e.lock.TryLockContext(lctx, 50*time.Millisecond)
	if ok {
		owner := fmt.Sprintf("pid %d: %s, since %s\n", os.Getpid(),
			strings.Join(os.Args, " "), time.Now().Format(time.RFC3339))
		if err := writeOwner(filepath.Join(e.dir, ownerFile), owner); err != nil {
			_ = e.lock.Unlock()
			return err
		}
		return nil
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("lock data directory %s: %w; if %s is a symbolic link, remove it",
			e.dir, err, filepath.Join(e.dir, lockFile))
	}
	return fmt.Errorf("embedded store %s is in use by another dotm process (%s); gave up after %s. "+
		"Let that run finish, wait longer with --lock-wait, or use a Redis server (--redis) "+
		"when several processes must work at once", e.dir, readOwner(filepath.Join(e.dir, ownerFile)), wait)
}

// writeOwner records who holds the store in path. It never follows a
// symbolic link nor writes through a second hard link, so a link planted
// there cannot make dotm overwrite another file; such a file is refused.
func writeOwner(path, owner string) error {
	refuse := func(why string) error {
		return fmt.Errorf("embedded store owner file %s %s: dotm only writes a plain file of its own there; "+
			"remove it (rm %s) and run again", path, why, path)
	}
	// No O_TRUNC: the file is checked before anything in it changes.
	// O_NONBLOCK keeps a FIFO planted there from blocking the open.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return refuse("is a symbolic link")
	}
	if err != nil {
		return fmt.Errorf("write embedded store owner file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("write embedded store owner file: %w", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.Mode().IsRegular():
		return refuse("is not a regular file")
	case st != nil && st.Nlink > 1:
		return refuse("has other hard links")
	case st != nil && int(st.Uid) != os.Geteuid():
		return refuse(fmt.Sprintf("belongs to uid %d", st.Uid))
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("write embedded store owner file: %w", err)
	}
	if _, err := f.WriteString(owner); err != nil {
		return fmt.Errorf("write embedded store owner file: %w", err)
	}
	return nil
}

// readOwner is what the owner file at path says, for a message: at most
// a line of it, quoted, and nothing when it is not a plain file (a link is
// not followed).
func readOwner(path string) string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "owner unknown"
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "owner unknown"
	}
	b, _ := io.ReadAll(io.LimitReader(f, 512))
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Quote(strings.TrimSpace(line))
}

// dial connects a client to the embedded server in memory.
func (e *embedded) dial() net.Conn {
	client, server := net.Pipe()
	e.mr.Server().ServeConn(newAsyncWriteConn(server))
	return client
}

func (e *embedded) release() {
	_ = os.Remove(filepath.Join(e.dir, ownerFile))
	_ = e.lock.Unlock()
}

// clock moves TTLs forward with the wall clock, once a second, while some
// key has one. (miniredis's own ClockTTL does this on every access, which
// costs a sorted walk over all keys each time: quadratic on big stores.)
func (e *embedded) clock() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			if e.expiring.Load() {
				e.mr.FastForward(now.Sub(last))
			}
			last = now
		}
	}
}

func (e *embedded) close() error {
	close(e.stop)
	err := e.save()
	e.mr.Close()
	e.release()
	return err
}

// dirtyHook marks the embedded store changed whenever a command that is not
// read-only goes through the client, so a read-only run rewrites nothing.
type dirtyHook struct{ e *embedded }

func (h dirtyHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h dirtyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mark(cmd)
		h.e.gate.RLock()
		defer h.e.gate.RUnlock()
		return next(ctx, cmd)
	}
}

func (h dirtyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.mark(c)
		}
		h.e.gate.RLock()
		defer h.e.gate.RUnlock()
		return next(ctx, cmds)
	}
}

func (h dirtyHook) mark(cmd redis.Cmder) {
	name := strings.ToUpper(cmd.Name())
	if !h.e.expiring.Load() && setsTTL(name, cmd.Args()) {
		h.e.expiring.Store(true)
	}
	if h.e.dirty.Load() {
		return
	}
	switch name {
	case "MULTI", "EXEC", "PING", "HELLO", "SELECT", "CLIENT", "DISCARD", "WATCH", "UNWATCH":
	default:
		if !h.e.mr.IsReadOnlyCommand(name) {
			h.e.dirty.Store(true)
		}
	}
}

// setsTTL reports whether a command gives a key an expiry.
func setsTTL(name string, args []any) bool {
	switch name {
	case "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "SETEX", "PSETEX", "GETEX", "RESTORE":
		return true
	case "SET":
		for _, a := range args[min(3, len(args)):] {
			if s, ok := a.(string); ok {
				switch strings.ToUpper(s) {
				case "EX", "PX", "EXAT", "PXAT", "KEEPTTL":
					return true
				}
			}
		}
	}
	return false
}
