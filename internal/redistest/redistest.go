// Package redistest starts real redis-server processes for tests, on free
// loopback ports, and stops them when the test ends.
//
// When redis-server is not installed the test is skipped, except under
// CI=true, where a missing dependency fails the test: CI must not pass by
// skipping what it was meant to run.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Require returns the path of a command the test needs, skipping (or under
// CI=true failing) the test when it is missing.
func Require(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if MustHave() {
		t.Fatalf("%s is not installed, and CI=true: install it (see .ci/run)", name)
	}
	t.Skipf("%s is not installed; install it to run this test", name)
	return ""
}

// MustHave reports whether missing dependencies fail tests (CI=true)
// instead of skipping them.
func MustHave() bool { return os.Getenv("CI") == "true" }

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := FreePortErr()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FreePortErr is FreePort for callers without a testing.TB.
func FreePortErr() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Server is a running redis-server.
type Server struct {
	Port int
	Dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	bin  string
	args []string
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d", s.Port) }

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Start runs a redis-server with no persistence on a free loopback port
// for the test; extra arguments are added to its command line.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Require(t, "redis-server")
	s, err := StartServer(bin, t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServer runs the redis-server bin in dir, on a free loopback port,
// and waits until it answers. The caller stops it.
func StartServer(bin, dir string, extra ...string) (*Server, error) {
	var lastErr error
	for range 3 { // a free port can be taken between FreePortErr and bind
		port, err := FreePortErr()
		if err != nil {
			return nil, err
		}
		s := &Server{Port: port, Dir: dir, bin: bin}
		s.args = append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"}, extra...)
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, fmt.Errorf("redis-server did not answer: %w", lastErr)
}

// start runs the server and waits until it listens and answers. It
// trusts the port only once the server's own log says it accepts
// connections: another test's server that took the port in the meantime
// answers PING too.
func (s *Server) start() error {
	logName := filepath.Join(s.Dir, fmt.Sprintf("redis-%d.log", s.Port))
	logf, err := os.OpenFile(logName, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open redis-server log: %w", err)
	}
	defer logf.Close()
	fi, err := logf.Stat()
	if err != nil {
		return fmt.Errorf("redis-server log %s: %w", logName, err)
	}
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	s.done = done
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()
	if err := s.waitReady(logName, fi.Size(), 10*time.Second); err != nil {
		return err
	}
	return waitPing(s.Addr(), 10*time.Second)
}

// waitReady waits until the log, from offset on, says the server accepts
// connections, failing when the server exits first (a taken port: redis-
// server logs the bind error and exits).
func (s *Server) waitReady(logName string, offset int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		log, _ := os.ReadFile(logName)
		if int64(len(log)) >= offset {
			log = log[offset:]
		}
		if l := strings.ToLower(string(log)); strings.Contains(l, "ready to accept connections") ||
			strings.Contains(l, "sentinel id is") { // a sentinel says only that, once it listens
			return nil
		}
		select {
		case <-s.done:
			log, _ = os.ReadFile(logName) // all it wrote before exiting
			if int64(len(log)) >= offset {
				log = log[offset:]
			}
			return fmt.Errorf("redis-server on port %d exited: %s", s.Port, lastLine(log))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on port %d not ready within %v: %s", s.Port, limit, lastLine(log))
		}
	}
}

// lastLine is the last line of a log, for errors.
func lastLine(log []byte) string {
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	return lines[len(lines)-1]
}

// Restart starts the server again, after Stop, on the same port and in
// the same directory: with persistence on, it loads what it saved.
func (s *Server) Restart() error {
	s.Stop()
	return s.start()
}

// Stop kills the server and waits for it.
func (s *Server) Stop() {
	if s.done == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.done = nil
}

// waitPing waits until a Redis server at addr answers PING.
func waitPing(addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var err error
	for ctx.Err() == nil {
		if err = ping(addr); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" && !strings.HasPrefix(line, "-NOAUTH") { // a password-protected server is up too
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
