package netinfo

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"testing"
)

// TestRoundTripProcAgent reads this machine with ReadProc, writes the
// answer with WriteAgent and parses it back with ParseAgent: the parser
// must get the same host.
func TestRoundTripProcAgent(t *testing.T) {
	h, err := ReadProc("/proc")
	if err != nil {
		// Only a sandbox that forbids reading /proc is a reason to skip,
		// and not under CI, where the test must run.
		if errors.Is(err, os.ErrPermission) && os.Getenv("CI") != "true" {
			t.Skipf("reading /proc is not permitted here: %v", err)
		}
		t.Fatalf("ReadProc(/proc): %v", err)
	}
	var buf bytes.Buffer
	if err := WriteAgent(&buf, h); err != nil {
		t.Fatal(err)
	}
	got, err := ParseAgent(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("ParseAgent of WriteAgent output: %v\n%s", err, buf.Bytes())
	}
	if want := sanitize(h.Hostname, true); got.Hostname != want {
		t.Errorf("hostname %q, want %q", got.Hostname, want)
	}
	if len(got.Sockets) != len(h.Sockets) {
		t.Fatalf("%d sockets, want %d\n%s", len(got.Sockets), len(h.Sockets), buf.Bytes())
	}
	for i, want := range h.Sockets {
		if want.PID != 0 {
			want.Program = sanitize(want.Program, true)
		}
		if got.Sockets[i] != want {
			t.Errorf("socket %d: got %+v, want %+v", i, got.Sockets[i], want)
		}
	}
	if len(got.Interfaces) != len(h.Interfaces) {
		t.Fatalf("%d interfaces, want %d\n%s", len(got.Interfaces), len(h.Interfaces), buf.Bytes())
	}
	for i, want := range h.Interfaces {
		g := got.Interfaces[i]
		if g.Name != want.Name || len(g.Addrs) != len(want.Addrs) || (len(want.Addrs) > 0 && !reflect.DeepEqual(g.Addrs, want.Addrs)) {
			t.Errorf("interface %d: got %+v, want %+v", i, g, want)
		}
	}
}

// TestRoundTripEdgeCases writes a host with the awkward cases through
// WriteAgent and ParseAgent; the parser gets what WriteAgent documents.
func TestRoundTripEdgeCases(t *testing.T) {
	h := &Host{
		Hostname: "web1.example.org",
		Sockets: []Socket{
			{Local: ap("0.0.0.0:22"), State: StateListen, PID: 1, Program: "sshd"},
			{Local: ap("[::]:22"), State: StateListen, PID: 1, Program: "sshd"},
			{Local: ap("[2001:db8:1234:5678:9abc:def0:1234:5678]:443"), Remote: ap("[2001:db8::1]:50000"), State: StateEstablished, PID: 4194304, Program: "a-long-program-nm"},
			{Local: ap("[fe80::1%eth0]:22"), Remote: ap("[fe80::2%eth0]:40000"), State: StateEstablished, PID: 2, Program: "tmux: server"},
			{Local: ap("10.0.0.1:5432"), Remote: ap("10.0.0.2:40000"), State: "TIME_WAIT"},
			{Local: ap("10.0.0.1:80"), Remote: ap("10.0.0.3:40000"), State: StateEstablished, PID: 3, Program: "evil\nprog\x00"},
		},
		Interfaces: []Interface{
			{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
			{Name: "dummy0"},
			{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24"), netip.MustParsePrefix("fe80::1/64")}},
		},
	}
	want := *h
	want.Sockets = append([]Socket(nil), h.Sockets...)
	want.Sockets[3].Local = ap("[fe80::1]:22")
	want.Sockets[3].Remote = ap("[fe80::2]:40000")
	want.Sockets[3].Program, want.Sockets[3].Title = "tmux", "tmux: server"
	want.Sockets[5].Program = "evil?prog?"

	var buf bytes.Buffer
	if err := WriteAgent(&buf, h); err != nil {
		t.Fatal(err)
	}
	got, err := ParseAgent(&buf)
	if err != nil {
		t.Fatalf("ParseAgent: %v", err)
	}
	if got.Hostname != want.Hostname {
		t.Errorf("hostname %q, want %q", got.Hostname, want.Hostname)
	}
	if !reflect.DeepEqual(got.Sockets, want.Sockets) {
		t.Errorf("sockets\n got %+v\nwant %+v", got.Sockets, want.Sockets)
	}
	if !reflect.DeepEqual(got.Interfaces, want.Interfaces) {
		t.Errorf("interfaces\n got %+v\nwant %+v", got.Interfaces, want.Interfaces)
	}
}
