package main

import (
	"cmp"
	"strconv"

	"github.com/lwindolf/dotm/store"
)

// servicePort is a service's port as `dotm nodes show` prints it:
// "80", or "514/udp" for a UDP listener.
func servicePort(sv store.Service) string {
	p := strconv.Itoa(sv.Port)
	if sv.Protocol != "" {
		p += "/" + sv.Protocol
	}
	return p
}

// serviceProcess is a service's process with its container and, for a
// published port, where it leads: "nginx [web]", "docker-proxy → web:80".
func serviceProcess(sv store.Service) string {
	s := inContainer(cmp.Or(sv.Process, "?"), sv.Container)
	if sv.Forward != "" {
		s += " → " + sv.Forward
	}
	return s
}

// inContainer names the container a process or node end lives in:
// "python3 [web]"; the node's own namespace adds nothing.
func inContainer(s, container string) string {
	if container == "" {
		return s
	}
	return s + " [" + container + "]"
}
