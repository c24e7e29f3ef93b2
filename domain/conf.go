package domain

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Conf is the effective configuration in typed form, as collect and
// render use it. Values that do not parse (set behind dotm's back) fall
// back to defaults; `dotm config set` refuses them in the first place.
type Conf struct {
	FetchMethod    string
	SSHUser        string
	SSHKey         string
	SSHKnownHosts  string
	AgentPort      int
	InternalNets   []netip.Prefix
	NodeAliases    map[string]string
	Nagios         map[string]string // nagios_instance fields
	HistoryEnabled bool
	HistoryEvery   time.Duration
	HistoryExpire  time.Duration
	AgingServices  time.Duration
	AgingConns     time.Duration
	UnusedServices time.Duration  // no client for this long: reported unused
	ExpireDays     map[string]int // "Services", "Connections", "Nagios Alerts"
	HidingDays     map[string]int // "Services", "Connections"
	Mapping        []MappingRule  // sorted by check regex
	IgnoredPorts   map[int]bool
	IgnoredNames   map[string]bool
	UDPServices    bool // UDP listeners count as services (udp_services)
}

// MappingRule maps service checks whose name matches Check to services
// whose process matches Process, both case-insensitive.
type MappingRule struct {
	Check, Process *regexp.Regexp
}

// Internet is the remote of every connection to an address outside the
// internal networks, as collect stores it and the site draws it.
const Internet = "Internet"

// PrivateNets are always internal: loopback, RFC 1918, link-local and
// IPv6 unique-local addresses. The slice is the caller's to change.
func PrivateNets() []netip.Prefix { return slices.Clone(privateNets) }

var privateNets = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

// IsInternal reports whether ip belongs to a private or configured
// internal network.
func (c *Conf) IsInternal(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range c.InternalNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ConfFrom builds the typed configuration from effective values by
// setting name (as SettingValue.Value gives them).
func ConfFrom(v map[string]Value) *Conf {
	fp, hist := v["fetch_parameters"].Hash, v["history"].Hash
	c := &Conf{
		FetchMethod:    fp["method"],
		SSHUser:        fp["ssh_user"],
		SSHKey:         fp["ssh_key"],
		SSHKnownHosts:  fp["ssh_known_hosts"],
		AgentPort:      atoiOr(fp["agent_port"], 4848),
		InternalNets:   PrivateNets(),
		NodeAliases:    v["user_node_aliases"].Hash,
		Nagios:         v["nagios_instance"].Hash,
		HistoryEnabled: hist["enabled"] == "1",
		HistoryEvery:   seconds(hist["interval"], 3600),
		HistoryExpire:  seconds(hist["expire"], 604800),
		AgingServices:  seconds(v["aging"].Hash["Services"], 300),
		AgingConns:     seconds(v["aging"].Hash["Connections"], 300),
		ExpireDays:     intMap(v["expire"].Hash),
		HidingDays:     intMap(v["hiding"].Hash),
		IgnoredPorts:   map[int]bool{},
		IgnoredNames:   map[string]bool{},
		UDPServices:    v["udp_services"].Hash["enabled"] != "0",
	}
	c.UnusedServices = time.Duration(atoiOr(v["unused"].Hash["Services"], 7)) * 24 * time.Hour
	if c.UnusedServices <= 0 {
		c.UnusedServices = c.AgingServices
	}
	for _, n := range v["other_internal_networks"].List {
		// One element may hold several networks separated by spaces, as
		// the original dotm wrote them; LoadConf refuses what does not parse.
		for _, n := range strings.Fields(n) {
			if p, err := netip.ParsePrefix(n); err == nil {
				c.InternalNets = append(c.InternalNets, p.Masked())
			}
		}
	}
	for check, proc := range v["service_mapping"].Hash {
		cr, err1 := regexp.Compile("(?i)" + check)
		pr, err2 := regexp.Compile("(?i)" + proc)
		if proc != "" && err1 == nil && err2 == nil {
			c.Mapping = append(c.Mapping, MappingRule{Check: cr, Process: pr})
		}
	}
	sortRules(c.Mapping)
	for _, p := range SplitList(v["service_port_whitelist"].Text) {
		if n, err := ParsePort(p); err == nil {
			c.IgnoredPorts[n] = true
		}
	}
	for _, n := range SplitList(v["service_name_whitelist"].Text) {
		c.IgnoredNames[n] = true
	}
	return c
}

func sortRules(r []MappingRule) {
	slices.SortFunc(r, func(a, b MappingRule) int { return strings.Compare(a.Check.String(), b.Check.String()) })
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

func seconds(s string, def int) time.Duration {
	return time.Duration(atoiOr(s, def)) * time.Second
}

func intMap(h map[string]string) map[string]int {
	out := make(map[string]int, len(h))
	for k, s := range h {
		out[k] = atoiOr(s, 0)
	}
	return out
}

// DefaultConf is the configuration with every setting at its default.
func DefaultConf() *Conf {
	v := map[string]Value{}
	for _, s := range Settings() {
		v[s.Name] = s.Default
	}
	return ConfFrom(v)
}
