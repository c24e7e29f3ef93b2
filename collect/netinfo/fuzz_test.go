package netinfo

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// addFixtureSeeds seeds f with every fixture in testdata and a few small
// inputs.
func addFixtureSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte(testNetstatHeader + "tcp 0 0 [fe80::1%eth0]:22 *:* LISTEN 1/a b\n"))
	f.Add([]byte(testSSHeader + `ESTAB 0 0 127.0.0.53%lo:53 [::ffff:1.2.3.4]:9 users:(("a",b",pid=9,fd=3))` + "\n"))
	f.Add([]byte("hostname=h\n" + testNetstatHeader + "1: lo    inet 127.0.0.1/8 scope host lo\n"))
}

// checkParsedSockets checks what every socket parser promises.
func checkParsedSockets(t *testing.T, sockets []Socket) {
	t.Helper()
	for i, s := range sockets {
		switch {
		case !s.Local.Addr().IsValid():
			t.Fatalf("socket %d: invalid local address: %+v", i, s)
		case s.Local.Addr().Is4In6() || s.Remote.Addr().Is4In6():
			t.Fatalf("socket %d: IPv4-mapped address left: %+v", i, s)
		case s.Local.Addr().Zone() != "" || s.Remote.Addr().Zone() != "":
			t.Fatalf("socket %d: zone left: %+v", i, s)
		case s.Remote != (Socket{}).Remote && !s.Remote.Addr().IsValid():
			t.Fatalf("socket %d: remote neither zero nor valid: %+v", i, s)
		case s.Remote.Port() == 0 && s.Remote.Addr().IsUnspecified():
			t.Fatalf("socket %d: listening remote end not zero: %+v", i, s)
		case !isStateName(s.State):
			t.Fatalf("socket %d: bad state %q", i, s.State)
		case s.PID < 0 || s.PID == 0 && s.Program != "":
			t.Fatalf("socket %d: bad owner %d %q", i, s.PID, s.Program)
		case s.Program != cleanName(s.Program) || !utf8.ValidString(s.Program):
			t.Fatalf("socket %d: program %q not cleaned", i, s.Program)
		}
	}
}

// checkParsedIfaces checks what ParseIPAddr promises.
func checkParsedIfaces(t *testing.T, ifaces []Interface) {
	t.Helper()
	if len(ifaces) == 0 {
		t.Fatal("no interfaces and no error")
	}
	seen := make(map[string]bool)
	for _, ifc := range ifaces {
		if checkIfaceName(ifc.Name) != nil || strings.Contains(ifc.Name, "@") || seen[ifc.Name] {
			t.Fatalf("bad or repeated interface name %q", ifc.Name)
		}
		seen[ifc.Name] = true
		for _, p := range ifc.Addrs {
			if !p.IsValid() || p.Addr().Zone() != "" {
				t.Fatalf("interface %q: bad prefix %v", ifc.Name, p)
			}
		}
	}
}

// checkErr checks that a failed parse returned nothing and said which
// input it was about.
func checkErr(t *testing.T, got any, err error, prefixes ...string) {
	t.Helper()
	if !reflect.ValueOf(got).IsNil() {
		t.Fatalf("result %v with error %v", got, err)
	}
	for _, p := range prefixes {
		if strings.HasPrefix(err.Error(), p) {
			return
		}
	}
	t.Fatalf("error %q does not start with one of %q", err, prefixes)
}

// programsAsWritten returns sockets with Program as the writers print
// it: they turn U+FFFD into '?'.
func programsAsWritten(sockets []Socket) []Socket {
	out := make([]Socket, len(sockets))
	for i, s := range sockets {
		s.Program = strings.ReplaceAll(s.Program, "\uFFFD", "?")
		s.Title = strings.ReplaceAll(s.Title, "\uFFFD", "?") // the title is written in the program column
		out[i] = s
	}
	return out
}

func FuzzParseNetstat(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		sockets, err := ParseNetstat(bytes.NewReader(in))
		if err != nil {
			checkErr(t, sockets, err, "netstat output")
			return
		}
		checkParsedSockets(t, sockets)
		// What WriteNetstat writes of them reads back the same.
		var buf bytes.Buffer
		if err := WriteNetstat(&buf, sockets); err != nil {
			t.Fatal(err)
		}
		again, err := ParseNetstat(&buf)
		if err != nil {
			t.Fatalf("written table does not parse: %v\n%s", err, buf.String())
		}
		if want := programsAsWritten(sockets); len(again) != len(want) || len(want) > 0 && !reflect.DeepEqual(again, want) {
			t.Fatalf("round trip changed the sockets:\n%+v\n%+v", want, again)
		}
	})
}

func FuzzParseSS(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		sockets, err := ParseSS(bytes.NewReader(in))
		if err != nil {
			checkErr(t, sockets, err, "ss output")
			return
		}
		checkParsedSockets(t, sockets)
	})
}

func FuzzParseSocketTable(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		sockets, err := ParseSocketTable(bytes.NewReader(in))
		if err != nil {
			checkErr(t, sockets, err, "socket table", "netstat output", "ss output")
			return
		}
		checkParsedSockets(t, sockets)
		// The table is one of the two, and reads the same with its parser.
		n, errN := ParseNetstat(bytes.NewReader(in))
		s, errS := ParseSS(bytes.NewReader(in))
		if !(errN == nil && reflect.DeepEqual(n, sockets)) && !(errS == nil && reflect.DeepEqual(s, sockets)) {
			t.Fatalf("ParseSocketTable gave %v, ParseNetstat %v, %v, ParseSS %v, %v", sockets, n, errN, s, errS)
		}
	})
}

func FuzzParseIPAddr(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		ifaces, err := ParseIPAddr(bytes.NewReader(in))
		if err != nil {
			checkErr(t, ifaces, err, "ip addr output")
			return
		}
		checkParsedIfaces(t, ifaces)
		// What WriteIPAddr writes of them reads back the same.
		var buf bytes.Buffer
		if err := WriteIPAddr(&buf, ifaces); err != nil {
			t.Fatal(err)
		}
		again, err := ParseIPAddr(&buf)
		if err != nil {
			t.Fatalf("written listing does not parse: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(again, ifaces) {
			t.Fatalf("round trip changed the interfaces:\n%v\n%v", ifaces, again)
		}
	})
}

func FuzzParseAgent(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := ParseAgent(bytes.NewReader(in))
		if err != nil {
			checkErr(t, h, err, "agent answer")
			return
		}
		checkParsedSockets(t, h.Sockets)
		checkParsedIfaces(t, h.Interfaces)
		if !utf8.ValidString(h.Hostname) || strings.TrimSpace(h.Hostname) != h.Hostname || strings.ContainsAny(h.Hostname, "\n\r\x00") {
			t.Fatalf("bad hostname %q", h.Hostname)
		}
		// What WriteAgent writes of it reads back the same.
		var buf bytes.Buffer
		if err := WriteAgent(&buf, h); err != nil {
			t.Fatal(err)
		}
		again, err := ParseAgent(&buf)
		if err != nil {
			t.Fatalf("written answer does not parse: %v\n%s", err, buf.String())
		}
		want := *h
		want.Sockets = programsAsWritten(h.Sockets)
		if len(want.Sockets) == 0 {
			want.Sockets = again.Sockets // nil and empty are the same here
		}
		if !reflect.DeepEqual(*again, want) {
			t.Fatalf("round trip changed the host:\n%+v\n%+v", want, *again)
		}
	})
}
