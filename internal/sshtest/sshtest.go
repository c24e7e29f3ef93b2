// Package sshtest starts a real OpenSSH server for tests: on a free
// loopback port, with its own host key, accepting one generated client
// key for the current user.
package sshtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
)

// Server is a running sshd.
type Server struct {
	Port int
	// User may log in with ClientKey.
	User      string
	ClientKey string
	// HostPublicKey is the server's host key in known_hosts form
	// ("ssh-ed25519 AAAA...").
	HostPublicKey string
	// OtherPublicKey is a host key of no server, to stand for a changed one.
	OtherPublicKey string
	Dir            string
	setEnv         []string
}

// Start runs sshd for the test; it is skipped (failed with CI=true) when
// sshd or ssh-keygen is missing. Each setEnv ("NAME=value", e.g. a PATH
// that leaves a tool out) is set in every session sshd starts.
func Start(t testing.TB, setEnv ...string) *Server {
	t.Helper()
	sshd := redistest.Require(t, "/usr/sbin/sshd")
	keygen := redistest.Require(t, "ssh-keygen")
	redistest.Require(t, "ssh")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{User: u.Username, Dir: dir, ClientKey: filepath.Join(dir, "client_key"), setEnv: setEnv}
	for _, k := range []string{"host_key", "client_key", "other_key"} {
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "client_key.pub"))
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	s.HostPublicKey, s.OtherPublicKey = keyLine(t, dir, "host_key.pub"), keyLine(t, dir, "other_key.pub")
	_ = os.MkdirAll("/run/sshd", 0o755) // privilege separation directory, when root
	for range 3 {                       // a free port can be taken between FreePort and sshd's bind
		s.Port = redistest.FreePort(t)
		if err = s.run(t, sshd); err == nil {
			return s
		}
	}
	t.Fatal(err)
	return nil
}

// run writes the configuration for s.Port and starts sshd, stopped when
// the test ends. It returns once sshd's own log says it listens (another
// sshd that took the port would answer a dial too), or an error when sshd
// exits first or does not listen within 10 s.
func (s *Server) run(t testing.TB, sshd string) error {
	dir := s.Dir
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_key
AuthorizedKeysFile %s/authorized_keys
PidFile %s/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
`, s.Port, dir, dir, dir)
	for _, kv := range s.setEnv {
		cfg += fmt.Sprintf("SetEnv %q\n", kv)
	}
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logName := filepath.Join(dir, fmt.Sprintf("sshd-%d.log", s.Port))
	logf, err := os.Create(logName)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	want := fmt.Sprintf("Server listening on 127.0.0.1 port %d", s.Port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, _ := os.ReadFile(logName)
		if strings.Contains(string(log), want) {
			return nil
		}
		select {
		case <-done:
			log, _ = os.ReadFile(logName) // all it wrote before exiting
			return fmt.Errorf("sshd on port %d exited: %s", s.Port, bytes.TrimSpace(log))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sshd did not listen on %s within 10s: %s", s.Addr(), log)
		}
	}
}

// keyLine reads "TYPE BASE64" from a public key file.
func keyLine(t testing.TB, dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	f := strings.Fields(string(b))
	if err != nil || len(f) < 2 {
		t.Fatalf("read %s: %v", name, err)
	}
	return f[0] + " " + f[1]
}

// Addr is host:port.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// KnownHosts writes a known_hosts file with the given key line for this
// server and returns its path.
func (s *Server) KnownHosts(t testing.TB, keyLine string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := ""
	if keyLine != "" {
		line = fmt.Sprintf("[127.0.0.1]:%d %s\n", s.Port, keyLine)
	}
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
