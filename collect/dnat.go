package collect

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// dnatTimeout bounds the firewall listing of a local fetch.
const dnatTimeout = 5 * time.Second

// localDNAT returns the DNAT rules of this machine's firewall, from
// `iptables -t nat -S` and `ip6tables -t nat -S` (iptables-nft shows the
// rules of nftables' ip/ip6 nat tables made through it, and those
// Docker and Kubernetes make) and from `nft -j list ruleset` (rules made
// with nft itself, which iptables cannot show), each forward once.
// Listing them needs CAP_NET_ADMIN: without it, or without the tools,
// there are none, and published ports are known from docker-proxy only.
func localDNAT(ctx context.Context) []netinfo.Forward {
	ctx, cancel := context.WithTimeout(ctx, dnatTimeout)
	defer cancel()
	var out []netinfo.Forward
	seen := map[netinfo.Forward]bool{}
	for _, c := range []struct {
		prog  string
		args  []string
		parse func(io.Reader) ([]netinfo.Forward, error)
	}{
		{"iptables", []string{"-w", "-t", "nat", "-S"}, netinfo.ParseIPTablesNAT},
		{"ip6tables", []string{"-w", "-t", "nat", "-S"}, netinfo.ParseIPTablesNAT},
		{"nft", []string{"-j", "list", "ruleset"}, netinfo.ParseNftRuleset},
	} {
		path, err := exec.LookPath(c.prog)
		if err != nil {
			continue
		}
		cmd := exec.CommandContext(ctx, path, c.args...)
		cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		b, err := cmd.Output()
		if err != nil || len(b) > MaxOutput {
			continue
		}
		fws, err := c.parse(bytes.NewReader(b))
		if err != nil {
			continue
		}
		for _, fw := range fws {
			if !seen[fw] {
				seen[fw] = true
				out = append(out, fw)
			}
		}
	}
	return out
}
