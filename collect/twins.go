package collect

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// twins finds nodes whose answers claim the same host: the same hostname
// and the same identifying addresses. That is one machine under two
// names, or an agent copying another's identity. Both keep their data
// under their own node names (which one is genuine cannot be told, and a
// host must not be able to erase another's data by copying it); each gets
// a fetch_status that names the other, by node, and says what to check.
// The shared addresses resolve to no node, as every ambiguous IP.
func twins(hosts map[string]*netinfo.Host) map[string]string {
	byIdentity := map[string][]string{}
	for name, h := range hosts {
		ips := hostIPs(h)
		if h.Hostname == "" || len(ips) == 0 {
			continue
		}
		addrs := make([]string, len(ips))
		for i, ip := range ips {
			addrs[i] = ip.String()
		}
		slices.Sort(addrs)
		id := h.Hostname + "\x00" + strings.Join(slices.Compact(addrs), ",")
		byIdentity[id] = append(byIdentity[id], name)
	}
	status := map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(byIdentity)) {
		names := byIdentity[id]
		if len(names) < 2 {
			continue
		}
		slices.Sort(names)
		for _, n := range names {
			// At most MaxNamed others, so a thousand copies of one
			// agent do not store a million names.
			others := slices.DeleteFunc(slices.Clone(names[:min(len(names), MaxNamed+1)]), func(o string) bool { return o == n })
			others = others[:min(len(others), MaxNamed)]
			list := strings.Join(others, ", ")
			if more := len(names) - 1 - len(others); more > 0 {
				list += fmt.Sprintf(" and %d more", more)
			}
			status[n] = fmt.Sprintf("answers as the same host as node %s (same hostname and addresses); "+
				"remove the duplicate node, or check the agent of each", list)
		}
	}
	return status
}
