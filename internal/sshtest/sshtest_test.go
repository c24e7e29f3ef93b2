package sshtest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	s := Start(t)
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	banner := make([]byte, 4)
	if _, err := c.Read(banner); err != nil || string(banner) != "SSH-" {
		t.Fatalf("banner %q, %v; want SSH-", banner, err)
	}
}

// TestStartOnTakenPort: an sshd whose port another one took between
// picking and binding is an error, not a server ready on that port.
func TestStartOnTakenPort(t *testing.T) {
	other := Start(t)
	s := &Server{Port: other.Port, Dir: t.TempDir()}
	for _, f := range []string{"host_key", "authorized_keys"} {
		b, err := os.ReadFile(filepath.Join(other.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.Dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := s.run(t, "/usr/sbin/sshd")
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("sshd on the taken port %d: %v, want an error saying sshd exited: address in use", other.Port, err)
	}
}
