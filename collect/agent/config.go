package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// Config is how an agent is run: the command-line flags shared by the
// dotm-agent binary and "dotm agent".
type Config struct {
	Listen   string
	Allow    []netip.Prefix
	MaxConns int
	// MaxConnsPerClient bounds one client network's connections at once
	// (a /24 for IPv4, a /64 for IPv6).
	MaxConnsPerClient int
	// Collectors are the collector's addresses, always allowed and served
	// from MaxCollectorConns reserved connections.
	Collectors        []netip.Prefix
	MaxCollectorConns int
	Timeout           time.Duration
	Proc              string
}

// BindFlags registers the agent's flags on fs. The returned function,
// called after parsing, checks them and gives the Config.
func BindFlags(fs *pflag.FlagSet) func() (Config, error) {
	listen := fs.String("listen", ":4848", "address to listen on, host:port")
	allow := fs.StringSlice("allow", nil, "client network allowed to connect, as CIDR (repeatable; default: loopback and private networks "+prefixList(DefaultAllow())+")")
	maxConns := fs.Int("max-conns", DefaultMaxConns, "connections answered at once; more are closed at once")
	perClient := fs.Int("max-conns-per-client", DefaultMaxConnsPerClient, "connections one client network (a /24 for IPv4, a /64 for IPv6) holds at once; more are closed at once")
	collectors := fs.StringSlice("collector", nil, "address or CIDR the collector connects from (repeatable): always allowed, and served from connections no other client can take")
	perCollector := fs.Int("max-collector-conns", DefaultMaxCollectorConns, "connections reserved for the --collector addresses")
	timeout := fs.Duration("timeout", DefaultWriteTimeout, "time to collect and write one answer")
	proc := fs.String("proc", "/proc", "procfs to read sockets and processes from")
	return func() (Config, error) {
		c := Config{Listen: *listen, MaxConns: *maxConns, MaxConnsPerClient: *perClient,
			MaxCollectorConns: *perCollector, Timeout: *timeout, Proc: *proc}
		if err := c.check(); err != nil {
			return c, err
		}
		var err error
		if c.Allow, err = parsePrefixes("--allow", *allow); err != nil {
			return c, err
		}
		if len(c.Allow) == 0 {
			c.Allow = DefaultAllow()
		}
		c.Collectors, err = parsePrefixes("--collector", *collectors)
		return c, err
	}
}

// check rejects flag values that cannot work.
func (c Config) check() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	if c.MaxConns < 1 {
		return fmt.Errorf("--max-conns must be at least 1, not %d", c.MaxConns)
	}
	if c.MaxConnsPerClient < 1 {
		return fmt.Errorf("--max-conns-per-client must be at least 1, not %d", c.MaxConnsPerClient)
	}
	if c.MaxCollectorConns < 1 {
		return fmt.Errorf("--max-collector-conns must be at least 1, not %d", c.MaxCollectorConns)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, not %s", c.Timeout)
	}
	if c.Proc == "" {
		return errors.New("--proc must not be empty")
	}
	return nil
}

// parsePrefixes parses the values of the CIDR flag name (--allow,
// --collector). A bare address stands for that address only.
func parsePrefixes(name string, values []string) ([]netip.Prefix, error) {
	prefixes := make([]netip.Prefix, 0, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%s %q: not a CIDR such as 10.0.0.0/8 or an IP address", name, v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}

// prefixList joins prefixes with commas.
func prefixList(prefixes []netip.Prefix) string {
	s := make([]string, len(prefixes))
	for i, p := range prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Run listens on c.Listen and answers with this host's /proc until ctx is
// done.
func Run(ctx context.Context, c Config, log *slog.Logger) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	}
	srv := &Server{
		Allow:             c.Allow,
		MaxConns:          c.MaxConns,
		MaxConnsPerClient: c.MaxConnsPerClient,
		Collectors:        c.Collectors,
		MaxCollectorConns: c.MaxCollectorConns,
		WriteTimeout:      c.Timeout,
		Source: func(context.Context) (*netinfo.Host, error) {
			return netinfo.ReadHost(c.Proc, netinfo.Namer{Root: "/"})
		},
		Log: log,
	}
	log.Info("listening", "addr", ln.Addr().String(), "allow", prefixList(c.Allow),
		"max_conns", c.MaxConns, "max_conns_per_client", c.MaxConnsPerClient, "collectors", prefixList(c.Collectors),
		"max_collector_conns", c.MaxCollectorConns, "timeout", c.Timeout, "proc", c.Proc)
	return srv.Serve(ctx, ln)
}
