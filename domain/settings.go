package domain

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kind is how a setting's value is shaped and stored.
type Kind int

const (
	// Text is a single value, stored as a Redis string and given as plain text.
	Text Kind = iota
	// List is a list of strings, stored as a Redis list and given as a JSON array.
	List
	// Hash is a map, stored as a Redis hash and given as a JSON object.
	Hash
)

// FieldType is the type of one field of a Hash setting with fixed fields.
type FieldType int

const (
	FieldString FieldType = iota
	FieldInt              // a whole number >= 0
	FieldBool             // given as true/false or 1/0, stored as 1/0
	FieldSecret           // a string never shown: masked in listings and exports
	FieldURL              // a URL or path, shown with any password in it masked
)

// Field is one fixed field of a Hash setting.
type Field struct {
	Name    string
	Type    FieldType
	Default string
}

// Setting describes one dotm::config::<Name> preference.
type Setting struct {
	Name        string
	Title       string
	Description string
	Kind        Kind
	// Fields are the fixed fields of a Hash setting; nil for a free-form
	// map such as service_mapping.
	Fields []Field
	// Default is the value in effect when the setting is not set. For a
	// free-form Hash it is merged under the stored map.
	Default Value
	// check validates a parsed value beyond its shape.
	check func(Value) error
}

// Value is a setting's value; which part is used depends on the Kind.
type Value struct {
	Text string
	List []string
	Hash map[string]string
}

// Mask replaces secrets wherever they are shown.
const Mask = "********"

// ParseValue reads a value given on the command line: plain text for a
// Text setting, JSON for List and Hash settings. It validates the value and
// says what is wrong and what is expected.
func (s *Setting) ParseValue(in string) (Value, error) {
	var v Value
	switch s.Kind {
	case Text:
		v.Text = strings.TrimSpace(in)
	case List:
		if err := json.Unmarshal([]byte(in), &v.List); err != nil {
			return v, fmt.Errorf("setting %s takes a JSON array of strings, e.g. %s: %w", s.Name, s.example(), err)
		}
	case Hash:
		raw := map[string]any{}
		if err := json.Unmarshal([]byte(in), &raw); err != nil {
			return v, fmt.Errorf("setting %s takes a JSON object, e.g. %s: %w", s.Name, s.example(), err)
		}
		h, err := s.hashFromJSON(raw)
		if err != nil {
			return v, err
		}
		v.Hash = h
	}
	return v, s.Validate(v)
}

// hashFromJSON turns a decoded JSON object into stored strings, checking
// fixed fields' names and types.
func (s *Setting) hashFromJSON(raw map[string]any) (map[string]string, error) {
	h := make(map[string]string, len(raw))
	for k, x := range raw {
		f, fixed := s.field(k)
		if s.Fields != nil && !fixed {
			return nil, fmt.Errorf("setting %s has no field %q; its fields are %s", s.Name, k, s.fieldNames())
		}
		str, err := jsonScalar(x)
		if err != nil {
			return nil, fmt.Errorf("setting %s field %q: %w", s.Name, k, err)
		}
		if fixed {
			if str, err = f.normalise(str); err != nil {
				return nil, fmt.Errorf("setting %s field %q: %w", s.Name, k, err)
			}
		}
		h[k] = str
	}
	return h, nil
}

func jsonScalar(x any) (string, error) {
	switch t := x.(type) {
	case string:
		return t, nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case bool:
		if t {
			return "1", nil
		}
		return "0", nil
	default:
		return "", fmt.Errorf("want a string, number or boolean, not %s", jsonName(x))
	}
}

func jsonName(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}

func (f Field) normalise(s string) (string, error) {
	switch f.Type {
	case FieldInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return "", fmt.Errorf("want a whole number >= 0, got %q", s)
		}
		return strconv.FormatInt(n, 10), nil
	case FieldBool:
		switch strings.ToLower(s) {
		case "1", "true", "yes", "on":
			return "1", nil
		case "0", "false", "no", "off", "":
			return "0", nil
		}
		return "", fmt.Errorf("want true or false, got %q", s)
	}
	return s, nil
}

// Validate checks a value's content (CIDRs parse, regexes compile, ports
// are ports, ...).
func (s *Setting) Validate(v Value) error {
	if s.check == nil {
		return nil
	}
	if err := s.check(v); err != nil {
		return fmt.Errorf("setting %s: %w", s.Name, err)
	}
	return nil
}

// originalFields explain the fields the original dotm stored that this
// one reads differently, by "setting.field".
var originalFields = map[string]string{
	"nagios_instance.url": ` (the original dotm's cgi-bin URL; this dotm reads "source", ` +
		`e.g. nagios+https://HOST/nagios4/cgi-bin for Nagios 4's statusjson.cgi)`,
	"nagios_instance.refresh": " (the original dotm's poll interval; this dotm reads the monitoring on every collect)",
}

// CheckStored checks a value as read from the store, where another writer
// (the original dotm, redis-cli) may have put it: fields the setting does
// not have, and what Validate checks. The error names the fix.
func (s *Setting) CheckStored(v Value) error {
	if s.Kind == Hash && s.Fields != nil {
		for _, k := range slices.Sorted(maps.Keys(v.Hash)) {
			if _, ok := s.field(k); !ok {
				return fmt.Errorf("setting %s as stored has a field %q%s that dotm does not read; its fields are %s: "+
					"store it anew with dotm config set %s '%s'", s.Name, k, originalFields[s.Name+"."+k], s.fieldNames(), s.Name, s.example())
			}
		}
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("%w (as stored); store it anew with dotm config set %s, or dotm config unset %s", err, s.Name, s.Name)
	}
	return nil
}

func (s *Setting) field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func (s *Setting) fieldNames() string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = strconv.Quote(f.Name)
	}
	return strings.Join(names, ", ")
}

func (s *Setting) example() string {
	b, _ := s.JSON(s.Default, false)
	return string(b)
}

// Effective merges a stored value over the default: fixed fields and
// free-form maps take each stored field over the default's, lists and
// text replace the default when set.
func (s *Setting) Effective(stored Value, set bool) Value {
	if !set {
		return s.Default
	}
	if s.Kind != Hash {
		return stored
	}
	h := maps.Clone(s.Default.Hash)
	if h == nil {
		h = map[string]string{}
	}
	maps.Copy(h, stored.Hash)
	return Value{Hash: h}
}

// JSON renders a value the way export prints it and import reads it:
// a string, an array, or an object whose fixed fields carry their types.
// With mask, secret fields are replaced by Mask (when not empty).
func (s *Setting) JSON(v Value, mask bool) ([]byte, error) {
	switch s.Kind {
	case Text:
		return json.Marshal(v.Text)
	case List:
		if v.List == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(v.List)
	}
	out := make(map[string]any, len(v.Hash))
	for k, str := range v.Hash {
		out[k] = str
		f, ok := s.field(k)
		if !ok {
			continue
		}
		switch f.Type {
		case FieldInt:
			if n, err := strconv.ParseInt(str, 10, 64); err == nil {
				out[k] = n
			}
		case FieldBool:
			out[k] = str == "1"
		case FieldSecret:
			if mask && str != "" {
				out[k] = Mask
			}
		case FieldURL:
			if mask {
				out[k] = RedactURL(str)
			}
		}
	}
	return json.Marshal(out) // encoding/json sorts map keys
}

// Text renders a value for people: plain text for Text settings, JSON
// otherwise, secrets masked.
func (s *Setting) Text(v Value) string {
	if s.Kind == Text {
		return v.Text
	}
	b, err := s.JSON(v, true)
	if err != nil {
		return fmt.Sprintf("(unprintable: %v)", err)
	}
	return string(b)
}

// Settings lists every setting, in the order the Settings page shows them.
func Settings() []*Setting {
	all := []*Setting{
		{
			Name:  "fetch_parameters",
			Title: "Fetch Method",
			Description: `How to fetch node infos. "method" is "agent" (dotm agent on every node, TCP port ` +
				`"agent_port"), "ssh" (runs ss or netstat and ip addr over SSH as "ssh_user" with key "ssh_key", ` +
				`host keys checked against "ssh_known_hosts") or "local" (this machine). ` +
				`A node's own "method" field overrides it.`,
			Kind: Hash,
			Fields: []Field{
				{Name: "method", Default: "ssh"},
				{Name: "ssh_user", Default: "root"},
				{Name: "ssh_key", Default: ""},
				{Name: "ssh_known_hosts", Default: ""},
				{Name: "agent_port", Type: FieldInt, Default: "4848"},
			},
			check: checkFetch,
		},
		{
			Name:  "other_internal_networks",
			Title: "Internal Networks",
			Description: "Networks that dotm should consider internal, in CIDR syntax. Private networks " +
				"(127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16, ::1, fc00::/7, fe80::/10) are always " +
				"internal; everything else is shown as the Internet.",
			Kind:  List,
			check: checkNetworks,
		},
		{
			Name:        "user_node_aliases",
			Title:       "Additional Node Aliases",
			Description: "Node aliases to map host names of your monitoring to a node in dotm: monitoring name → node name.",
			Kind:        Hash,
			check:       checkAliases,
		},
		{
			Name:  "nagios_instance",
			Title: "Nagios Instance",
			Description: `The monitoring source read by "dotm collect" when no --monitoring is given: "source" is a ` +
				`status.dat path or an icinga2+https://, livestatus+unix://, livestatus+tcp:// or nagios+https:// URL ` +
				`(empty: no monitoring). "user" and "password" (or "password_file", a file holding it) authenticate. ` +
				`"expire" is the number of seconds after which old check results are discarded. "use_aliases" uses ` +
				`the monitoring's host alias instead of its host name. "command_file" is the external command file (a FIFO, ` +
				`command_file in nagios.cfg) that "dotm report --submit nagios_instance" writes passive results to when ` +
				`"source" is a status.dat; "submit_service" is the service those results are for, on each node's host.`,
			Kind: Hash,
			Fields: []Field{
				{Name: "source", Type: FieldURL, Default: ""},
				{Name: "user", Default: "dotm"},
				{Name: "password", Type: FieldSecret, Default: ""},
				{Name: "password_file", Default: ""},
				{Name: "expire", Type: FieldInt, Default: "86400"},
				{Name: "use_aliases", Type: FieldBool, Default: "0"},
				{Name: "command_file", Default: ""},
				{Name: "submit_service", Default: "dotm findings"},
			},
		},
		{
			Name:  "history",
			Title: "History Snapshots",
			Description: "How often and if at all to store history snapshots. Default is one snapshot every " +
				"hour and expiration after 1 week. All values are in seconds.",
			Kind: Hash,
			Fields: []Field{
				{Name: "enabled", Type: FieldBool, Default: "1"},
				{Name: "interval", Type: FieldInt, Default: "3600"},
				{Name: "expire", Type: FieldInt, Default: "604800"},
			},
		},
		{
			Name:  "aging",
			Title: "Service Aging",
			Description: "Number of seconds after which services/connections are considered unused. " +
				`Default is "300"s.`,
			Kind: Hash,
			Fields: []Field{
				{Name: "Services", Type: FieldInt, Default: "300"},
				{Name: "Connections", Type: FieldInt, Default: "300"},
			},
		},
		{
			Name:  "unused",
			Title: "Unused Services",
			Description: "Number of days without a client after which a listening service is reported as " +
				`unused, a candidate for decommissioning (aging only dims it in the graphs). Default is "7" days; ` +
				`"0" uses the services' aging setting.`,
			Kind: Hash,
			Fields: []Field{
				{Name: "Services", Type: FieldInt, Default: "7"},
			},
		},
		{
			Name:        "expire",
			Title:       "Data Retention",
			Description: `Number of days after which old data should be forgotten. Default is "0" (never).`,
			Kind:        Hash,
			Fields: []Field{
				{Name: "Services", Type: FieldInt, Default: "0"},
				{Name: "Connections", Type: FieldInt, Default: "0"},
				{Name: "Nagios Alerts", Type: FieldInt, Default: "0"},
			},
		},
		{
			Name:  "hiding",
			Title: "Hiding Old Objects",
			Description: "Number of days after which old service/connection data is not displayed in node " +
				`graphs anymore. Default is "7" days.`,
			Kind: Hash,
			Fields: []Field{
				{Name: "Services", Type: FieldInt, Default: "7"},
				{Name: "Connections", Type: FieldInt, Default: "7"},
			},
		},
		{
			Name:  "service_mapping",
			Title: "Mapping Service Checks to Processes",
			Description: "Rules that map monitoring service check names to process names as seen by dotm: " +
				"check-name regex → process regex. Both are regular expressions, matched case-insensitively " +
				`and unanchored: use "^" and "$" for exact matches. Your rules are added to the presets; ` +
				`map a preset's check regex to "" to switch it off.`,
			Kind: Hash,
			Default: Value{Hash: map[string]string{
				`^HTTP`:        `^nginx.*|^apache.*|^lighttpd.*`,
				`^Redis`:       `^redis-server.*`,
				`^CouchDB`:     `^couch.*`,
				`^MySQL.*`:     `^mysql.*`,
				`^Postgres.*`:  `^postgres.*|^postmaster.*`,
				`^PgBouncer.*`: `^pgbouncer.*`,
				`^memcached`:   `^memcached.*`,
				`^node\.?js`:   `^nodejs.*|^node$`,
				`.*DNS.*`:      `^named.*`,
			}},
			check: checkMapping,
		},
		{
			Name:  "udp_services",
			Title: "UDP Services",
			Description: "Whether UDP listeners (DNS, NTP, syslog, statsd) count as services, marked UDP. " +
				`The port and name whitelists apply to them too (53 is on the port whitelist by default). Default is "1" (on).`,
			Kind: Hash,
			Fields: []Field{
				{Name: "enabled", Type: FieldBool, Default: "1"},
			},
		},
		{
			Name:  "service_port_whitelist",
			Title: "Aggregator: Service Port Whitelist",
			Description: "Comma separated list of port numbers that are to be ignored. This is to avoid " +
				"presenting basic Unix services (Postfix, any shared filesystem or monitoring agents) as " +
				"high-level services of interest. Add ports of services you do not care about. The ports are " +
				"TCP and UDP ports alike.",
			Kind:    Text,
			Default: Value{Text: "53,953,22,5666,4949,4848,25,631,24007,24009,111,2049"},
			check:   checkPorts,
		},
		{
			Name:  "service_name_whitelist",
			Title: "Aggregator: Service Name Whitelist",
			Description: "Comma separated list of process names that are to be ignored. This is to avoid " +
				"presenting basic Unix services (RPC helpers, shared filesystems, monitoring agents) as " +
				"high-level services of interest. Names are the programs' names as ss shows them; an entry " +
				"written as netstat prints it (\"redis-server *\", \"/usr/sbin/rpc.mountd\") means that program.",
			Kind:    Text,
			Default: Value{Text: "rpc.statd,rpcstatd,rpc.mountd"},
			check:   checkNames,
		},
	}
	for _, s := range all {
		if s.Fields != nil {
			s.Default.Hash = make(map[string]string, len(s.Fields))
			for _, f := range s.Fields {
				s.Default.Hash[f.Name] = f.Default
			}
		}
	}
	return all
}

// Lookup returns the setting called name.
func Lookup(name string) (*Setting, error) {
	all := Settings()
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("unknown setting %q; the settings are %s", name, strings.Join(names, ", "))
}

func checkFetch(v Value) error {
	if err := ValidateMethod(v.Hash["method"]); err != nil {
		return err
	}
	if p := v.Hash["agent_port"]; p != "" {
		if _, err := ParsePort(p); err != nil {
			return fmt.Errorf("agent_port: %w", err)
		}
	}
	return nil
}

func checkNetworks(v Value) error {
	for _, e := range v.List {
		for _, n := range strings.Fields(e) { // the original's "10.0.0.0/8 100.64.0.0/10" too
			if _, err := netip.ParsePrefix(n); err != nil {
				return fmt.Errorf("%q is not a network in CIDR syntax (like 100.64.0.0/10)", n)
			}
		}
	}
	return nil
}

func checkAliases(v Value) error {
	for alias, node := range v.Hash {
		if alias == "" {
			return fmt.Errorf("an alias must not be empty")
		}
		if err := ValidateNodeName(node); err != nil {
			return fmt.Errorf("alias %q: %w", alias, err)
		}
	}
	return nil
}

func checkMapping(v Value) error {
	for _, check := range slices.Sorted(maps.Keys(v.Hash)) {
		if _, err := regexp.Compile("(?i)" + check); err != nil {
			return fmt.Errorf("check regex %q does not compile: %w", check, err)
		}
		if _, err := regexp.Compile("(?i)" + v.Hash[check]); err != nil {
			return fmt.Errorf("process regex %q (for %q) does not compile: %w", v.Hash[check], check, err)
		}
	}
	return nil
}

func checkPorts(v Value) error {
	_, err := ParsePortList(v.Text)
	return err
}

func checkNames(v Value) error {
	for _, n := range SplitList(v.Text) {
		if strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return fmt.Errorf("process name %q contains control characters", n)
		}
	}
	return nil
}

// ParsePort reads a TCP port number, 1 to 65535.
func ParsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a TCP port (1-65535)", s)
	}
	return n, nil
}

// ParsePortList reads a comma-separated list of ports, as in
// service_port_whitelist.
func ParsePortList(s string) ([]int, error) {
	var ports []int
	for _, p := range SplitList(s) {
		n, err := ParsePort(p)
		if err != nil {
			return nil, fmt.Errorf("%w; give a comma-separated list of port numbers like 53,22,5666", err)
		}
		ports = append(ports, n)
	}
	return ports, nil
}

// SplitList splits a comma-separated list, dropping blanks around and
// between items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
