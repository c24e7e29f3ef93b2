package monexport

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
)

// header says where a file comes from; it holds nothing volatile, so the
// same architecture writes the same bytes.
const header = "# Written by dotm export from the observed connections; regenerate instead of editing.\n"

// Nagios writes the dependencies as Nagios object definitions: a
// hostdependency per pair of hosts and a servicedependency per pair of
// checks. Host parents belong in the host's own definition, which this
// file does not redefine; a hostdependency suppresses the same
// notifications.
func (d *Deps) Nagios(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprint(b, header)
	for _, h := range d.Hosts {
		fmt.Fprintf(b, "\ndefine hostdependency {\n    host_name                      %s\n    dependent_host_name            %s\n"+
			"    notification_failure_criteria  d,u\n}\n", h.Host, h.DependentHost)
	}
	for _, s := range d.Services {
		fmt.Fprintf(b, "\ndefine servicedependency {\n    host_name                      %s\n    service_description            %s\n"+
			"    dependent_host_name            %s\n    dependent_service_description  %s\n"+
			"    notification_failure_criteria  w,u,c\n}\n", s.Host, s.Service, s.DependentHost, s.DependentService)
	}
	return b.Flush()
}

// Icinga2 writes the dependencies as Icinga 2 Dependency objects, which
// make the child unreachable while its parent fails and keep its
// notifications back. Each object's name is a hash of its parent, so it
// stays the same while the architecture does.
func (d *Deps) Icinga2(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprint(b, "/* "+header[2:len(header)-1]+" */\n")
	for _, h := range d.Hosts {
		fmt.Fprintf(b, "\nobject Dependency \"%s\" {\n  parent_host_name = \"%s\"\n  child_host_name = \"%s\"\n  disable_notifications = true\n}\n",
			name(h.Host), h.Host, h.DependentHost)
	}
	for _, s := range d.Services {
		fmt.Fprintf(b, "\nobject Dependency \"%s\" {\n  parent_host_name = \"%s\"\n  parent_service_name = \"%s\"\n"+
			"  child_host_name = \"%s\"\n  child_service_name = \"%s\"\n  disable_notifications = true\n}\n",
			name(s.Host+"!"+s.Service), s.Host, s.Service, s.DependentHost, s.DependentService)
	}
	return b.Flush()
}

// name is a Dependency's name: unique per child, as Icinga 2 requires.
func name(parent string) string {
	h := fnv.New64a()
	h.Write([]byte(parent))
	return fmt.Sprintf("dotm-%016x", h.Sum64())
}
