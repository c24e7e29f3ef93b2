package monitor

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestProcessServiceCheckResult(t *testing.T) {
	at := time.Unix(1700000000, 0)
	r := CheckResult{Host: "web01", Service: "dotm findings", State: 1, Output: "DOTM WARNING - web01: 1 unused",
		Long: []string{"unused service 11211 (memcached)", "line\nwith a newline"}, Perf: []string{"findings=1;0;;0", "unused=1;;;0"}}
	got, err := processServiceCheckResult(r, at)
	want := `[1700000000] PROCESS_SERVICE_CHECK_RESULT;web01;dotm findings;1;DOTM WARNING - web01: 1 unused|findings=1;0;;0 unused=1;;;0` +
		`\nunused service 11211 (memcached)\nline with a newline`
	if err != nil || got != want {
		t.Fatalf("got %q, %v\nwant %q", got, err, want)
	}

	long := r
	long.Long = []string{strings.Repeat("x", 3000), strings.Repeat("y", 3000)}
	got, err = processServiceCheckResult(long, at)
	if err != nil || len(got) >= maxCommandLine || strings.Contains(got, "y") || !strings.Contains(got, "xxx") {
		t.Errorf("long output: %d bytes, %v; want the first line kept, the second dropped, under %d bytes", len(got), err, maxCommandLine)
	}

	for name, bad := range map[string]CheckResult{
		"semicolon in host":  {Host: "web01;evil", Service: "s", Output: "x"},
		"newline in service": {Host: "web01", Service: "s\n[1] SHUTDOWN_PROGRAM", Output: "x"},
		"empty host":         {Service: "s", Output: "x"},
		"state 4":            {Host: "h", Service: "s", State: 4, Output: "x"},
	} {
		if got, err := processServiceCheckResult(bad, at); err == nil {
			t.Errorf("%s: got %q, want an error", name, got)
		}
	}
}

// fifo makes a FIFO in a new directory of mode dirMode, with mode mode.
func fifo(t *testing.T, dirMode, mode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rw")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "nagios.cmd")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// reader opens the FIFO for reading, as the core does, without blocking.
func reader(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readLines reads n lines from f (within 10 s).
func readLines(f *os.File, n int) string {
	_ = f.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	buf := make([]byte, 8192)
	for strings.Count(b.String(), "\n") < n {
		k, err := f.Read(buf)
		b.Write(buf[:k])
		if err != nil && err != io.EOF {
			break
		}
	}
	return b.String()
}

// pending is what f holds now, without waiting.
func pending(f *os.File) string {
	buf := make([]byte, 8192)
	_ = f.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	k, _ := f.Read(buf)
	return string(buf[:k])
}

// TestCommandFile writes to a real FIFO, as Nagios reads its command file.
func TestCommandFile(t *testing.T) {
	p := fifo(t, 0o750, 0o660)
	got := reader(t, p)
	r := CheckResult{Host: "db01", Service: "dotm findings", State: 0, Output: "DOTM OK - db01: 0 unused services"}
	if err := newCommandFile(p).Submit(context.Background(), []CheckResult{r, r}); err != nil {
		t.Fatal(err)
	}
	line := "] PROCESS_SERVICE_CHECK_RESULT;db01;dotm findings;0;DOTM OK - db01: 0 unused services\n"
	if s := readLines(got, 2); strings.Count(s, line) != 2 || !strings.HasPrefix(s, "[") || strings.Count(s, "\n") != 2 {
		t.Errorf("the core read %q, want two lines ending %q", s, line)
	}
}

// TestCommandFileRefused: what is not the core's command file is not
// written to, and the error says why.
func TestCommandFileRefused(t *testing.T) {
	r := []CheckResult{{Host: "db01", Service: "dotm findings", Output: "DOTM OK"}}
	regular := filepath.Join(t.TempDir(), "status.dat")
	if err := os.WriteFile(regular, []byte("info {\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "nagios.cmd")
	if err := os.Symlink(fifo(t, 0o755, 0o660), link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
		read             bool // a reader is there, as when the core runs
	}{
		{"status.dat", regular, "is not a FIFO", false},
		{"missing", filepath.Join(t.TempDir(), "nagios.cmd"), "does not exist", false},
		{"no reader", fifo(t, 0o755, 0o660), "nobody reads it", false},
		{"symlink", link, "symbolic link", false},
		{"world-writable FIFO", fifo(t, 0o755, 0o662), "every user may write it", true},
		{"world-writable directory", fifo(t, 0o1777, 0o660), "may be written by every user", true},
	}
	if os.Geteuid() == 0 {
		other := fifo(t, 0o755, 0o660)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name, path, want string
			read             bool
		}{"owned by another user", other, "owned by uid 65534", true})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got *os.File
			if c.read {
				got = reader(t, c.path)
			}
			err := newCommandFile(c.path).Submit(context.Background(), r)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, c.path, c.want)
			}
			if got != nil {
				if s := pending(got); s != "" {
					t.Errorf("the refused FIFO was written: %q", s)
				}
			}
		})
	}
}

func TestOpenSubmitterRefusesReadOnly(t *testing.T) {
	_, err := OpenSubmitter("nagios+https://dotm:secret@mon.example.com/nagios4/cgi-bin", Auth{})
	if err == nil || !strings.Contains(err.Error(), "only reads") || strings.Contains(err.Error(), "secret") {
		t.Errorf("got %v, want a refusal without the password", err)
	}
}
