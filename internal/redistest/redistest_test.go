package redistest

import (
	"strconv"
	"strings"
	"testing"
)

// TestStartOnTakenPort: a server whose port another server took between
// picking and binding fails to start, instead of passing for ready
// because the other one answers PING.
func TestStartOnTakenPort(t *testing.T) {
	other := Start(t)
	bin := Require(t, "redis-server")
	dir := t.TempDir()
	s := &Server{Port: other.Port, Dir: dir, bin: bin,
		args: []string{"--port", strconv.Itoa(other.Port), "--bind", "127.0.0.1", "--save", "", "--dir", dir}}
	err := s.start()
	s.Stop()
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "Failed listening") {
		t.Fatalf("start on the taken port %d: %v, want an error saying redis-server exited", other.Port, err)
	}
}

func TestStartServes(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr()); err != nil {
		t.Fatal(err)
	}
}
