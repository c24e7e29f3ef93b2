package montest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
)

// daemon is a monitoring daemon run in the foreground as a child of the
// test binary.
type daemon struct {
	name  string        // for messages
	grace time.Duration // how long Stop waits after SIGTERM
	cmd   *exec.Cmd
	done  chan error
}

// run starts cmd with its output in logFile.
func (d *daemon) run(cmd *exec.Cmd, logFile string) error {
	out, err := os.Create(logFile)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	d.cmd = cmd
	done := make(chan error, 1) // local: Stop clears d.done while Wait runs
	d.done = done
	go func() {
		done <- cmd.Wait()
		out.Close()
	}()
	return nil
}

// Stop terminates the daemon (SIGTERM, SIGKILL after its grace time) and
// waits for it. Stopping a stopped daemon does nothing.
func (d *daemon) Stop() error {
	if d.done == nil {
		return nil
	}
	done := d.done
	d.done = nil
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(d.grace):
		_ = d.cmd.Process.Kill()
		<-done
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed it", d.name, d.grace)
	}
}

// exited reports whether the daemon is gone.
func (d *daemon) exited() bool {
	if d.done == nil {
		return true
	}
	select {
	case err := <-d.done:
		d.done <- err // keep it for Stop
		return true
	default:
		return false
	}
}

// requireDaemon returns the path of a daemon binary after checking the
// check plugins it runs, skipping the test (failing it under CI=true) when
// something is not installed.
func requireDaemon(t testing.TB, binary string, plugins []string) string {
	t.Helper()
	bin, err := exec.LookPath(binary)
	if err != nil { // /usr/sbin is not in every user's PATH
		bin = redistest.Require(t, filepath.Join("/usr/sbin", binary))
	}
	for _, p := range plugins {
		redistest.Require(t, filepath.Join(PluginDir, p))
	}
	return bin
}
