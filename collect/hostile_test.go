package collect

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// hostileAgent listens on loopback and treats every client with serve.
func hostileAgent(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// validAnswer is a real agent answer with n established sockets.
func validAnswer(t *testing.T, hostname string, n int) []byte {
	h := &netinfo.Host{Hostname: hostname, Interfaces: iface("10.0.0.1/24")}
	h.Sockets = append(h.Sockets, sock(L, "0.0.0.0:80", "", 1, "nginx"))
	for i := range n {
		h.Sockets = append(h.Sockets, sock(E, "10.0.0.1:80", fmt.Sprintf("10.0.%d.%d:40000", i/250%250, 1+i%250), 1, "nginx"))
	}
	var b bytes.Buffer
	if err := netinfo.WriteAgent(&b, h); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestFetchAgentHostile: whatever an agent sends, the fetch ends within
// its deadline with a clear error or valid data, and reads boundedly.
func TestFetchAgentHostile(t *testing.T) {
	chunk := bytes.Repeat([]byte("tcp        0      0 10.0.0.1:80 10.0.0.2:4000 ESTABLISHED 1/x\n"), 1000)
	cases := []struct {
		name  string
		serve func(c net.Conn)
		want  string // error text; "" means success
	}{
		{"endless output", func(c net.Conn) {
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}, "sent more than 32 MiB"},
		{"never answers", func(c net.Conn) { time.Sleep(5 * time.Second) }, "timed out"},
		{"one byte a second", func(c net.Conn) {
			for _, b := range []byte("hostname=slow\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}, "timed out"},
		{"NUL bytes", func(c net.Conn) {
			c.Write(bytes.ReplaceAll(validAnswer(t, "nul", 3), []byte("nginx"), []byte("ng\x00nx")))
		}, "NUL"},
		{"invalid UTF-8 in a program name", func(c net.Conn) {
			c.Write(bytes.ReplaceAll(validAnswer(t, "utf", 3), []byte("nginx"), []byte("ngi\xff\xfex")))
		}, ""},
		{"100,000 sockets", func(c net.Conn) { c.Write(validAnswer(t, "big", 100_000)) }, ""},
		{"an HTTP server", func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }, "agent"},
	}
	conf := defaultConf(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := hostileAgent(t, c.serve)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			start := time.Now()
			h, err := FetchAgent(ctx, Target{Name: "x", Address: addr, Conf: conf})
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("fetch took %s despite a 2s deadline", took)
			}
			switch {
			case c.want == "" && err != nil:
				t.Errorf("err = %v, want success", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			case c.want == "" && len(h.Sockets) == 0:
				t.Error("no sockets")
			}
		})
	}
}
