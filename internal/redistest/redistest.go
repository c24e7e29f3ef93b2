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
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed, and CI=true: install it (see .ci/run)", name)
	}
	t.Skipf("%s is not installed; install it to run this test", name)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Server is a running redis-server.
type Server struct {
	Port int
	Dir  string
	cmd  *exec.Cmd
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d", s.Port) }

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// Start runs a redis-server with no persistence on a free loopback port;
// extra arguments are added to its command line.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Require(t, "redis-server")
	dir := t.TempDir()
	var lastErr error
	for range 3 { // a free port can be taken between FreePort and bind
		s := &Server{Port: FreePort(t), Dir: dir}
		args := append([]string{"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--protected-mode", "no"}, extra...)
		s.cmd = exec.Command(bin, args...)
		logf, _ := os.Create(filepath.Join(dir, fmt.Sprintf("redis-%d.log", s.Port)))
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
		if lastErr = s.cmd.Start(); lastErr != nil {
			t.Fatalf("start redis-server: %v", lastErr)
		}
		if lastErr = waitPing(s.Addr(), 10*time.Second); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
		s.Stop()
	}
	t.Fatalf("redis-server did not answer: %v", lastErr)
	return nil
}

// Stop kills the server and waits for it.
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
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
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
