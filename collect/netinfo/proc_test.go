package netinfo

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// capturedTCP is what testdata/proc-net-tcp.txt holds (see PROC.md).
var capturedTCP = []Socket{
	{Local: ap("0.0.0.0:2024"), State: StateListen},
	{Local: ap("127.0.0.1:18090"), State: StateListen},
	{Local: ap("127.0.0.1:56424"), Remote: ap("127.0.0.1:18092"), State: StateEstablished},
	{Local: ap("127.0.0.1:41636"), Remote: ap("127.0.0.1:18090"), State: StateEstablished},
	{Local: ap("127.0.0.1:18090"), Remote: ap("127.0.0.1:41636"), State: StateEstablished},
	{Local: ap("192.0.2.2:47780"), Remote: ap("203.0.113.80:80"), State: "TIME_WAIT"},
}

var capturedTCPInodes = []uint64{1060, 8826, 9443, 9440, 8906, 0}

// capturedTCP6 is what testdata/proc-net-tcp6.txt holds; the fourth line
// is an IPv4 connection accepted by a [::] listener (::ffff:127.0.0.1).
var capturedTCP6 = []Socket{
	{Local: ap("[::]:18092"), State: StateListen},
	{Local: ap("[::1]:18091"), State: StateListen},
	{Local: ap("[::1]:43820"), Remote: ap("[::1]:18091"), State: StateEstablished},
	{Local: ap("127.0.0.1:18092"), Remote: ap("127.0.0.1:56424"), State: StateEstablished},
	{Local: ap("[::1]:18091"), Remote: ap("[::1]:43820"), State: StateEstablished},
}

var capturedTCP6Inodes = []uint64{9421, 9417, 9441, 8907, 9442}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func skipUnlessLittleEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("testdata was captured on a little-endian machine")
	}
}

func TestParseProcNetTCPCaptured(t *testing.T) {
	skipUnlessLittleEndian(t)
	tests := []struct {
		file       string
		v6         bool
		wantSocks  []Socket
		wantInodes []uint64
	}{
		{"proc-net-tcp.txt", false, capturedTCP, capturedTCPInodes},
		{"proc-net-tcp6.txt", true, capturedTCP6, capturedTCP6Inodes},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			socks, inodes, err := parseProcNetTCP(f, tt.v6)
			if err != nil {
				t.Fatalf("parseProcNetTCP: %v", err)
			}
			if !reflect.DeepEqual(socks, tt.wantSocks) {
				t.Errorf("sockets\n got %v\nwant %v", socks, tt.wantSocks)
			}
			if !reflect.DeepEqual(inodes, tt.wantInodes) {
				t.Errorf("inodes got %v, want %v", inodes, tt.wantInodes)
			}
		})
	}
}

func TestParseProcNetTCPErrors(t *testing.T) {
	skipUnlessLittleEndian(t)
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	const good = "   0: 0100007F:46AA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8826 1 000000002a992a6a 100 0 0 10 0\n"
	tests := []struct {
		name, input string
		v6          bool
		wantErr     string
	}{
		{"short line", header + "   0: 0100007F:46AA 00000000:0000 0A\n", false, "line 2: 4 fields"},
		{"bad hex", header + strings.Replace(good, "0100007F", "0100007G", 1), false, "local address"},
		{"v6 address in tcp", header + strings.Replace(good, "0100007F", "00000000000000000000000001000000", 1), false, "want 8"},
		{"v4 address in tcp6", header + good, true, "want 32"},
		{"no port", header + strings.Replace(good, "00000000:0000", "000000000000", 1), false, "no port"},
		{"bad state", header + strings.Replace(good, " 0A ", " ZZ ", 1), false, "tcp state"},
		{"bad inode", header + strings.Replace(good, " 8826 ", " x ", 1), false, "inode"},
		{"long line", header + strings.Repeat("x", 70_000) + "\n", false, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseProcNetTCP(strings.NewReader(tt.input), tt.v6)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseProcNetTCPUnknownState(t *testing.T) {
	skipUnlessLittleEndian(t)
	in := "   0: 0100007F:46AA 00000000:0000 1F 00000000:00000000 00:00000000 00000000     0        0 8826 1\n"
	socks, _, err := parseProcNetTCP(strings.NewReader(in), false)
	if err != nil {
		t.Fatal(err)
	}
	if socks[0].State != "UNKNOWN" {
		t.Errorf("state %q, want UNKNOWN", socks[0].State)
	}
}

func TestParseProcNetTCPLimit(t *testing.T) {
	line := "   0: 0100007F:46AA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8826 1\n"
	in := strings.Repeat(line, 4)
	if _, _, err := parseProcNetTCPMax(strings.NewReader(in), false, 4); err != nil {
		t.Fatalf("4 lines with limit 4: %v", err)
	}
	_, _, err := parseProcNetTCPMax(strings.NewReader(in+line), false, 4)
	if err == nil || !strings.Contains(err.Error(), "more than 4 sockets") {
		t.Errorf("5 lines with limit 4: error %v, want \"more than 4 sockets\"", err)
	}
}

// fakeProc builds a procRoot with the captured net/tcp, no net/tcp6 and
// the given processes: pid -> comm and fd links.
func fakeProc(t *testing.T, procs map[string][]string) string {
	t.Helper()
	root := t.TempDir()
	tcp, err := os.ReadFile(filepath.Join("testdata", "proc-net-tcp.txt"))
	if err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(root, "net"))
	mustWrite(t, filepath.Join(root, "net", "tcp"), string(tcp))
	for pid, spec := range procs {
		dir := filepath.Join(root, pid)
		mustMkdir(t, filepath.Join(dir, "fd"))
		mustWrite(t, filepath.Join(dir, "comm"), spec[0]+"\n")
		for i, link := range spec[1:] {
			if err := os.Symlink(link, filepath.Join(dir, "fd", string(rune('0'+i)))); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadProcOwners(t *testing.T) {
	skipUnlessLittleEndian(t)
	root := fakeProc(t, map[string][]string{
		"5051": {"python3", "/dev/null", "pipe:[9362]", "socket:[8826]", "socket:[8906]"},
		"5179": {"python3", "socket:[9443]", "socket:[9440]"},
		// A forked child shares the listener; the lower PID is reported.
		"7000": {"worker", "socket:[8826]"},
		// Holds an inode that is not a TCP socket.
		"42": {"other", "socket:[1]"},
	})
	// A process whose fd directory cannot be read: the owner stays unknown.
	mustMkdir(t, filepath.Join(root, "9000"))
	// Not a process.
	mustMkdir(t, filepath.Join(root, "sys"))

	h, err := ReadProc(root)
	if err != nil {
		t.Fatalf("ReadProc: %v", err)
	}
	want := []struct {
		pid     int
		program string
	}{{0, ""}, {5051, "python3"}, {5179, "python3"}, {5179, "python3"}, {5051, "python3"}, {0, ""}}
	if len(h.Sockets) != len(want) {
		t.Fatalf("got %d sockets, want %d", len(h.Sockets), len(want))
	}
	for i, w := range want {
		s := h.Sockets[i]
		if s.PID != w.pid || s.Program != w.program {
			t.Errorf("socket %d %v: owner %d/%q, want %d/%q", i, s.Local, s.PID, s.Program, w.pid, w.program)
		}
		s.PID, s.Program = 0, ""
		if s != capturedTCP[i] {
			t.Errorf("socket %d: %v, want %v", i, s, capturedTCP[i])
		}
	}
}

func TestReadProcMissingTCP(t *testing.T) {
	_, err := ReadProc(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), filepath.Join("net", "tcp")) {
		t.Errorf("error %v, want one naming net/tcp", err)
	}
}

// TestReadProcReal opens a real listener and connection and looks for them
// in this machine's /proc, owned by the test process.
func TestReadProcReal(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	h, err := ReadProc("/proc")
	if err != nil {
		t.Fatalf("ReadProc: %v", err)
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	me := Socket{PID: os.Getpid(), Program: strings.TrimSpace(string(comm))}
	lnAddr := addrPortOf(t, ln.Addr())
	clientAddr := addrPortOf(t, client.LocalAddr())
	for _, want := range []Socket{
		{Local: lnAddr, State: StateListen, PID: me.PID, Program: me.Program},
		{Local: clientAddr, Remote: lnAddr, State: StateEstablished, PID: me.PID, Program: me.Program},
		{Local: lnAddr, Remote: clientAddr, State: StateEstablished, PID: me.PID, Program: me.Program},
	} {
		if !containsSocket(h.Sockets, want) {
			t.Errorf("socket %+v not found in ReadProc result", want)
		}
	}
	if host, _ := os.Hostname(); h.Hostname != host {
		t.Errorf("hostname %q, want %q", h.Hostname, host)
	}
	if !hasIP(h, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("127.0.0.1 not among interface addresses %v", h.IPs())
	}
}

func addrPortOf(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	p, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func containsSocket(socks []Socket, want Socket) bool {
	for _, s := range socks {
		if s == want {
			return true
		}
	}
	return false
}

func hasIP(h *Host, ip netip.Addr) bool {
	for _, a := range h.IPs() {
		if a == ip {
			return true
		}
	}
	return false
}
