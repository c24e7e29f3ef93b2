package simfleet

import (
	"fmt"
	"io"
	"strings"
)

// Check is a simulated monitoring check of a host.
type Check struct {
	Host, Name string
	State      int // 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
	Output     string
}

// Checks are the monitoring checks of the fleet: the usual ones on every
// host, plus a few problems: a full disk, a CRITICAL database on db01, a
// memcached nobody monitors properly. The first host of each tier gets an
// HTTP or service check for its main process.
func (f *Fleet) Checks() []Check {
	var out []Check
	for _, h := range f.Hosts {
		out = append(out, Check{h.Name, "Load", 0, "OK - load average: 0.12, 0.10, 0.09"},
			Check{h.Name, "Disk /var", 0, "DISK OK - free space: /var 8123 MB (61% inode=90%)"})
		switch h.Tier {
		case "web", "lb":
			out = append(out, Check{h.Name, "HTTP", 0, "HTTP OK: HTTP/1.1 200 OK - 612 bytes in 0.002 second response time"})
		case "db":
			out = append(out, Check{h.Name, "MySQL connections", 0, "Uptime: 86400 Threads: 12 Questions: 9876"})
		case "cache":
			out = append(out, Check{h.Name, "Redis", 0, "TCP OK - 0.000 second response time on port 6379"})
		}
	}
	for i := range out {
		switch {
		case out[i].Host == "db01" && out[i].Name == "MySQL connections":
			out[i].State, out[i].Output = 2, "Can't connect to MySQL server on '10.1.0.9' (111)"
		case out[i].Host == "web02" && out[i].Name == "Disk /var":
			out[i].State, out[i].Output = 1, "DISK WARNING - free space: /var 812 MB (8% inode=70%)"
		}
	}
	return out
}

// WriteStatusDat writes the fleet's checks as Nagios 4 writes its
// status.dat (the fields dotm reads), all checked at t.
func (f *Fleet) WriteStatusDat(w io.Writer, t int64) error {
	var b strings.Builder
	fmt.Fprintf(&b, "info {\n\tcreated=%d\n\tversion=4.4.6\n\t}\n\n", t)
	for _, h := range f.Hosts {
		fmt.Fprintf(&b, "hoststatus {\n\thost_name=%s\n\thas_been_checked=1\n\tcurrent_state=0\n"+
			"\tlast_check=%d\n\tlast_state_change=%d\n\tplugin_output=PING OK - Packet loss = 0%%, RTA = 0.05 ms\n"+
			"\tlong_plugin_output=\n\t}\n\n", h.Name, t, t-86400)
	}
	for _, c := range f.Checks() {
		fmt.Fprintf(&b, "servicestatus {\n\thost_name=%s\n\tservice_description=%s\n\thas_been_checked=1\n"+
			"\tcurrent_state=%d\n\tlast_check=%d\n\tlast_state_change=%d\n\tplugin_output=%s\n\tlong_plugin_output=\n\t}\n\n",
			c.Host, c.Name, c.State, t, t-3600, c.Output)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
