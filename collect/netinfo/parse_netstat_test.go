package netinfo

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Helpers shared by the parser tests.

// readTestdata returns the content of testdata/name.
func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustAP parses "addr:port"; "" is the zero AddrPort.
func mustAP(s string) netip.AddrPort {
	if s == "" {
		return netip.AddrPort{}
	}
	return netip.MustParseAddrPort(s)
}

// mkSocket builds a Socket from text.
func mkSocket(local, remote, state string, pid int, program string) Socket {
	return Socket{Local: mustAP(local), Remote: mustAP(remote), State: state, PID: pid, Program: program}
}

// withTitle is s with the title the tool printed.
func withTitle(s Socket, title string) Socket {
	s.Title = title
	return s
}

// sockKey is a socket without its owner.
type sockKey struct {
	local, remote netip.AddrPort
	state         string
}

func keyOf(s Socket) sockKey { return sockKey{s.Local, s.Remote, s.State} }

// keys returns the ends and states of sockets, in order.
func keys(sockets []Socket) []sockKey {
	var ks []sockKey
	for _, s := range sockets {
		ks = append(ks, keyOf(s))
	}
	return ks
}

// wantSockets checks that got has n sockets and contains each of want.
func wantSockets(t *testing.T, got []Socket, n int, want ...Socket) {
	t.Helper()
	if len(got) != n {
		t.Errorf("got %d sockets, want %d", len(got), n)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("missing socket %+v", w)
		}
	}
}

// wantErr checks that err is an error containing want.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

const testNetstatHeader = "Active Internet connections (servers and established)\n" +
	"Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n"

// Sockets known to be in the netstat and ss captures (see testdata/README.md).
var (
	fixHTTP4Listen = mkSocket("127.0.0.1:18080", "", "LISTEN", 16389, "python3")
	fixNoOwner     = mkSocket("0.0.0.0:2024", "", "LISTEN", 0, "")
	fixSpaceName   = withTitle(mkSocket("127.0.0.1:18084", "", "LISTEN", 16393, "my"), "my server")
	fixDualListen  = mkSocket("[::]:18082", "", "LISTEN", 16391, "python3")
	fixHTTP6Listen = mkSocket("[::1]:18081", "", "LISTEN", 16390, "python3")
	fixMapped      = mkSocket("127.0.0.1:18082", "127.0.0.1:33078", "ESTABLISHED", 16391, "python3")
	fixMappedEth   = mkSocket("192.0.2.2:18082", "192.0.2.2:55576", "ESTABLISHED", 16391, "python3")
	fixV6Client    = mkSocket("[fd00::2]:34564", "[fd00::2]:18082", "ESTABLISHED", 16800, "python3")
	fixLinkLocal   = mkSocket("[fe80::fc:ff:fe00:1]:18087", "", "LISTEN", 16796, "python3")
	fixLinkLocalC  = mkSocket("[fe80::fc:ff:fe00:1]:41490", "[fe80::fc:ff:fe00:1]:18087", "ESTABLISHED", 16800, "python3")
)

// The UDP listeners of netstat-anp.txt.
var (
	fixUDP4 = asUDP(mkSocket("127.0.0.1:18089", "", "LISTEN", 16898, "python3"))
	fixUDP6 = asUDP(mkSocket("[::1]:18089", "", "LISTEN", 16898, "python3"))
)

func asUDP(s Socket) Socket { s.UDP = true; return s }

// tcpOnly leaves out the UDP listeners.
func tcpOnly(s []Socket) []Socket {
	return slices.DeleteFunc(slices.Clone(s), func(s Socket) bool { return s.UDP })
}

func TestParseNetstatFixtures(t *testing.T) {
	tests := []struct {
		file string
		n    int
		want []Socket
	}{
		{"netstat-antp.txt", 26, []Socket{
			fixHTTP4Listen, fixNoOwner, fixSpaceName, fixDualListen, fixHTTP6Listen, fixMapped, fixMappedEth, fixV6Client,
			mkSocket("127.0.0.1:18083", "", "LISTEN", 16392, "a-very-long-p"),
			mkSocket("127.0.0.1:18086", "", "LISTEN", 16795, "python3"),
		}},
		{"netstat-antlp.txt", 26, []Socket{fixHTTP4Listen, fixNoOwner, fixMapped}},
		{"netstat-antpW.txt", 29, []Socket{fixHTTP4Listen, fixMapped, fixLinkLocal, fixLinkLocalC}},
		{"netstat-ant.txt", 26, []Socket{
			mkSocket("127.0.0.1:18080", "", "LISTEN", 0, ""),
			mkSocket("127.0.0.1:18082", "127.0.0.1:33078", "ESTABLISHED", 0, ""),
		}},
		{"netstat-antp-nonroot.txt", 26, []Socket{mkSocket("127.0.0.1:18080", "", "LISTEN", 0, "")}},
		// -u: the UDP listeners are read too (netstat leaves their State empty).
		{"netstat-anp.txt", 28, []Socket{fixHTTP4Listen, fixMapped, fixUDP4, fixUDP6}},
		{"netstat-edge.txt", 6, []Socket{fixUDP4, fixUDP6,
			withTitle(mkSocket("0.0.0.0:80", "", "LISTEN", 16393, "nginx"), "nginx: master"),
			fixNoOwner,
			fixMapped,
			mkSocket("[::]:18092", "", "LISTEN", 5055, "python3"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseNetstat(strings.NewReader(readTestdata(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			wantSockets(t, got, tt.n, tt.want...)
		})
	}
}

// The captures of one moment in the different netstat forms list the same
// sockets in the same order; -W also lists the three with long addresses
// that the others cut.
func TestParseNetstatFormsAgree(t *testing.T) {
	parse := func(file string) []Socket {
		s, err := ParseNetstat(strings.NewReader(readTestdata(t, file)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	antp := parse("netstat-antp.txt")
	for _, file := range []string{"netstat-antlp.txt", "netstat-ant.txt", "netstat-antp-nonroot.txt", "netstat-anp.txt"} {
		t.Run(file, func(t *testing.T) {
			if got := keys(tcpOnly(parse(file))); !reflect.DeepEqual(got, keys(antp)) {
				t.Errorf("sockets differ from netstat-antp.txt:\n%v\n%v", got, keys(antp))
			}
		})
	}
	t.Run("netstat-antpW.txt", func(t *testing.T) {
		var cut []Socket
		for _, s := range parse("netstat-antpW.txt") {
			if s.Local.Addr().IsLinkLocalUnicast() {
				continue
			}
			cut = append(cut, s)
		}
		if !reflect.DeepEqual(cut, antp) {
			t.Errorf("without link-local sockets, -W differs from netstat-antp.txt")
		}
	})
}

func TestParseNetstatHeaderOnly(t *testing.T) {
	got, err := ParseNetstat(strings.NewReader(testNetstatHeader))
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v; want no sockets and no error", got, err)
	}
}

func TestParseNetstatWithoutHeader(t *testing.T) {
	in := "tcp        0      0 127.0.0.1:18080         0.0.0.0:*               LISTEN      16389/python3       \n"
	got, err := ParseNetstat(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	wantSockets(t, got, 1, fixHTTP4Listen)
}

func TestParseNetstatProgramBytes(t *testing.T) {
	in := testNetstatHeader + "tcp 0 0 127.0.0.1:1 0.0.0.0:* LISTEN 7/a\xffb\x1bc d \n"
	got, err := ParseNetstat(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	wantSockets(t, got, 1, withTitle(mkSocket("127.0.0.1:1", "", "LISTEN", 7, "a\uFFFDb\uFFFDc"), "a\uFFFDb\uFFFDc d"))
}

func TestParseNetstatErrors(t *testing.T) {
	antp := readTestdata(t, "netstat-antp.txt")
	long := strings.Repeat("x", MaxLineLen+1)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `netstat output: no "Proto Recv-Q" header and no tcp lines; is this netstat -antp output?`},
		{"garbage", "hello\nworld\n", `netstat output: no "Proto Recv-Q" header and no tcp lines`},
		{"ss output", readTestdata(t, "ss-tanp.txt"), `no "Proto Recv-Q" header`},
		{"bad local address", testNetstatHeader + "tcp 0 0 x:y 0.0.0.0:* LISTEN -\n", `netstat output line 3: bad local address "x:y"`},
		{"bad foreign address", testNetstatHeader + "tcp 0 0 1.2.3.4:5 1.2.3.4 LISTEN -\n", `line 3: bad foreign address "1.2.3.4": no :port`},
		{"service name", testNetstatHeader + "tcp 0 0 0.0.0.0:ssh 0.0.0.0:* LISTEN -\n", `port "ssh" is not a number; run the tool with -n`},
		{"host name", testNetstatHeader + "tcp 0 0 localhost:22 0.0.0.0:* LISTEN -\n", `address "localhost" is not a numeric IP address`},
		{"port too big", testNetstatHeader + "tcp 0 0 1.2.3.4:65536 0.0.0.0:* LISTEN -\n", `port "65536" is not a number`},
		{"too few fields", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:*\n", "line 3: too few fields"},
		{"bad queue", testNetstatHeader + "tcp x 0 1.2.3.4:22 0.0.0.0:* LISTEN -\n", `bad queue sizes "x" "0"`},
		{"bad state", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:* listen -\n", `bad state "listen"`},
		{"bad pid", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:* LISTEN abc/sshd\n", `bad PID "abc"`},
		{"zero pid", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:* LISTEN 0/sshd\n", `bad PID "0"`},
		{"no slash", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:* LISTEN sshd\n", `bad PID/Program name "sshd"`},
		{"unexpected line", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:* LISTEN -\nfoo bar\n", `netstat output line 4: unexpected line "foo bar"`},
		{"cut mid-line", antp[:strings.Index(antp, "127.0.0.1:18090")+12], "netstat output line 5: too few fields"},
		{"NUL byte", testNetstatHeader + "tcp 0 0 1.2.3.4:22 0.0.0.0:* LISTEN 1/a\x00b\n", "netstat output line 3: NUL byte"},
		{"invalid UTF-8 address", testNetstatHeader + "tcp 0 0 1.2.3.\xff:22 0.0.0.0:* LISTEN -\n", `line 3: bad local address "1.2.3.\xff:22"`},
		{"over-long line", testNetstatHeader + long + "\n", "netstat output line 3: longer than 65536 bytes"},
		{"over-long last line", testNetstatHeader + long, "netstat output line 3: longer than 65536 bytes"},
		{"over-long first line", long + "\n" + testNetstatHeader, "netstat output line 1: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetstat(strings.NewReader(tt.in))
			wantErr(t, err, tt.want)
			if got != nil {
				t.Errorf("got sockets %v with the error", got)
			}
		})
	}
}

// A line of exactly MaxLineLen bytes is read; one byte more is an error.
func TestParseNetstatLineLimit(t *testing.T) {
	line := "tcp 0 0 127.0.0.1:1 0.0.0.0:* LISTEN 7/"
	line += strings.Repeat("p", MaxLineLen-len(line))
	got, err := ParseNetstat(strings.NewReader(testNetstatHeader + line + "\r\n"))
	if err != nil || len(got) != 1 {
		t.Fatalf("line of %d bytes: got %d sockets, %v", len(line), len(got), err)
	}
	_, err = ParseNetstat(strings.NewReader(testNetstatHeader + line + "p\n"))
	wantErr(t, err, "line 3: longer than 65536 bytes")
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "0.0.0.0:22", want: "0.0.0.0:22"},
		{in: "0.0.0.0:*", want: "0.0.0.0:0"},
		{in: ":::80", want: "[::]:80"},
		{in: ":::*", want: "[::]:0"},
		{in: "::1:18081", want: "[::1]:18081"},
		{in: "::ffff:10.0.0.1:443", want: "10.0.0.1:443"},
		{in: "fe80::fc:ff:fe00:1:18087", want: "[fe80::fc:ff:fe00:1]:18087"},
		{in: "*:*", want: "[::]:0"},
		{in: "*:80", want: "[::]:80"},
		{in: "[::]:*", want: "[::]:0"},
		{in: "[::]:22", want: "[::]:22"},
		{in: "[::ffff:10.0.0.1]:443", want: "10.0.0.1:443"},
		{in: "127.0.0.53%lo:53", want: "127.0.0.53:53"},
		{in: "[fe80::1]%eth0:22", want: "[fe80::1]:22"},
		{in: "[fe80::1%eth0]:22", want: "[fe80::1]:22"},
		{in: "x:y", err: `port "y" is not a number`},
		{in: "1.2.3.4", err: "no :port"},
		{in: ":80", err: `address "" is not a numeric IP address`},
		{in: "[::1", err: "no closing ]"},
		{in: "[::1]22", err: "no :port after ]"},
		{in: "[::1]%eth0", err: `port "" is not a number`},
		{in: "1.2.3.4:+80", err: `port "+80" is not a number`},
		{in: "fe80::fc:ff:fe00::18087", err: `address "fe80::fc:ff:fe00:" is not a numeric IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseEndpoint(tt.in)
			if tt.err != "" {
				wantErr(t, err, tt.err)
				return
			}
			if err != nil || got != mustAP(tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParsePIDProgram(t *testing.T) {
	tests := []struct {
		in      string
		pid     int
		program string
		err     string
	}{
		{in: "-"},
		{in: ""},
		{in: "1234/nginx: master", pid: 1234, program: "nginx: master"},
		{in: "16392/a-very-long-p", pid: 16392, program: "a-very-long-p"},
		{in: "1/", pid: 1},
		{in: "1/a/b", pid: 1, program: "a/b"},
		{in: "0/init", err: `bad PID "0"`},
		{in: "-1/x", err: `bad PID "-1"`},
		{in: "+1/x", err: `bad PID "+1"`},
		{in: "99999999999/x", err: `bad PID "99999999999"`},
		{in: "sshd", err: `bad PID/Program name "sshd"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			pid, program, err := parsePIDProgram(tt.in)
			if tt.err != "" {
				wantErr(t, err, tt.err)
				return
			}
			if err != nil || pid != tt.pid || program != tt.program {
				t.Errorf("got %d, %q, %v; want %d, %q", pid, program, err, tt.pid, tt.program)
			}
		})
	}
}
