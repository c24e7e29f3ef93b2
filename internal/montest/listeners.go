// Package montest starts real monitoring daemons (Nagios 4, Icinga 2) for
// integration tests, and the small fake services their checks probe.
//
// Every test gets its own fake services on free loopback ports (see
// StartListeners), and the daemons' configurations are filled in with
// those ports per run, so any number of test binaries, from any number
// of checkouts, run at once, whatever else listens on the machine:
//
//	HTTPPort   HTTP, answers 200 "ok" on /        (host checks UP, web01 HTTP OK)
//	TLSPort    TLS+HTTP, certificate valid 12 days (web01 HTTPS cert WARNING: -C 30,7)
//	RedisPort  Redis protocol, answers PING +PONG (cache01 Redis OK)
//	ClosedPort TCP, refuses every connection       (app01 HTTP, db01 MySQL and host
//	                                                check, cache01 Memcached: CRITICAL/DOWN)
//	ClosedUDPPort UDP, answers ICMP port unreachable (web01 NTP CRITICAL)
package montest

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// CertValidity is how long the TLS listener's certificate is valid: less
// than the 30 days warning threshold, more than the 7 days critical one.
const CertValidity = 12 * 24 * time.Hour

// Listeners are the fake services of one test, each on its own free
// loopback port.
type Listeners struct {
	HTTPPort  int // HTTP: 200 "ok" on /, 404 elsewhere
	TLSPort   int // HTTPS with a certificate valid for CertValidity
	RedisPort int // Redis protocol: PING and QUIT
	// ClosedPort is a TCP port that refuses every connection (RST): a
	// socket is bound to it and never listens. While the test runs no
	// other socket can bind the port (the socket has no SO_REUSEADDR),
	// so nothing else can start listening there and turn a check OK.
	ClosedPort int
	// ClosedUDPPort is a UDP port that answers every datagram with ICMP
	// port unreachable, as a port without a socket does: the socket on it
	// is connected to 127.0.0.1:9 (discard), so the kernel delivers it
	// nothing from anyone else, and it keeps other sockets off the port.
	ClosedUDPPort int

	closers []io.Closer
}

// StartListeners starts the fake services for the test, on free loopback
// ports chosen by the kernel (127.0.0.1:0), and stops them when the test
// ends. Each call starts its own set: no port, lock or state is shared
// with other tests, test binaries or checkouts. The services run inside
// the test binary: no python3, openssl or redis-server is needed.
func StartListeners(t testing.TB) *Listeners {
	t.Helper()
	l, err := startListeners()
	if err != nil {
		t.Fatalf("start fake services: %v", err)
	}
	t.Cleanup(l.close)
	return l
}

// startListeners opens every port and serves it until close.
func startListeners() (*Listeners, error) {
	cert, err := selfSigned(CertValidity)
	if err != nil {
		return nil, err
	}
	l := &Listeners{}
	fail := func(what string, err error) (*Listeners, error) {
		l.close()
		return nil, fmt.Errorf("%s on 127.0.0.1: %w", what, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	for _, s := range []struct {
		what  string
		port  *int
		serve func(net.Listener) io.Closer
	}{
		{"http", &l.HTTPPort, serveHTTP},
		{"https", &l.TLSPort, func(ln net.Listener) io.Closer { return serveHTTP(tls.NewListener(ln, tc)) }},
		{"redis", &l.RedisPort, serveRedis},
	} {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return fail("listen for "+s.what, err)
		}
		*s.port = ln.Addr().(*net.TCPAddr).Port
		l.closers = append(l.closers, s.serve(ln))
	}
	port, c, err := refusingTCP()
	if err != nil {
		return fail("bind the closed TCP port", err)
	}
	l.ClosedPort = port
	l.closers = append(l.closers, c)
	uc, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9})
	if err != nil {
		return fail("bind the closed UDP port", err)
	}
	l.ClosedUDPPort = uc.LocalAddr().(*net.UDPAddr).Port
	l.closers = append(l.closers, uc)
	return l, nil
}

// ClosedPort returns a loopback TCP port that refuses every connection
// until the test ends (see Listeners.ClosedPort), for tests of what a
// client says when nothing listens.
func ClosedPort(t testing.TB) int {
	t.Helper()
	port, c, err := refusingTCP()
	if err != nil {
		t.Fatalf("bind a closed TCP port on 127.0.0.1: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return port
}

// close stops every service.
func (l *Listeners) close() {
	for _, c := range l.closers {
		_ = c.Close()
	}
	l.closers = nil
}

// Replacer fills in the port placeholders of a configuration:
// @HTTP_PORT@, @TLS_PORT@, @REDIS_PORT@, @CLOSED_PORT@ and
// @CLOSED_UDP_PORT@.
func (l *Listeners) Replacer() *strings.Replacer {
	return strings.NewReplacer(
		"@HTTP_PORT@", strconv.Itoa(l.HTTPPort),
		"@TLS_PORT@", strconv.Itoa(l.TLSPort),
		"@REDIS_PORT@", strconv.Itoa(l.RedisPort),
		"@CLOSED_PORT@", strconv.Itoa(l.ClosedPort),
		"@CLOSED_UDP_PORT@", strconv.Itoa(l.ClosedUDPPort),
	)
}

// serveHTTP serves "ok" on / and 404 elsewhere, like the recipe's
// python3 http.server with an index.html.
func serveHTTP(ln net.Listener) io.Closer {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "ok\n")
	})
	h := &httpServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(h.done)
		_ = h.srv.Serve(ln)
	}()
	return h
}

// httpServer is an http.Server whose Close returns once the port is free.
type httpServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Close stops the server, closes its listener (http.Server.Close alone
// leaves it open until Serve runs, when that has not started yet) and
// waits for Serve to return.
func (h *httpServer) Close() error {
	err := h.srv.Close()
	_ = h.ln.Close()
	<-h.done
	return err
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
