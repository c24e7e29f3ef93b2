package montest

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestStartListeners(t *testing.T) {
	StartListeners(t)
	StartListeners(t) // idempotent: the second call shares the first's services

	t.Run("http", func(t *testing.T) {
		tests := []struct {
			path string
			code int
		}{{"/", 200}, {"/health", 404}}
		for _, tt := range tests {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", HTTPPort, tt.path))
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
		c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", TLSPort), &tls.Config{InsecureSkipVerify: true})
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
			if got := redisRoundTrip(t, tt.send); got != tt.want {
				t.Errorf("send %q: got %q, want %q", tt.send, got, tt.want)
			}
		}
	})
}

func TestStartListenersRestartsAfterLastUser(t *testing.T) {
	t.Run("first", func(t *testing.T) { StartListeners(t) })
	// the subtest's cleanup stopped the services: the port must be free
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", RedisPort))
	if err != nil {
		t.Fatalf("port %d still taken after the last user ended: %v", RedisPort, err)
	}
	ln.Close()
	t.Run("second", func(t *testing.T) {
		StartListeners(t)
		if got := redisRoundTrip(t, "PING\r\n"); got != "+PONG\r\n" {
			t.Errorf("PING after restart: got %q", got)
		}
	})
}

func redisRoundTrip(t *testing.T, send string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", RedisPort), 5*time.Second)
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

func TestStartListenersParallel(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			StartListeners(t)
			if got := redisRoundTrip(t, "PING\r\n"); got != "+PONG\r\n" {
				t.Errorf("PING: got %q", got)
			}
		})
	}
}
