package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// patience bounds every wait in these tests; generous for loaded machines.
const patience = 30 * time.Second

var testHost = &netinfo.Host{
	Hostname: "web1",
	Sockets: []netinfo.Socket{
		{Local: netip.MustParseAddrPort("0.0.0.0:80"), State: netinfo.StateListen, PID: 42, Program: "nginx"},
		{Local: netip.MustParseAddrPort("10.0.0.1:80"), Remote: netip.MustParseAddrPort("10.0.0.2:50000"), State: netinfo.StateEstablished, PID: 43, Program: "nginx"},
		{Local: netip.MustParseAddrPort("[::]:22"), State: netinfo.StateListen},
	},
	Interfaces: []netinfo.Interface{
		{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}},
		{Name: "eth0", Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/24")}},
	},
}

func fixedSource(h *netinfo.Host) func(context.Context) (*netinfo.Host, error) {
	return func(context.Context) (*netinfo.Host, error) { return h, nil }
}

// syncBuffer is a log destination safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs s on a loopback listener until the test ends and returns the
// address to dial and the log it writes.
func start(t *testing.T, s *Server) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	s.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(patience):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return ln.Addr().String(), logs
}

// fetch connects to addr and reads until the server closes.
func fetch(t *testing.T, addr string) ([]byte, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp4", addr, patience)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	return io.ReadAll(conn)
}

func wantAnswer(t *testing.T, h *netinfo.Host) string {
	t.Helper()
	var b strings.Builder
	if err := netinfo.WriteAgent(&b, h); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestAllowedClientGetsAnswer(t *testing.T) {
	addr, _ := start(t, &Server{Source: fixedSource(testHost)})
	got, err := fetch(t, addr)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	if want := wantAnswer(t, testHost); string(got) != want {
		t.Errorf("answer\n got %q\nwant %q", got, want)
	}
	checkParses(t, got, testHost)
}

func TestHostileDeniedClientGetsNothing(t *testing.T) {
	var calls atomic.Int32
	addr, logs := start(t, &Server{
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")},
		Source: func(context.Context) (*netinfo.Host, error) {
			calls.Add(1)
			return testHost, nil
		},
	})
	got, err := fetch(t, addr)
	if err != nil || len(got) != 0 {
		t.Errorf("denied client read %q, %v; want nothing and EOF", got, err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Source called %d times for a denied client", n)
	}
	if !strings.Contains(logs.String(), "client not allowed") {
		t.Errorf("no denial in log:\n%s", logs)
	}
}

func TestSourceErrorWritesErrorLine(t *testing.T) {
	addr, logs := start(t, &Server{Source: func(context.Context) (*netinfo.Host, error) {
		return nil, errors.New("proc on fire")
	}})
	got, err := fetch(t, addr)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	if want := "Error when calling netstat!\n"; string(got) != want {
		t.Errorf("answer %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "proc on fire") {
		t.Errorf("cause not logged:\n%s", logs)
	}
}

func TestNoSourceWritesErrorLine(t *testing.T) {
	addr, _ := start(t, &Server{})
	got, err := fetch(t, addr)
	if err != nil || string(got) != ErrorLine+"\n" {
		t.Errorf("answer %q, %v; want %q", got, err, ErrorLine+"\n")
	}
}

func TestHostileMaxConns(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	addr, logs := start(t, &Server{
		MaxConns:     1,
		WriteTimeout: patience,
		Source: func(ctx context.Context) (*netinfo.Host, error) {
			if calls.Add(1) == 1 {
				close(started)
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return testHost, nil
		},
	})
	want := wantAnswer(t, testHost)

	// The first client is answered slowly and holds the only slot.
	first := make(chan []byte, 1)
	go func() {
		got, err := fetch(t, addr)
		if err != nil {
			t.Errorf("first client: %v", err)
		}
		first <- got
	}()
	select {
	case <-started:
	case <-time.After(patience):
		t.Fatal("first connection not answered")
	}

	got, err := fetch(t, addr)
	if err != nil || len(got) != 0 {
		t.Errorf("second client read %q, %v; want nothing and EOF", got, err)
	}
	if !strings.Contains(logs.String(), "too many connections") {
		t.Errorf("no refusal in log:\n%s", logs)
	}

	close(release)
	if got := <-first; string(got) != want {
		t.Errorf("first client got %q, want %q", got, want)
	}
	// The slot is free again.
	if got, err := fetch(t, addr); err != nil || string(got) != want {
		t.Errorf("third client got %q, %v; want %q", got, err, want)
	}
}

func TestHostileNonReaderTimesOut(t *testing.T) {
	// Far more than loopback socket buffers hold (4 MiB send buffer and a
	// receive window that does not grow while nobody reads), and quick to
	// render well within the timeout.
	big := &netinfo.Host{Hostname: strings.Repeat("a", 24<<20)}
	var calls atomic.Int32
	addr, logs := start(t, &Server{
		MaxConns:     1,
		WriteTimeout: 3 * time.Second,
		Source: func(context.Context) (*netinfo.Host, error) {
			if calls.Add(1) == 1 {
				return big, nil
			}
			return testHost, nil
		},
	})
	conn, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// Do not read until the server gave up.
	deadline := time.Now().Add(patience)
	for !strings.Contains(logs.String(), "answer not delivered") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not give up on a client that does not read; log:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := conn.SetReadDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after the write timeout: %v", err)
	}
	if full := int64(len(wantAnswer(t, big))); n >= full {
		t.Errorf("non-reading client got all %d bytes", n)
	}
	t.Logf("non-reading client got %d bytes, then %v", n, err)

	// The server still answers.
	if got, err := fetch(t, addr); err != nil || string(got) != wantAnswer(t, testHost) {
		t.Errorf("next client got %d bytes, %v", len(got), err)
	}
}

func TestServeReturnsOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Server{Source: fixedSource(testHost)}).Serve(ctx, ln) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(patience):
		t.Fatal("Serve did not return after cancel")
	}
	if c, err := net.Dial("tcp4", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("listener still accepts after Serve returned")
	}
}

func TestServeAcceptError(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	err = (&Server{}).Serve(context.Background(), ln)
	if err == nil || !strings.Contains(err.Error(), "accept on") {
		t.Errorf("Serve on a closed listener: %v, want an accept error", err)
	}
}

func TestAllowed(t *testing.T) {
	custom := []netip.Prefix{
		netip.MustParsePrefix("::ffff:203.0.113.0/120"),
		netip.MustParsePrefix("fe80::/10"),
	}
	tests := []struct {
		allow []netip.Prefix
		addr  string
		want  bool
	}{
		{DefaultAllow(), "127.0.0.1", true},
		{DefaultAllow(), "::1", true},
		{DefaultAllow(), "10.200.0.1", true},
		{DefaultAllow(), "172.31.255.255", true},
		{DefaultAllow(), "172.32.0.1", false},
		{DefaultAllow(), "192.168.1.1", true},
		{DefaultAllow(), "fd12::1", true},
		{DefaultAllow(), "::ffff:10.1.2.3", true},
		{DefaultAllow(), "::ffff:8.8.8.8", false},
		{DefaultAllow(), "8.8.8.8", false},
		{DefaultAllow(), "2001:db8::1", false},
		{custom, "203.0.113.9", true},
		{custom, "::ffff:203.0.113.9", true},
		{custom, "fe80::1%eth0", true},
		{custom, "127.0.0.1", false},
		{nil, "127.0.0.1", false},
	}
	for _, tt := range tests {
		if got := allowed(tt.allow, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("allowed(%v, %s) = %v, want %v", tt.allow, tt.addr, got, tt.want)
		}
	}
}

func TestTemporaryAcceptError(t *testing.T) {
	if !temporaryAcceptError(&net.OpError{Op: "accept", Err: syscall.EMFILE}) {
		t.Error("EMFILE not retried")
	}
	if temporaryAcceptError(net.ErrClosed) {
		t.Error("closed listener retried")
	}
}

// checkParses checks that netinfo.ParseAgent reads h back from answer.
func checkParses(t *testing.T, answer []byte, h *netinfo.Host) {
	t.Helper()
	got, err := netinfo.ParseAgent(bytes.NewReader(answer))
	if err != nil {
		t.Fatalf("ParseAgent: %v", err)
	}
	if !reflect.DeepEqual(got, h) {
		t.Errorf("parsed answer\n got %+v\nwant %+v", got, h)
	}
}

// waitLog waits until the log holds n lines containing want.
func waitLog(t *testing.T, logs *syncBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for strings.Count(logs.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has %d of %d lines with %q:\n%s", strings.Count(logs.String(), want), n, want, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialFrom connects to addr from a loopback address of its own.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: patience}
	c, err := d.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(patience)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The per-client cap counts a client's whole /24: more addresses of one
// network get no more connections, while another network is served.
func TestHostilePerNetworkCap(t *testing.T) {
	release := make(chan struct{})
	addr, logs := start(t, &Server{
		MaxConnsPerClient: 2,
		WriteTimeout:      patience,
		Source: func(ctx context.Context) (*netinfo.Host, error) {
			select {
			case <-release:
				return testHost, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	})
	want := wantAnswer(t, testHost)
	held := []net.Conn{dialFrom(t, "127.4.0.1", addr), dialFrom(t, "127.4.0.2", addr)}
	waitLog(t, logs, "msg=accepted", 2)
	if got, err := io.ReadAll(dialFrom(t, "127.4.0.3", addr)); err != nil || len(got) != 0 {
		t.Errorf("third address of a full /24 read %q, %v; want nothing and EOF", got, err)
	}
	if !strings.Contains(logs.String(), "too many connections from one client network") ||
		!strings.Contains(logs.String(), "network=127.4.0.0/24") {
		t.Errorf("no refusal naming the network in the log:\n%s", logs)
	}
	held = append(held, dialFrom(t, "127.5.0.1", addr))
	waitLog(t, logs, "msg=accepted", 3)
	close(release)
	for _, c := range held {
		if got, err := io.ReadAll(c); err != nil || string(got) != want {
			t.Errorf("client %s got %q, %v; want the answer", c.LocalAddr(), got, err)
		}
	}
}

// clientNetwork groups IPv4 addresses by /24 and IPv6 ones by /64.
func TestClientNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3":          "10.1.2.0/24",
		"2001:db8:1:2:3::4": "2001:db8:1:2::/64",
		"::1":               "::/64",
	} {
		if got := clientNetwork(netip.MustParseAddr(in)); got.String() != want {
			t.Errorf("clientNetwork(%s) = %s, want %s", in, got, want)
		}
	}
}

// --collector takes addresses and CIDRs, repeated or comma-separated, and
// a bad one is refused naming the flag.
func TestCollectorFlag(t *testing.T) {
	parse := func(args ...string) (Config, error) {
		fs := pflag.NewFlagSet("agent", pflag.ContinueOnError)
		config := BindFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return config()
	}
	c, err := parse("--collector", "10.0.0.5", "--collector", "192.0.2.0/24,2001:db8::/64")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("2001:db8::/64")}
	if err != nil || !reflect.DeepEqual(c.Collectors, want) || c.MaxCollectorConns != DefaultMaxCollectorConns {
		t.Errorf("collectors %v (%d conns), %v; want %v", c.Collectors, c.MaxCollectorConns, err, want)
	}
	if !reflect.DeepEqual(c.Allow, DefaultAllow()) {
		t.Errorf("allow %v, want the default", c.Allow)
	}
	if _, err := parse("--collector", "collector.example.com"); err == nil || !strings.Contains(err.Error(), `--collector "collector.example.com"`) {
		t.Errorf("bad --collector: %v", err)
	}
	if _, err := parse("--max-collector-conns", "0"); err == nil || !strings.Contains(err.Error(), "--max-collector-conns") {
		t.Errorf("--max-collector-conns 0: %v", err)
	}
}
