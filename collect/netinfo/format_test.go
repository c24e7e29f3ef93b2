package netinfo

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// capturedNetstat is `netstat -antp` as printed when testdata/proc-net-tcp*
// were captured (see testdata/PROC.md), except that the IPv4 connection
// accepted by the [::] listener says "tcp" instead of "tcp6".
var capturedNetstat = []string{
	"Active Internet connections (servers and established)",
	"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    ",
	"tcp        0      0 0.0.0.0:2024            0.0.0.0:*               LISTEN      -                   ",
	"tcp        0      0 127.0.0.1:18090         0.0.0.0:*               LISTEN      5051/python3        ",
	"tcp        0      0 127.0.0.1:56424         127.0.0.1:18092         ESTABLISHED 5179/python3        ",
	"tcp        0      0 127.0.0.1:41636         127.0.0.1:18090         ESTABLISHED 5179/python3        ",
	"tcp        0      0 127.0.0.1:18090         127.0.0.1:41636         ESTABLISHED 5051/python3        ",
	"tcp        0      0 192.0.2.2:47780         203.0.113.80:80         TIME_WAIT   -                   ",
	"tcp6       0      0 :::18092                :::*                    LISTEN      5055/python3        ",
	"tcp6       0      0 ::1:18091               :::*                    LISTEN      5053/python3        ",
	"tcp6       0      0 ::1:43820               ::1:18091               ESTABLISHED 5179/python3        ",
	"tcp        0      0 127.0.0.1:18092         127.0.0.1:56424         ESTABLISHED 5055/python3        ",
	"tcp6       0      0 ::1:18091               ::1:43820               ESTABLISHED 5053/python3        ",
}

// capturedOwners are the owners netstat showed, in capture order.
var capturedOwners = []int{0, 5051, 5179, 5179, 5051, 0, 5055, 5053, 5179, 5055, 5053}

func capturedSockets() []Socket {
	socks := append(append([]Socket(nil), capturedTCP...), capturedTCP6...)
	for i, pid := range capturedOwners {
		if pid != 0 {
			socks[i].PID, socks[i].Program = pid, "python3"
		}
	}
	return socks
}

func lines(ss ...string) string { return strings.Join(ss, "\n") + "\n" }

func TestWriteNetstatMatchesNetstat(t *testing.T) {
	var b strings.Builder
	if err := WriteNetstat(&b, capturedSockets()); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), lines(capturedNetstat...); got != want {
		t.Errorf("WriteNetstat\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteNetstatEdgeCases(t *testing.T) {
	socks := []Socket{
		// Longer than the column: it widens instead of truncating.
		{Local: ap("[2001:db8:1234:5678:9abc:def0:1234:5678]:443"), Remote: ap("[2001:db8::1]:50000"), State: StateEstablished, PID: 4194304, Program: "a-long-program-nm"},
		// Zones are dropped, port 0 is "*", the remote of an unbound socket is unset.
		{Local: ap("[fe80::1%eth0]:0"), State: "CLOSE"},
		// Only a remote end: its family decides.
		{Remote: ap("[::1]:22"), State: "SYN_SENT"},
		// Names that would break the line format.
		{Local: ap("10.0.0.1:22"), State: "BAD STATE\n", PID: 7, Program: "evil\nprog\x00\x7f\xff two"},
	}
	want := lines(
		netstatTitle,
		netstatHeader,
		"tcp6       0      0 2001:db8:1234:5678:9abc:def0:1234:5678:443 2001:db8::1:50000       ESTABLISHED 4194304/a-long-program-nm",
		"tcp6       0      0 fe80::1:*               :::*                    CLOSE       -                   ",
		"tcp6       0      0 :::*                    ::1:22                  SYN_SENT    -                   ",
		"tcp        0      0 10.0.0.1:22             0.0.0.0:*               UNKNOWN     7/evil?prog??? two  ",
	)
	var b strings.Builder
	if err := WriteNetstat(&b, socks); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("WriteNetstat\n got:\n%q\nwant:\n%q", got, want)
	}
}

func TestWriteIPAddr(t *testing.T) {
	ifaces := []Interface{
		{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
		{Name: "ifb0"},
		{Name: "eth0", Addrs: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.2/24"),
			netip.MustParsePrefix("fd00::2/64"),
			netip.MustParsePrefix("fe80::fc:ff:fe00:1/64"),
			netip.MustParsePrefix("169.254.3.4/16"),
			{}, // invalid: skipped
		}},
		{Name: "bad name/\n"},
		{},
	}
	// The inet and inet6 lines are as `ip addr` (iproute2 6.1) printed them
	// on the capture machine, but for the brd field, which is not known.
	want := lines(
		"1: lo: <>",
		"    inet 127.0.0.1/8 scope host lo",
		"    inet6 ::1/128 scope host ",
		"2: ifb0: <>",
		"3: eth0: <>",
		"    inet 192.0.2.2/24 scope global eth0",
		"    inet6 fd00::2/64 scope global ",
		"    inet6 fe80::fc:ff:fe00:1/64 scope link ",
		"    inet 169.254.3.4/16 scope link eth0",
		"4: bad?name??: <>",
		"5: ?: <>",
	)
	var b strings.Builder
	if err := WriteIPAddr(&b, ifaces); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("WriteIPAddr\n got:\n%q\nwant:\n%q", got, want)
	}
}

func TestWriteAgent(t *testing.T) {
	h := &Host{
		Hostname: "web1\nhostname=evil",
		Sockets:  []Socket{{Local: ap("127.0.0.1:80"), State: StateListen, PID: 1, Program: "nginx"}},
		Interfaces: []Interface{
			{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		},
	}
	want := lines(
		"hostname=web1?hostname=evil",
		netstatTitle,
		netstatHeader,
		"tcp        0      0 127.0.0.1:80            0.0.0.0:*               LISTEN      1/nginx             ",
		"",
		"1: lo: <>",
		"    inet 127.0.0.1/8 scope host lo",
	)
	var b strings.Builder
	if err := WriteAgent(&b, h); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("WriteAgent\n got:\n%q\nwant:\n%q", got, want)
	}
	if err := WriteAgent(&b, nil); err == nil {
		t.Error("WriteAgent(nil host) succeeded")
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk on fire")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWritersReportErrors(t *testing.T) {
	h := &Host{Hostname: "h", Sockets: capturedSockets()}
	for name, err := range map[string]error{
		"WriteAgent":   WriteAgent(failingWriter{}, h),
		"WriteNetstat": WriteNetstat(failingWriter{}, h.Sockets),
		"WriteIPAddr":  WriteIPAddr(failingWriter{}, []Interface{{Name: "lo"}}),
	} {
		if !errors.Is(err, errWrite) {
			t.Errorf("%s: error %v, want %v", name, err, errWrite)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in         string
		allowSpace bool
		want       string
	}{
		{"python3", false, "python3"},
		{"Web Content", true, "Web Content"},
		{"Web Content", false, "Web?Content"},
		{"a\nb\rc\td\x00e\x1bf\x7f", true, "a?b?c?d?e?f?"},
		{"caf\xc3\xa9", true, "café"},
		{"bad\xff", true, "bad?"},
		{"line\u2028sep\u0085", true, "line?sep?"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, tt.allowSpace); got != tt.want {
			t.Errorf("sanitize(%q, %v) = %q, want %q", tt.in, tt.allowSpace, got, tt.want)
		}
	}
}
