package simfleet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lwindolf/dotm/collect/agent"
	"github.com/lwindolf/dotm/collect/netinfo"
)

// Serve answers every host's agent on its loopback address until ctx is
// done. It returns once all listeners are up (or one failed); the
// returned wait function blocks until they have stopped.
func (f *Fleet) Serve(ctx context.Context) (wait func(), err error) {
	var wg sync.WaitGroup
	var lc net.ListenConfig
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, h := range f.Hosts {
		ln, err := lc.Listen(ctx, "tcp", h.Agent.String())
		if err != nil {
			return wg.Wait, fmt.Errorf("simulated host %s: %w", h.Name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch {
			case h.Silent:
				serveSilent(ctx, ln)
			case h.Garbage:
				serveGarbage(ctx, ln)
			default:
				report, delay := h.Report(), h.Delay
				srv := &agent.Server{Allow: loopback, Source: func(ctx context.Context) (*netinfo.Host, error) {
					select {
					case <-time.After(delay):
						return report, nil
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}}
				_ = srv.Serve(ctx, ln)
			}
		}()
	}
	return wg.Wait, nil
}

// serveSilent accepts and holds connections without a byte, like a hung
// host.
func serveSilent(ctx context.Context, ln net.Listener) {
	context.AfterFunc(ctx, func() { ln.Close() })
	var conns []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return
		}
		conns = append(conns, c)
	}
}

// serveGarbage answers with text that is not the agent protocol.
func serveGarbage(ctx context.Context, ln net.Listener) {
	context.AfterFunc(ctx, func() { ln.Close() })
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		c.Close()
	}
}
