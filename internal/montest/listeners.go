// Package montest starts real monitoring daemons (Nagios 4, Icinga 2) for
// integration tests, and the small fake services their checks probe.
//
// The fake services listen on fixed loopback ports, because the daemons'
// configurations name them:
//
//	127.0.0.1:18080  HTTP, answers 200 "ok" on /        (host checks UP, web01 HTTP OK)
//	127.0.0.1:18443  TLS+HTTP, certificate valid 12 days (web01 HTTPS cert WARNING: -C 30,7)
//	127.0.0.1:16379  Redis protocol, answers PING +PONG (cache01 Redis OK)
//
// Deliberately left closed: 18081 (app01 HTTP CRITICAL), 3306 (MySQL),
// 11211 (Memcached), 15432 (db01 host check: DOWN), 123/udp (NTP).
package montest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// Fixed ports of the fake services.
const (
	HTTPPort  = 18080
	TLSPort   = 18443
	RedisPort = 16379
)

// CertValidity is how long the TLS listener's certificate is valid: less
// than the 30 days warning threshold, more than the 7 days critical one.
const CertValidity = 12 * 24 * time.Hour

// Waits of StartListeners: for another test binary to release the ports,
// and for a foreign process (say a leftover listeners.sh) to free them.
const (
	lockWait = 5 * time.Minute
	portWait = 60 * time.Second
)

// LockFile is the file lock, under os.TempDir(), that one test binary holds
// while it serves the fixed ports.
const LockFile = "dotm-montest-listeners.lock"

// listeners is the fake services of this process, shared by every test
// that calls StartListeners.
type listeners struct {
	mu      sync.Mutex
	refs    int
	lock    *flock.Flock
	closers []io.Closer
}

// running is the one process-wide listener set: the ports are fixed, so
// there can be only one per process (and, via LockFile, per machine).
var running listeners

// StartListeners makes sure the fake services run for the test, and stops
// them when the last test using them ends.
//
// It is safe to call from several tests of one binary, also in parallel:
// the first caller starts the services, later callers share them, and a
// reference count stops them at the cleanup of the last one still using
// them. Across test binaries (go test runs packages in parallel) a file
// lock (LockFile in os.TempDir()) serializes the users of the fixed ports:
// a second binary waits up to 5 minutes for the first to finish. A port
// taken by a process that does not use the lock (a leftover recipe
// listener) is retried for 60 s, then the test fails naming the port.
// The lock and the ports are freed by the kernel when a test binary is
// killed, so no stale state survives a crash.
//
// The services run inside the test binary: no python3, openssl or
// redis-server is needed.
func StartListeners(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lockWait+portWait)
	defer cancel()
	if err := running.acquire(ctx); err != nil {
		t.Fatalf("start fake services: %v", err)
	}
	t.Cleanup(running.release)
}

// acquire starts the services, or counts one more user of running ones.
func (l *listeners) acquire(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refs > 0 {
		l.refs++
		return nil
	}
	path := filepath.Join(os.TempDir(), LockFile)
	fl := flock.New(path)
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	ok, err := fl.TryLockContext(lctx, 200*time.Millisecond)
	if err != nil || !ok {
		return fmt.Errorf("lock %s: another test binary kept the ports %d, %d, %d for %v (%v); "+
			"is a test hanging?", path, HTTPPort, TLSPort, RedisPort, lockWait, err)
	}
	closers, err := serveAll(ctx)
	if err != nil {
		_ = fl.Unlock()
		return err
	}
	l.lock, l.closers, l.refs = fl, closers, 1
	return nil
}

// release counts one user less and stops the services after the last.
func (l *listeners) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refs--
	if l.refs > 0 {
		return
	}
	for _, c := range l.closers {
		_ = c.Close()
	}
	_ = l.lock.Unlock()
	l.closers, l.lock = nil, nil
}

// serveAll listens on the three ports and serves them until closed.
func serveAll(ctx context.Context) ([]io.Closer, error) {
	cert, err := selfSigned(CertValidity)
	if err != nil {
		return nil, err
	}
	var closers []io.Closer
	fail := func(err error) ([]io.Closer, error) {
		for _, c := range closers {
			_ = c.Close()
		}
		return nil, err
	}
	for _, port := range []int{HTTPPort, TLSPort, RedisPort} {
		ln, err := listenRetry(ctx, port)
		if err != nil {
			return fail(err)
		}
		switch port {
		case HTTPPort:
			closers = append(closers, serveHTTP(ln))
		case TLSPort:
			tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			closers = append(closers, serveHTTP(tls.NewListener(ln, tc)))
		default:
			closers = append(closers, serveRedis(ln))
		}
	}
	return closers, nil
}

// listenRetry listens on 127.0.0.1:port, retrying while the port is taken.
func listenRetry(ctx context.Context, port int) (net.Listener, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	wctx, cancel := context.WithTimeout(ctx, portWait)
	defer cancel()
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln, nil
		}
		select {
		case <-wctx.Done():
			return nil, fmt.Errorf("listen %s: %w (still taken after %v; find the process with "+
				"ss -ltnp 'sport = :%d' and stop it)", addr, err, portWait, port)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// serveHTTP serves "ok" on / and 404 elsewhere, like the recipe's
// python3 http.server with an index.html.
func serveHTTP(ln net.Listener) io.Closer {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "ok\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv
}

// redisServer answers the Redis PING a check_tcp probe sends.
type redisServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

// serveRedis serves a minimal Redis protocol: PING and QUIT.
func serveRedis(ln net.Listener) io.Closer {
	s := &redisServer{ln: ln}
	s.wg.Add(1)
	go s.accept()
	return s
}

// Close stops accepting and waits for the accept loop.
func (s *redisServer) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *redisServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go serveRedisConn(c)
	}
}

// serveRedisConn answers inline and RESP-array commands on one connection.
func serveRedisConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		cmd, err := readRedisCommand(r)
		if err != nil {
			return
		}
		switch strings.ToUpper(cmd) {
		case "PING":
			_, err = io.WriteString(c, "+PONG\r\n")
		case "QUIT":
			_, _ = io.WriteString(c, "+OK\r\n")
			return
		default:
			_, err = fmt.Fprintf(c, "-ERR unknown command '%s'\r\n", cmd)
		}
		if err != nil {
			return
		}
	}
}

// readRedisCommand reads one command and returns its name.
func readRedisCommand(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") { // inline command: PING
		f := strings.Fields(line)
		if len(f) == 0 {
			return "", nil
		}
		return f[0], nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 1 || n > 64 {
		return "", errors.New("bad array")
	}
	var name string
	for i := range n {
		if _, err := r.ReadString('\n'); err != nil { // $LEN
			return "", err
		}
		arg, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if i == 0 {
			name = strings.TrimRight(arg, "\r\n")
		}
	}
	return name, nil
}

// selfSigned makes a certificate for shop.example.com valid for d from now.
func selfSigned(d time.Duration) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "shop.example.com"},
		DNSNames:     []string{"shop.example.com"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(d),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
