package montest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestStartListeners(t *testing.T) {
	l := StartListeners(t)

	t.Run("http", func(t *testing.T) {
		tests := []struct {
			path string
			code int
		}{{"/", 200}, {"/health", 404}}
		for _, tt := range tests {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", l.HTTPPort, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("GET %s = %d %q, want %d", tt.path, resp.StatusCode, body, tt.code)
			}
		}
	})
	t.Run("tls certificate expires in 11 to 12 days", func(t *testing.T) {
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", l.TLSPort), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		certs := c.ConnectionState().PeerCertificates
		if len(certs) != 1 {
			t.Fatalf("got %d certificates, want 1", len(certs))
		}
		left := time.Until(certs[0].NotAfter)
		if left < 11*24*time.Hour || left > 12*24*time.Hour {
			t.Errorf("certificate expires in %v, want 11..12 days", left)
		}
	})
	t.Run("redis", func(t *testing.T) {
		tests := []struct{ send, want string }{
			{"PING\r\n", "+PONG\r\n"},
			{"*1\r\n$4\r\nPING\r\n", "+PONG\r\n"},
			{"GET x\r\n", "-ERR unknown command 'GET'\r\n"},
		}
		for _, tt := range tests {
			if got := redisRoundTrip(t, l.RedisPort, tt.send); got != tt.want {
				t.Errorf("send %q: got %q, want %q", tt.send, got, tt.want)
			}
		}
	})
	t.Run("closed tcp port refuses and cannot be taken", func(t *testing.T) {
		addr := fmt.Sprintf("127.0.0.1:%d", l.ClosedPort)
		for range 3 { // refused each time, not just once
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err == nil {
				c.Close()
				t.Fatalf("dial %s: connected, want connection refused", addr)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("dial %s: %v, want connection refused", addr, err)
			}
		}
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			t.Fatalf("another listener took %s: the closed port is not reserved", addr)
		}
	})
	t.Run("closed udp port answers port unreachable", func(t *testing.T) {
		addr := fmt.Sprintf("127.0.0.1:%d", l.ClosedUDPPort)
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("ntp?")); err != nil {
			t.Fatal(err)
		}
		_, err = c.Read(make([]byte, 64))
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("read from %s: %v, want connection refused (ICMP port unreachable)", addr, err)
		}
		if pc, err := net.ListenPacket("udp", addr); err == nil {
			pc.Close()
			t.Fatalf("another socket took %s: the closed port is not reserved", addr)
		}
	})
}

// TestStartListenersOwnPorts: every call has its own ports, and a test's
// ports close when it ends, with nothing left for the next one to share.
func TestStartListenersOwnPorts(t *testing.T) {
	var first *Listeners
	t.Run("first", func(t *testing.T) { first = StartListeners(t) })
	second := StartListeners(t)
	a, b := ports(first), ports(second)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				t.Errorf("port %d is in both sets: %v and %v", a[i], a, b)
			}
		}
	}
	// the first set stopped with its subtest; the closed port's
	// reservation too, so it can be bound again
	for _, p := range []int{first.HTTPPort, first.TLSPort, first.RedisPort, first.ClosedPort} {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d still taken after its test ended: %v", p, err)
			continue
		}
		ln.Close()
	}
	if got := redisRoundTrip(t, second.RedisPort, "PING\r\n"); got != "+PONG\r\n" {
		t.Errorf("PING: got %q", got)
	}
}

func TestStartListenersParallel(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			l := StartListeners(t)
			if got := redisRoundTrip(t, l.RedisPort, "PING\r\n"); got != "+PONG\r\n" {
				t.Errorf("PING: got %q", got)
			}
		})
	}
}

func TestReplacer(t *testing.T) {
	l := &Listeners{HTTPPort: 1, TLSPort: 2, RedisPort: 3, ClosedPort: 4, ClosedUDPPort: 5}
	in := "check_http!@HTTP_PORT@ @TLS_PORT@ @REDIS_PORT@ @CLOSED_PORT@ @CLOSED_UDP_PORT@ @DIR@"
	if got, want := l.Replacer().Replace(in), "check_http!1 2 3 4 5 @DIR@"; got != want {
		t.Errorf("Replace = %q, want %q", got, want)
	}
}

func ports(l *Listeners) []int {
	return []int{l.HTTPPort, l.TLSPort, l.RedisPort, l.ClosedPort}
}

func redisRoundTrip(t *testing.T, port int, send string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, send); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}

func TestFleetPort(t *testing.T) {
	a, b := FleetPort(t), FleetPort(t)
	if a == b {
		t.Fatalf("two FleetPort calls gave the same port %d", a)
	}
	for _, p := range []uint16{a, b} {
		if p < 10000 || p >= 32768 {
			t.Errorf("port %d outside 10000-32767", p)
		}
		// the fleet can serve on it: its hosts' addresses are free
		for _, host := range []string{"127.1.0.1", "127.1.7.250"} {
			ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", host, p))
			if err != nil {
				t.Fatalf("fleet address %s:%d: %v", host, p, err)
			}
			ln.Close()
		}
		// nothing can take it on all addresses while the test runs
		if ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p)); err == nil {
			ln.Close()
			t.Errorf("port %d could be taken on all addresses", p)
		}
	}
}
