package netinfo

import (
	"bytes"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// agentParts splits testdata/agent-original.txt into its netstat and ip
// addr parts, each parsed on its own.
func agentParts(t *testing.T) (answer string, sockets []Socket, ifaces []Interface) {
	t.Helper()
	answer = readTestdata(t, "agent-original.txt")
	_, rest, _ := strings.Cut(answer, "\n")
	netstat, ipAddr, ok := strings.Cut(rest, "\n\n")
	if !ok {
		t.Fatal("agent-original.txt has no empty line after the netstat part")
	}
	sockets, err := ParseNetstat(strings.NewReader(netstat))
	if err != nil {
		t.Fatal(err)
	}
	ifaces, err = ParseIPAddr(strings.NewReader(ipAddr))
	if err != nil {
		t.Fatal(err)
	}
	return answer, sockets, ifaces
}

func TestParseAgentOriginal(t *testing.T) {
	answer, sockets, ifaces := agentParts(t)
	tests := []struct {
		name, in string
	}{
		{"as captured", answer},
		{"without the empty line", strings.Replace(answer, "\n\n", "\n", 1)},
		{"CRLF line endings", strings.ReplaceAll(answer, "\n", "\r\n")},
		{"one byte per read", answer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.in)
			if tt.name == "one byte per read" {
				r = iotest.OneByteReader(r)
			}
			h, err := ParseAgent(r)
			if err != nil {
				t.Fatal(err)
			}
			if h.Hostname != "vm" {
				t.Errorf("hostname %q, want vm", h.Hostname)
			}
			if !reflect.DeepEqual(h.Sockets, sockets) || !reflect.DeepEqual(h.Interfaces, ifaces) {
				t.Errorf("parts differ from ParseNetstat and ParseIPAddr on their own")
			}
			wantSockets(t, h.Sockets, 26, fixHTTP4Listen, fixNoOwner, fixMapped)
			if want := []Interface{fixLo, {Name: "ifb0"}, {Name: "ifb1"}, fixEth0, fixVeth}; !reflect.DeepEqual(h.Interfaces, want) {
				t.Errorf("interfaces %v, want %v", h.Interfaces, want)
			}
			if ips := h.IPs(); len(ips) != 9 || ips[2] != netip.MustParseAddr("192.0.2.2") {
				t.Errorf("IPs() = %v", ips)
			}
		})
	}
}

// What WriteAgent writes reads back as the same host.
func TestParseAgentRoundTrip(t *testing.T) {
	_, sockets, ifaces := agentParts(t)
	want := &Host{Hostname: "vm", Sockets: sockets, Interfaces: ifaces}
	var buf bytes.Buffer
	if err := WriteAgent(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ParseAgent(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseAgentErrors(t *testing.T) {
	answer := readTestdata(t, "agent-original.txt")
	netstatEnd := strings.Index(answer, "\n\n")
	tests := []struct {
		name, in, want string
	}{
		{"netstat failed", readTestdata(t, "agent-netstat-error.txt"),
			`agent answer line 2: the host could not run netstat (the agent answered "Error when calling netstat!"); check that net-tools is installed there`},
		{"ip addr failed", readTestdata(t, "agent-ipaddr-error.txt"),
			`agent answer line 34: the host could not run ip addr (the agent answered "Error when calling ip addr!")`},
		{"error line without newline", "hostname=vm\nError when calling netstat!1: lo: <LOOPBACK>\n", "agent answer line 2: the host could not run netstat"},
		{"only the error line", readTestdata(t, "agent-error-only.txt"), "agent answer line 1: the host could not run netstat"},
		{"empty", "", "agent answer: empty; want a hostname= line, netstat and ip addr output"},
		{"no hostname line", readTestdata(t, "netstat-antp.txt"),
			`agent answer line 1: want "hostname=<name>", got "Active Internet connections (servers and established)"; is this a dotm agent?`},
		{"bad hostname", "hostname=a\x1bb\n", `agent answer line 1: bad hostname "a\x1bb"`},
		{"long hostname", "hostname=" + strings.Repeat("a", 256) + "\n", "agent answer line 1: bad hostname"},
		{"hostname only", "hostname=vm\n", `agent answer: netstat part: no "Proto Recv-Q" header and no tcp lines`},
		{"cut after netstat", answer[:netstatEnd+1], "agent answer: no ip addr part after the netstat table; the answer is cut short"},
		{"cut in netstat", answer[:strings.Index(answer, "127.0.0.1:18090")+12], "agent answer line 6: netstat part: too few fields"},
		{"cut in ip addr", answer[:strings.LastIndex(answer, "inet ")+8], `agent answer line 58: ip addr part: bad address "198"`},
		{"netstat part garbage", "hostname=vm\nhello\n1: lo: <LOOPBACK>\n", `agent answer line 3: netstat part: no "Proto Recv-Q" header and no tcp lines`},
		{"bad socket line", "hostname=vm\n" + testNetstatHeader + "tcp 0 0 x:y 0.0.0.0:* LISTEN -\n", `agent answer line 4: netstat part: bad local address "x:y"`},
		{"bad ip line", strings.Replace(answer, "    inet 192.0.2.2/24", "    inet 192.0.2.2/99", 1), `agent answer line 46: ip addr part: bad address "192.0.2.2/99"`},
		{"NUL byte", "hostname=vm\x00\n", "agent answer line 1: NUL byte"},
		{"over-long line", "hostname=vm\n" + strings.Repeat("a", MaxLineLen+1), "agent answer line 2: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseAgent(strings.NewReader(tt.in))
			wantErr(t, err, tt.want)
			if h != nil {
				t.Errorf("got host %+v with the error", h)
			}
		})
	}
}

func TestParseSocketTable(t *testing.T) {
	tests := []struct {
		file  string
		parse func(io.Reader) ([]Socket, error)
	}{
		{"netstat-antp.txt", ParseNetstat},
		{"netstat-ant.txt", ParseNetstat},
		{"netstat-antpW.txt", ParseNetstat},
		{"netstat-antp-nonroot.txt", ParseNetstat}, // starts with netstat's warning
		{"netstat-anp.txt", ParseNetstat},
		{"netstat-edge.txt", ParseNetstat},
		{"ss-tanp.txt", ParseSS},
		{"ss-tan.txt", ParseSS},
		{"ss-anp.txt", ParseSS}, // starts with "RTNETLINK answers: ..."
		{"ss-tanpi.txt", ParseSS},
		{"ss-edge.txt", ParseSS},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := readTestdata(t, tt.file)
			want, err := tt.parse(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSocketTable(iotest.HalfReader(strings.NewReader(in)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || len(got) == 0 {
				t.Errorf("got %d sockets, want the %d of the specific parser", len(got), len(want))
			}
		})
	}
	t.Run("headerless", func(t *testing.T) {
		for _, in := range []string{
			"tcp        0      0 127.0.0.1:18080         0.0.0.0:*               LISTEN      16389/python3       \n",
			`LISTEN 0      5                      127.0.0.1:18080              0.0.0.0:*     users:(("python3",pid=16389,fd=3))` + "\n",
		} {
			got, err := ParseSocketTable(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			wantSockets(t, got, 1, fixHTTP4Listen)
		}
	})
	t.Run("larger than the sniffed part", func(t *testing.T) {
		ss := readTestdata(t, "ss-tanp.txt")
		_, body, _ := strings.Cut(ss, "\n")
		n := 2*socketTableSniffLen/len(body) + 1
		got, err := ParseSocketTable(strings.NewReader(ss + strings.Repeat(body, n-1)))
		if err != nil || len(got) != 29*n {
			t.Fatalf("got %d sockets, %v; want %d", len(got), err, 29*n)
		}
	})
}

func TestParseSocketTableErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "socket table: empty input; want netstat -antp or ss -tanp output"},
		{"blank", "\n \n", "socket table: empty input"},
		{"garbage", "hello\nworld\n", `socket table: neither a netstat ("Proto Recv-Q") nor an ss ("State Recv-Q") header nor socket lines; is this netstat -antp or ss -tanp output?`},
		{"ip addr", readTestdata(t, "ip-addr.txt"), "socket table: neither a netstat"},
		{"header after 64 KiB", strings.Repeat("warning\n", socketTableSniffLen/8) + readTestdata(t, "ss-tanp.txt"), "socket table: neither"},
		{"bad netstat line", testNetstatHeader + "tcp 0 0 x:y 0.0.0.0:* LISTEN -\n", `netstat output line 3: bad local address "x:y"`},
		{"bad ss line", testSSHeader + "LISTEN 0 5 x:y 0.0.0.0:*\n", `ss output line 2: bad local address "x:y"`},
		{"read error", "", "read socket table: timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.in)
			if tt.name == "read error" {
				r = iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(testSSHeader)))
			}
			got, err := ParseSocketTable(r)
			wantErr(t, err, tt.want)
			if got != nil {
				t.Errorf("got sockets %v with the error", got)
			}
		})
	}
}
