package netinfo

import (
	"reflect"
	"strings"
	"testing"
)

const testSSHeader = "State  Recv-Q Send-Q             Local Address:Port          Peer Address:Port Process\n"

func TestParseSSFixtures(t *testing.T) {
	tests := []struct {
		file string
		n    int
		want []Socket
	}{
		{"ss-tanp.txt", 29, []Socket{
			fixHTTP4Listen, fixNoOwner, fixSpaceName, fixDualListen, fixHTTP6Listen, fixMapped, fixMappedEth, fixV6Client,
			fixLinkLocal, fixLinkLocalC,
			mkSocket("127.0.0.1:18083", "", "LISTEN", 16392, "a-very-long-pro"),
			// Bound to lo: "127.0.0.1%lo:18086".
			mkSocket("127.0.0.1:18086", "", "LISTEN", 16795, "python3"),
			// ss cuts the name "q\"uo,te)(x" at the ")" and does not escape the quote.
			mkSocket("127.0.0.1:18085", "", "LISTEN", 16394, `q"uo,te`),
			// Held by two processes; the first listed is taken.
			mkSocket("127.0.0.1:18088", "", "LISTEN", 16400, "python3"),
		}},
		{"ss-tan.txt", 29, []Socket{mkSocket("127.0.0.1:18080", "", "LISTEN", 0, ""), {
			Local: mustAP("127.0.0.1:18082"), Remote: mustAP("127.0.0.1:33078"), State: StateEstablished,
		}}},
		{"ss-tanp-nonroot.txt", 29, []Socket{mkSocket("127.0.0.1:18080", "", "LISTEN", 0, "")}},
		{"ss-anp.txt", 29, []Socket{fixHTTP4Listen, fixMapped, fixLinkLocal}},
		{"ss-tanpi.txt", 5, []Socket{
			mkSocket("127.0.0.1:18090", "", "LISTEN", 5051, "python3"),
			mkSocket("127.0.0.1:46485", "127.0.0.1:34588", "TIME_WAIT", 0, ""),
		}},
		{"ss-tanpe.txt", 5, []Socket{
			mkSocket("0.0.0.0:2024", "", "LISTEN", 0, ""),
			mkSocket("[::]:18092", "", "LISTEN", 5055, "python3"),
		}},
		{"ss-edge.txt", 6, []Socket{
			fixLinkLocal,
			mkSocket("127.0.0.1:18088", "", "LISTEN", 16400, "python3"),
			mkSocket("127.0.0.53:53", "", "LISTEN", 16795, "systemd-resolve"),
			withTitle(mkSocket("127.0.0.1:18080", "127.0.0.1:38194", "ESTABLISHED", 16389, "nginx"), "nginx: worker"),
			fixHTTP4Listen,
			mkSocket("127.0.0.1:38194", "127.0.0.1:18080", "SYN_SENT", 16800, "python3"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseSS(strings.NewReader(readTestdata(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			wantSockets(t, got, tt.n, tt.want...)
		})
	}
}

// ss -tanp was run right after netstat -antp and netstat -antpW some
// lines later; no socket changed in between, so all list the same
// sockets (in the same order, as both walk the kernel's tables), apart
// from the three that netstat without -W cuts.
func TestParseSSAgreesWithNetstat(t *testing.T) {
	ss, err := ParseSS(strings.NewReader(readTestdata(t, "ss-tanp.txt")))
	if err != nil {
		t.Fatal(err)
	}
	wide, err := ParseNetstat(strings.NewReader(readTestdata(t, "netstat-antpW.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys(ss), keys(wide)) {
		t.Errorf("ss -tanp and netstat -antpW differ:\n%v\n%v", keys(ss), keys(wide))
	}
	for i := range ss {
		// For a socket held by several processes netstat names one and
		// ss lists all (the first is taken); only 127.0.0.1:18088 has two.
		if ss[i].PID != wide[i].PID && ss[i].Local != mustAP("127.0.0.1:18088") {
			t.Errorf("%v: ss says PID %d, netstat %d", ss[i].Local, ss[i].PID, wide[i].PID)
		}
	}
	narrow, err := ParseNetstat(strings.NewReader(readTestdata(t, "netstat-antp.txt")))
	if err != nil {
		t.Fatal(err)
	}
	inNarrow := make(map[sockKey]bool)
	for _, s := range narrow {
		inNarrow[keyOf(s)] = true
	}
	var missing []sockKey
	for _, s := range ss {
		if !inNarrow[keyOf(s)] {
			missing = append(missing, keyOf(s))
		}
	}
	if len(missing) != 3 || len(narrow) != len(ss)-3 {
		t.Errorf("netstat -antp lacks %v of the ss sockets, want the 3 link-local ones", missing)
	}
	for _, k := range missing {
		if !k.local.Addr().IsLinkLocalUnicast() {
			t.Errorf("netstat -antp lacks %v", k)
		}
	}
}

func TestSSState(t *testing.T) {
	tests := map[string]string{
		"ESTAB":          "ESTABLISHED",
		"LISTEN":         "LISTEN",
		"TIME-WAIT":      "TIME_WAIT",
		"CLOSE-WAIT":     "CLOSE_WAIT",
		"SYN-SENT":       "SYN_SENT",
		"SYN-RECV":       "SYN_RECV",
		"FIN-WAIT-1":     "FIN_WAIT1",
		"FIN-WAIT-2":     "FIN_WAIT2",
		"LAST-ACK":       "LAST_ACK",
		"CLOSING":        "CLOSING",
		"UNCONN":         "CLOSE",
		"UNKNOWN":        "UNKNOWN",
		"BOUND-INACTIVE": "BOUND_INACTIVE", // newer ss
		"listen":         "",
		"-X":             "",
		"1ABC":           "",
		"":               "",
	}
	for in, want := range tests {
		got, ok := ssState(in)
		if got != want || ok != (want != "") {
			t.Errorf("ssState(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestParseSSUsers(t *testing.T) {
	tests := []struct {
		in      string
		pid     int
		program string
		err     string
	}{
		{in: ""},
		{in: " ino:1060 sk:1 cgroup:/ <->"},
		{in: ` users:(("nginx",pid=1,fd=6),("nginx",pid=2,fd=6))`, pid: 1, program: "nginx"},
		{in: ` users:(("a",pid=7,proc_ctx=unconfined,fd=3))`, pid: 7, program: "a"},
		{in: ` users:(("sshd",812,3))`, pid: 812, program: "sshd"},
		{in: ` users:(("q"uo,te",pid=16394,fd=3))`, pid: 16394, program: `q"uo,te`},
		{in: ` users:(("a",b",pid=9,fd=3))`, pid: 9, program: `a",b`},
		{in: ` users:(("",pid=9,fd=3))`, pid: 9},
		{in: " users:((\"x\x01y\",pid=9,fd=3))", pid: 9, program: "x\uFFFDy"},
		{in: ` users:((nginx,pid=1,fd=6))`, err: "bad process column"},
		{in: ` users:(("nginx",pid=,fd=6))`, err: "bad process column"},
		{in: ` users:(("nginx"`, err: "bad process column"},
		{in: ` users:(("nginx",pid=0,fd=6))`, err: `bad PID "0"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			pid, program, err := parseSSUsers(tt.in)
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

func TestParseSSHeaderOnly(t *testing.T) {
	for _, in := range []string{testSSHeader, "Netid " + testSSHeader} {
		got, err := ParseSS(strings.NewReader(in))
		if err != nil || len(got) != 0 {
			t.Fatalf("%q: got %v, %v; want no sockets and no error", in, got, err)
		}
	}
}

func TestParseSSErrors(t *testing.T) {
	netid := "Netid " + testSSHeader
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `ss output: no "State Recv-Q" header and no socket lines; is this ss -tanp output?`},
		{"garbage", "hello\nworld\n", `ss output: no "State Recv-Q" header`},
		{"netstat output", readTestdata(t, "netstat-antp.txt"), `ss output: no "State Recv-Q" header`},
		{"bad local address", testSSHeader + "LISTEN 0 5 x:y 0.0.0.0:*\n", `ss output line 2: bad local address "x:y"`},
		{"bad peer address", testSSHeader + "LISTEN 0 5 1.2.3.4:5 [::1\n", `ss output line 2: bad peer address "[::1": no closing ]`},
		{"service name", testSSHeader + "LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:*\n", `port "ssh" is not a number; run the tool with -n`},
		{"too few fields", testSSHeader + "LISTEN 0 5 1.2.3.4:5\n", "line 2: too few fields"},
		{"bad queue", testSSHeader + "LISTEN a 5 1.2.3.4:5 *:*\n", `bad queue sizes "a" "5"`},
		{"unknown state", testSSHeader + "listen 0 5 1.2.3.4:5 *:*\n", `ss output line 2: unknown state "listen"`},
		{"bad process", testSSHeader + "LISTEN 0 5 1.2.3.4:5 *:* users:((x))\n", "line 2: bad process column"},
		{"netid garbage", netid + "Hello, World!\n", `ss output line 2: unexpected line "Hello, World!"`},
		{"netid tcp bad", netid + "tcp LISTEN 0 5 1.2.3.4 *:*\n", "line 2: bad local address"},
		{"cut mid-line", testSSHeader + "LISTEN 0      5      127.0.0.1:18090      0.0", "line 2: bad peer address \"0.0\""},
		{"NUL byte", testSSHeader + "LISTEN\x00\n", "ss output line 2: NUL byte"},
		{"over-long line", testSSHeader + strings.Repeat(" ", MaxLineLen+1) + "\n", "ss output line 2: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSS(strings.NewReader(tt.in))
			wantErr(t, err, tt.want)
			if got != nil {
				t.Errorf("got sockets %v with the error", got)
			}
		})
	}
}
