package collect

import (
	"context"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/sshtest"
)

// TestHostileSSHHostKeys runs the ssh fetcher against a real sshd on loopback: with
// the right host key it reads this machine's real ss and ip output; an
// unknown or changed host key is refused with what to do.
func TestHostileSSHHostKeys(t *testing.T) {
	srv := sshtest.Start(t)
	conf := defaultConf(t)
	conf.SSHUser, conf.SSHKey = srv.User, srv.ClientKey
	target := Target{Name: "self", Address: srv.Addr(), Method: "ssh", Conf: conf}
	ctx := context.Background()

	t.Run("known host key", func(t *testing.T) {
		conf.SSHKnownHosts = srv.KnownHosts(t, srv.HostPublicKey)
		h, err := FetchSSH(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		listening := false
		for _, s := range h.Sockets {
			if s.State == "LISTEN" && s.Local.Port() == uint16(srv.Port) {
				listening = true // sshd itself
			}
		}
		if !listening || len(h.Interfaces) == 0 {
			t.Errorf("ss output lacks the sshd on %d or interfaces: %d sockets, %d interfaces",
				srv.Port, len(h.Sockets), len(h.Interfaces))
		}
	})
	t.Run("unknown host key", func(t *testing.T) {
		conf.SSHKnownHosts = srv.KnownHosts(t, "")
		_, err := FetchSSH(ctx, target)
		if err == nil || !strings.Contains(err.Error(), "host key of 127.0.0.1 is unknown") ||
			!strings.Contains(err.Error(), "ssh-keyscan -p ") {
			t.Errorf("err = %v, want the host named and how to accept its key", err)
		}
	})
	t.Run("changed host key", func(t *testing.T) {
		conf.SSHKnownHosts = srv.KnownHosts(t, srv.OtherPublicKey)
		_, err := FetchSSH(ctx, target)
		if err == nil || !strings.Contains(err.Error(), "has CHANGED") {
			t.Errorf("err = %v, want a changed host key refused", err)
		}
	})
}
