package report

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/lwindolf/dotm/analyze"
)

// formats are the formats of `dotm report`, in the order the help lists them.
var formats = []string{"text", "markdown", "html", "json", "email"}

// Formats are the report's formats; the slice is the caller's.
func Formats() []string { return slices.Clone(formats) }

// Write writes the findings to w in format (one of Formats; anything
// else is text). The email format is the whole message from from to to,
// for "sendmail -t".
func Write(w io.Writer, f *analyze.Findings, format, from string, to []string) error {
	switch format {
	case "markdown":
		return Markdown(f, w)
	case "html":
		return HTML(f, w)
	case "json":
		return JSON(f, w)
	case "email":
		msg, err := Mail(f, from, to)
		if err != nil {
			return err
		}
		_, err = msg.WriteTo(w)
		return err
	default:
		return Text(f, w)
	}
}

// SMTP is the server the report is sent through and how.
type SMTP struct {
	Host string
	Port int
	// TLS is "starttls" (required), "tls" (implicit) or "none".
	TLS string
	// RootCAs verify the server's certificate (nil: the system's).
	RootCAs *x509.CertPool
	// Timeout bounds each step; the whole sending takes at most five.
	Timeout time.Duration
	// User and Password authenticate, when User is set.
	User, Password string
}

// Addr is the server as HOST:PORT, for messages.
func (s SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Send mails the findings from from to to through s.
func Send(ctx context.Context, f *analyze.Findings, from string, to []string, s SMTP) error {
	msg, err := Mail(f, from, to)
	if err != nil {
		return err
	}
	tlsConf := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12, RootCAs: s.RootCAs}
	dialer := &smtpDialer{ctx: ctx, step: s.Timeout, total: 5 * s.Timeout}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTLSConfig(tlsConf), mail.WithTimeout(s.Timeout),
		mail.WithDialContextFunc(dialer.dial)}
	switch s.TLS {
	case "tls":
		// The dialer does the TLS handshake; go-mail sees a TLS connection
		// (and so allows PLAIN and LOGIN authentication) and, with no
		// STARTTLS offered on it, sends no STARTTLS.
		dialer.tls = tlsConf
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.User), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail client for %s: %w", s.Addr(), err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("send the report through %s: stopped: %w", s.Addr(), context.Cause(ctx))
		}
		return fmt.Errorf("send the report through %s (each step may take --smtp-timeout %s): %w", s.Addr(), s.Timeout, err)
	}
	return nil
}
