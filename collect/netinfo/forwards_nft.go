package netinfo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
)

// maxRuleset bounds what is read of `nft -j list ruleset`.
const maxRuleset = 32 << 20

// ParseNftRuleset reads the JSON of `nft -j list ruleset` (libnftables-
// json(5)) and returns the DNAT rules that publish a port, for rules made
// with nft itself, which `iptables -t nat -S` does not show ("incompatible
// base-chains"): a rule of any chain with a match of `tcp dport` or `udp
// dport` equal to one port (or to a set of ports, one forward each),
// optionally `ip daddr` / `ip6 daddr` equal to one address as the host's
// end, and a `dnat` statement to one address (and port; without one the
// connection keeps its own). Port ranges, maps, negated matches of the
// port and anything but a plain address in dnat are left out, as is every
// object but a rule. Input that is not such JSON is an error.
func ParseNftRuleset(r io.Reader) ([]Forward, error) {
	var doc struct {
		Nftables []struct {
			Rule *nftRule `json:"rule"`
		} `json:"nftables"`
	}
	dec := json.NewDecoder(io.LimitReader(r, maxRuleset))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("nft -j list ruleset output: %w", err)
	}
	var out []Forward
	for _, o := range doc.Nftables {
		if o.Rule != nil {
			out = append(out, o.Rule.forwards()...)
		}
	}
	return out, nil
}

// nftRule is a rule object: its statements, of which only matches and
// dnat are read.
type nftRule struct {
	Expr []struct {
		Match *struct {
			Op    string          `json:"op"`
			Left  json.RawMessage `json:"left"`
			Right json.RawMessage `json:"right"`
		} `json:"match"`
		DNAT *struct {
			Addr json.RawMessage `json:"addr"`
			Port json.RawMessage `json:"port"`
		} `json:"dnat"`
	} `json:"expr"`
}

func (r *nftRule) forwards() []Forward {
	var (
		proto  string
		ports  []uint16
		listen netip.Addr
		target netip.Addr
		tport  uint16
		dnat   bool
	)
	for _, e := range r.Expr {
		switch {
		case e.Match != nil && e.Match.Op == "==":
			var left struct {
				Payload *struct {
					Protocol string `json:"protocol"`
					Field    string `json:"field"`
				} `json:"payload"`
			}
			if json.Unmarshal(e.Match.Left, &left) != nil || left.Payload == nil {
				continue
			}
			switch p := left.Payload; {
			case (p.Protocol == "tcp" || p.Protocol == "udp") && p.Field == "dport":
				proto, ports = p.Protocol, nftPorts(e.Match.Right)
			case (p.Protocol == "ip" || p.Protocol == "ip6") && p.Field == "daddr":
				var s string
				if json.Unmarshal(e.Match.Right, &s) != nil {
					return nil // a set or prefix of addresses: not one host end
				}
				a, err := netip.ParseAddr(s)
				if err != nil {
					return nil
				}
				listen = a.Unmap()
			}
		case e.DNAT != nil:
			var s string
			a, err := netip.Addr{}, error(nil)
			if err = json.Unmarshal(e.DNAT.Addr, &s); err == nil {
				a, err = netip.ParseAddr(s)
			}
			if err != nil || dnat {
				return nil // a map, an expression, or a second dnat
			}
			target, dnat = a.Unmap(), true
			if len(e.DNAT.Port) > 0 {
				var p uint16
				if json.Unmarshal(e.DNAT.Port, &p) != nil || p == 0 {
					return nil
				}
				tport = p
			}
		}
	}
	if !dnat || len(ports) == 0 {
		return nil
	}
	if !listen.IsValid() {
		listen = netip.IPv4Unspecified() // every address, as ParseIPTablesNAT says it
	}
	out := make([]Forward, 0, len(ports))
	for _, p := range ports {
		to := tport
		if to == 0 {
			to = p
		}
		out = append(out, Forward{UDP: proto == "udp", Listen: netip.AddrPortFrom(listen, p),
			Target: netip.AddrPortFrom(target, to), Via: ViaDNAT})
	}
	return out
}

// nftPorts reads the right side of a port match: one port, or a set of
// ports; nothing for a range or anything else.
func nftPorts(raw json.RawMessage) []uint16 {
	var one uint16
	if json.Unmarshal(raw, &one) == nil && one != 0 {
		return []uint16{one}
	}
	var set struct {
		Set []json.RawMessage `json:"set"`
	}
	if json.Unmarshal(raw, &set) != nil {
		return nil
	}
	var out []uint16
	for _, e := range set.Set {
		var p uint16
		if json.Unmarshal(e, &p) != nil || p == 0 {
			return nil // a range inside the set
		}
		out = append(out, p)
	}
	return out
}
