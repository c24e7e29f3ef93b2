package collect

import (
	"bytes"
	"context"
	"os/exec"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// dnatTimeout bounds the firewall listing of a local fetch.
const dnatTimeout = 5 * time.Second

// localDNAT returns the DNAT rules of this machine's firewall, from
// `iptables -t nat -S` and `ip6tables -t nat -S` (iptables-nft shows the
// rules of nftables' ip/ip6 nat tables made through it, and those
// Docker and Kubernetes make). Listing them needs CAP_NET_ADMIN: without
// it, or without iptables, there are none, and published ports are known
// from docker-proxy only.
func localDNAT(ctx context.Context) []netinfo.Forward {
	ctx, cancel := context.WithTimeout(ctx, dnatTimeout)
	defer cancel()
	var out []netinfo.Forward
	for _, prog := range []string{"iptables", "ip6tables"} {
		path, err := exec.LookPath(prog)
		if err != nil {
			continue
		}
		cmd := exec.CommandContext(ctx, path, "-w", "-t", "nat", "-S")
		cmd.Env = []string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		b, err := cmd.Output()
		if err != nil || len(b) > MaxOutput {
			continue
		}
		fws, err := netinfo.ParseIPTablesNAT(bytes.NewReader(b))
		if err == nil {
			out = append(out, fws...)
		}
	}
	return out
}
