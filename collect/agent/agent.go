// Package agent serves the DOTM agent protocol: every accepted TCP
// connection from an allowed client gets one answer, the host's hostname,
// `netstat -antp` table and `ip addr` listing as netinfo.WriteAgent writes
// them, and is closed. The protocol is write-only: nothing is read from
// the client.
package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// ErrorLine is the whole answer, followed by a newline, when the Source
// fails. It is the text the original C agent wrote when netstat could not
// be run, so existing parsers recognise it. The cause is only logged.
const ErrorLine = "Error when calling netstat!"

// Defaults for the Server fields left zero.
const (
	DefaultMaxConns          = 64
	DefaultMaxConnsPerClient = 8
	DefaultMaxCollectorConns = 8
	DefaultWriteTimeout      = 10 * time.Second
)

// Client networks that share one MaxConnsPerClient: the prefix lengths
// one site or one host typically holds.
const (
	clientBitsIPv4 = 24
	clientBitsIPv6 = 64
)

// Accept retry delays after a temporary accept error such as EMFILE.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// Server answers DOTM agent connections. Its zero value serves the
// default allowlist with the default limits but has no Source, so every
// answer is the ErrorLine. A Server must not be copied after first use.
type Server struct {
	// Allow lists the clients allowed; others are closed without a byte
	// written. IPv4-mapped client addresses are unmapped before matching.
	// Empty means DefaultAllow().
	Allow []netip.Prefix
	// MaxConns bounds the connections answered at once; extra ones are
	// closed at once without a byte written. Zero means DefaultMaxConns.
	MaxConns int
	// MaxConnsPerClient bounds the connections one client network (a /24
	// for IPv4, a /64 for IPv6) holds at once, so that a few clients that
	// connect and never read cannot take every slot from the collector,
	// however many addresses of their network they use. Zero means
	// DefaultMaxConnsPerClient.
	MaxConnsPerClient int
	// Collectors lists the addresses the collector connects from. They are
	// always allowed, and MaxCollectorConns connections are reserved for
	// them: a pool that no other client can fill, used before the shared
	// one, so the collector is answered whatever other clients do.
	Collectors []netip.Prefix
	// MaxCollectorConns is the size of the collectors' reserved pool. Zero
	// means DefaultMaxCollectorConns; without Collectors there is no pool.
	MaxCollectorConns int
	// WriteTimeout bounds the whole answer, including calling Source, so a
	// client that does not read cannot hold a connection longer. Zero
	// means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Source reports what to answer, e.g. netinfo.ReadProc("/proc").
	// Connections arriving while a call is under way share its result.
	Source func(ctx context.Context) (*netinfo.Host, error)
	// Log receives connection and error events; nil discards them.
	Log *slog.Logger

	flight singleflight.Group
	mu     sync.Mutex
	held   map[netip.Prefix]int // connections answered now, by client network
}

// DefaultAllow returns the loopback and private address ranges:
// 127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 and
// fc00::/7.
func DefaultAllow() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("fc00::/7"),
	}
}

// Serve accepts connections on ln and answers them until ctx is done,
// then closes ln, waits for the answers under way (each bounded by
// WriteTimeout) and returns nil. It returns an error if accepting fails
// for good; temporary errors such as running out of file descriptors are
// retried after a short pause. Serve closes ln in either case.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var wg sync.WaitGroup
	defer wg.Wait()
	p := &pools{shared: make(chan struct{}, s.maxConns())}
	if len(s.Collectors) > 0 {
		p.collectors = make(chan struct{}, s.maxCollectorConns())
	}
	delay := time.Duration(0)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !temporaryAcceptError(err) {
				return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
			}
			delay = min(max(2*delay, minAcceptDelay), maxAcceptDelay)
			s.logger().Warn("accept failed, retrying", "listener", ln.Addr().String(), "delay", delay, "err", err)
			sleep(ctx, delay)
			continue
		}
		delay = 0
		s.dispatch(ctx, conn, p, &wg)
	}
}

// pools are the connection slots of a Server: the shared ones and, with
// Collectors, those reserved for the collectors (nil without).
type pools struct {
	shared, collectors chan struct{}
}

// dispatch checks the allowlist and the connection limits and starts
// answering conn, or closes it without writing anything.
func (s *Server) dispatch(ctx context.Context, conn net.Conn, p *pools, wg *sync.WaitGroup) {
	client := conn.RemoteAddr().String()
	addr, ok := remoteAddr(conn.RemoteAddr())
	addr = addr.Unmap().WithZone("")
	collector := ok && allowed(s.Collectors, addr)
	if !collector && (!ok || !allowed(s.allow(), addr)) {
		s.logger().Info("client not allowed, closing", "client", client)
		conn.Close()
		return
	}
	release, ok := s.reserve(addr, collector, p)
	if !ok {
		conn.Close()
		return
	}
	s.logger().Debug("accepted", "client", client, "collector", collector)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.answer(ctx, conn, release)
	}()
}

// reserve takes a slot for a connection from addr: a collector's from
// the reserved pool while it has one free, any other from the shared
// pool within its network's cap. It logs a refusal.
func (s *Server) reserve(addr netip.Addr, collector bool, p *pools) (release func(), ok bool) {
	if collector {
		select {
		case p.collectors <- struct{}{}:
			return func() { <-p.collectors }, true
		default: // the reserved pool is full (or there is none): share
		}
	}
	network := clientNetwork(addr)
	if !s.hold(network) {
		s.logger().Warn("too many connections from one client network, closing", "client", addr.String(),
			"network", network.String(), "max_conns_per_client", s.maxPerClient())
		return nil, false
	}
	select {
	case p.shared <- struct{}{}:
		return func() { <-p.shared; s.release(network) }, true
	default:
		s.release(network)
		s.logger().Warn("too many connections, closing", "client", addr.String(), "max_conns", s.maxConns())
		return nil, false
	}
}

// clientNetwork is the network whose connections share one
// MaxConnsPerClient: the /24 of an IPv4 address, the /64 of an IPv6 one.
func clientNetwork(addr netip.Addr) netip.Prefix {
	bits := clientBitsIPv6
	if addr.Is4() {
		bits = clientBitsIPv4
	}
	p, _ := addr.Prefix(bits)
	return p
}

// hold counts a connection of a client network, unless it has all it may
// hold.
func (s *Server) hold(network netip.Prefix) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[network] >= s.maxPerClient() {
		return false
	}
	if s.held == nil {
		s.held = map[netip.Prefix]int{}
	}
	s.held[network]++
	return true
}

// release ends a connection that hold counted.
func (s *Server) release(network netip.Prefix) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[network]--; s.held[network] <= 0 {
		delete(s.held, network)
	}
}

// answer writes the answer to conn within WriteTimeout and closes it. The
// slot is released before the close, so a client that saw the end of its
// answer finds the slot free when it connects again.
func (s *Server) answer(ctx context.Context, conn net.Conn, release func()) {
	defer conn.Close()
	defer release()
	client := conn.RemoteAddr().String()
	deadline := time.Now().Add(s.writeTimeout())
	if err := conn.SetWriteDeadline(deadline); err != nil {
		s.logger().Warn("set write deadline failed", "client", client, "err", err)
		return
	}
	body, err := s.body(ctx, deadline)
	if err != nil {
		s.logger().Warn("no answer in time", "client", client, "err", err)
		return
	}
	if _, err := conn.Write(body); err != nil {
		s.logger().Warn("answer not delivered", "client", client, "bytes", len(body), "err", err)
		discardUnsent(conn)
		return
	}
	s.logger().Debug("answered", "client", client, "bytes", len(body))
}

// body returns the rendered answer, sharing a render under way with other
// connections. It gives up at deadline or when ctx is done.
func (s *Server) body(ctx context.Context, deadline time.Time) ([]byte, error) {
	ch := s.flight.DoChan("answer", func() (any, error) {
		rctx, cancel := context.WithTimeout(ctx, s.writeTimeout())
		defer cancel()
		return s.render(rctx), nil
	})
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case r := <-ch:
		return r.Val.([]byte), nil
	case <-timer.C:
		return nil, errors.New("write timeout passed while collecting")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// render calls Source and formats its result, or returns the ErrorLine
// answer if that fails.
func (s *Server) render(ctx context.Context) []byte {
	if s.Source == nil {
		s.logger().Error("collecting failed: server has no source")
		return errorAnswer()
	}
	h, err := s.Source(ctx)
	if err == nil && h == nil {
		err = errors.New("source returned no host")
	}
	if err != nil {
		s.logger().Error("collecting failed", "err", err)
		return errorAnswer()
	}
	var buf bytes.Buffer
	if err := netinfo.WriteAgent(&buf, h); err != nil {
		s.logger().Error("formatting failed", "err", err)
		return errorAnswer()
	}
	return buf.Bytes()
}

// discardUnsent makes the coming close reset a TCP connection, so the
// kernel drops what a client that stopped reading has not taken yet
// instead of keeping it queued after the close.
func discardUnsent(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
}

// errorAnswer is the answer sent when collecting fails.
func errorAnswer() []byte { return []byte(ErrorLine + "\n") }

// allow returns Allow or, if empty, DefaultAllow().
func (s *Server) allow() []netip.Prefix {
	if len(s.Allow) == 0 {
		return DefaultAllow()
	}
	return s.Allow
}

// maxConns returns MaxConns or its default.
func (s *Server) maxConns() int {
	if s.MaxConns <= 0 {
		return DefaultMaxConns
	}
	return s.MaxConns
}

// maxPerClient returns MaxConnsPerClient or its default.
func (s *Server) maxPerClient() int {
	if s.MaxConnsPerClient <= 0 {
		return DefaultMaxConnsPerClient
	}
	return s.MaxConnsPerClient
}

// maxCollectorConns returns MaxCollectorConns or its default.
func (s *Server) maxCollectorConns() int {
	if s.MaxCollectorConns <= 0 {
		return DefaultMaxCollectorConns
	}
	return s.MaxCollectorConns
}

// writeTimeout returns WriteTimeout or its default.
func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout <= 0 {
		return DefaultWriteTimeout
	}
	return s.WriteTimeout
}

// logger returns Log or a logger that discards.
func (s *Server) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// remoteAddr returns the IP address of a connection's remote end.
func remoteAddr(a net.Addr) (netip.Addr, bool) {
	if tcp, ok := a.(*net.TCPAddr); ok {
		ap := tcp.AddrPort()
		return ap.Addr(), ap.Addr().IsValid()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr(), true
}

// allowed tells whether addr, unmapped and without zone, is in one of the
// prefixes. IPv4-mapped prefixes (::ffff:10.0.0.0/104) match the plain
// IPv4 addresses they map.
func allowed(allow []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range allow {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// temporaryAcceptError tells whether an accept error is worth retrying:
// running out of file descriptors or memory, or a connection aborted
// before it was accepted.
func temporaryAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
