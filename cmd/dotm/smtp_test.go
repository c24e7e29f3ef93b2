package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// silentSMTP is a TCP server that accepts connections and never writes a
// byte: an SMTP server that never greets, an agent that never answers. Each accepted connection is
// announced on the returned channel and held open until the test ends.
func silentSMTP(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), ch
}

// An SMTP server that accepts and never greets makes the report fail
// after --smtp-timeout with a message naming the server, not hang.
func TestHostileSMTPNeverGreets(t *testing.T) {
	addr, _ := silentSMTP(t)
	code, _, errOut := runCLICode("--data-dir", t.TempDir(), "report", "--mail-to", "ops@example.com",
		"--smtp", addr, "--smtp-tls", "none", "--smtp-timeout", "2s")
	if code != exitFailure || !strings.Contains(errOut, "send the report through "+addr) ||
		!strings.Contains(errOut, "--smtp-timeout 2s") {
		t.Errorf("report through a server that never greets: exit %d, %s", code, errOut)
	}
	// Implicit TLS: the handshake is bounded too.
	code, _, errOut = runCLICode("--data-dir", t.TempDir(), "report", "--mail-to", "ops@example.com",
		"--smtp", addr, "--smtp-tls", "tls", "--smtp-timeout", "2s")
	if code != exitFailure || !strings.Contains(errOut, "send the report through "+addr) ||
		!strings.Contains(errOut, "TLS handshake") {
		t.Errorf("report over TLS to a server that never answers: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLICode("report", "--mail-to", "a@example.com", "--smtp", addr, "--smtp-timeout", "0s"); code != exitUsage ||
		!strings.Contains(errOut, "--smtp-timeout must be positive") {
		t.Errorf("--smtp-timeout 0s: exit %d, %s", code, errOut)
	}
}

// A dotm process waiting for a peer that accepts and never answers (an
// SMTP server that never greets, an agent that never writes) stops
// promptly on SIGTERM, saying so, even with long timeouts.
func TestHostileHangStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "dotm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, c := range []struct {
		name string
		prep []string // run first, with --data-dir; %s: the peer's address
		args func(dataDir, addr string) []string
		want string // %s: the peer's address
	}{
		{"report", nil, func(dataDir, addr string) []string {
			return []string{"--data-dir", dataDir, "report", "--mail-to", "ops@example.com",
				"--smtp", addr, "--smtp-tls", "none", "--smtp-timeout", "10m"}
		}, "send the report through %s: stopped"},
		// An agent that accepts and never answers (the same silent peer).
		{"collect", []string{"nodes", "add", "--method", "agent", "silent=%s"}, func(dataDir, addr string) []string {
			return []string{"--data-dir", dataDir, "collect", "--timeout", "10m"}
		}, "collect interrupted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, accepted := silentSMTP(t)
			dataDir := filepath.Join(t.TempDir(), "data")
			if c.prep != nil {
				args := []string{"--data-dir", dataDir}
				for _, a := range c.prep {
					args = append(args, strings.ReplaceAll(a, "%s", addr))
				}
				if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
					t.Fatalf("dotm %v: %v\n%s", args, err, out)
				}
			}
			cmd := exec.Command(bin, c.args(dataDir, addr)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			select {
			case <-accepted:
			case err := <-done:
				t.Fatalf("dotm %s ended before connecting: %v\n%s", c.name, err, stderr.String())
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != exitFailure {
					t.Errorf("dotm %s after SIGTERM: %v, want exit status 1", c.name, err)
				}
				if msg := stdout.String() + stderr.String(); !strings.Contains(msg, strings.ReplaceAll(c.want, "%s", addr)) {
					t.Errorf("dotm %s after SIGTERM said %q", c.name, msg)
				}
				t.Logf("dotm %s after SIGTERM: %v: %s%s", c.name, err, stdout.String(), stderr.String())
			case <-time.After(20 * time.Second): // a failure guard, not a measurement
				t.Fatalf("dotm %s still running 20s after SIGTERM\n%s", c.name, stderr.String())
			}
		})
	}
}

// The SMTP password comes from --smtp-password-file first, then from the
// systemd credential (LoadCredential=smtp-password:…), then from
// DOTM_SMTP_PASSWORD.
func TestSMTPPasswordSources(t *testing.T) {
	creds := t.TempDir()
	file := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "smtp-password"), []byte("from-credential\n"), 0o600)
	vars := map[string]string{"CREDENTIALS_DIRECTORY": creds, "DOTM_SMTP_PASSWORD": "from-env"}
	e := &env{getenv: func(k string) string { return vars[k] }}
	for _, c := range []struct {
		file, want string
		unset      string
	}{
		{file: file, want: "from-file"},
		{want: "from-credential"},
		{unset: "CREDENTIALS_DIRECTORY", want: "from-env"},
	} {
		delete(vars, c.unset)
		got, err := smtpPassword(e, reportOpts{smtpUser: "dotm", smtpPasswordFile: c.file})
		if err != nil || got != c.want {
			t.Errorf("password with file %q, env %v: %q, %v; want %q", c.file, vars, got, err, c.want)
		}
	}
}
