package report

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// DefaultSMTPTimeout bounds each network step of sending the report: the
// dial, the server's greeting, the TLS handshake and every command.
const DefaultSMTPTimeout = 30 * time.Second

// smtpDialer dials the SMTP server with every step bounded: each read and
// write of the connection must finish within step, the whole exchange
// within total, and the connection is closed as soon as ctx is done (a
// SIGTERM), so no server can hold dotm by accepting and never answering.
type smtpDialer struct {
	ctx   context.Context // the command's: done on SIGINT or SIGTERM
	step  time.Duration
	total time.Duration
	tls   *tls.Config // non-nil: implicit TLS (--smtp-tls tls)
}

// dial is a go-mail DialContextFunc. The ctx go-mail passes bounds the
// dial only; d.ctx bounds the whole conversation.
func (d *smtpDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.step)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// Closing the connection is what ends a read or write under way.
	overall, stop := context.WithTimeout(d.ctx, d.total)
	context.AfterFunc(overall, func() { raw.Close() })
	var conn net.Conn = &stepConn{Conn: raw, step: d.step, stop: stop}
	if d.tls != nil {
		tc := tls.Client(conn, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			tc.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	return conn, nil
}

// stepConn is a connection whose every read and write must finish within
// step of its start.
type stepConn struct {
	net.Conn
	step time.Duration
	stop context.CancelFunc
}

func (c *stepConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.step)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *stepConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.step)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *stepConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
