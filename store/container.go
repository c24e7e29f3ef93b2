package store

import "strings"

// Containers (network namespaces of a node other than its own) in the
// data contract. A node's own services and connections keep the seed's
// keys and fields exactly. A service or connection inside one of the
// node's containers is the node's too, stored under the seed's key with
// "::@<container>" appended:
//
//	dotm::services::<node>::<port>::@<container>
//	dotm::connections::<node>::<port>::<remote>[::out]::@<container>
//
// and the container's name in the hash field container. A reader that
// splits the key on "::" and takes the first parts sees the node, the
// port and the remote, as with "::out"; one that knows nothing of
// containers reads the hashes as before (process, counts, times), plus
// fields it ignores. '@' is in no port, IPv6 address, node name or
// "out", so the suffix is never mistaken for a part of them; container
// names never contain "::".
//
// Further hash fields:
//   - services: protocol ("udp" for a UDP listener, "tcp,udp" when a
//     TCP and a UDP listener share the port; absent for TCP), forward
//     ("<container>:<port>", or ":<port>" for the node's own namespace)
//     on a published port of the node (docker-proxy, DNAT) naming the
//     service it leads to, and forward_via ("docker-proxy" or "dnat").
//   - connections: remote_container on a connection between two
//     namespaces of the node, which is stored once at its client end with
//     remote the node itself and local_service the port reached, like a
//     loopback connection; "" (absent) when the service reached is the
//     node's own namespace's.
const containerSep = sep + "@"

// Hash fields of containers.
const (
	fContainer       = "container"
	fProtocol        = "protocol"
	fForward         = "forward"
	fForwardVia      = "forward_via"
	fRemoteContainer = "remote_container"
)

// ServiceID names one service key of a node.
type ServiceID struct {
	Port      int
	Container string
}

// containerSuffix is the key suffix of a container's record.
func containerSuffix(container string) string {
	if container == "" {
		return ""
	}
	return containerSep + container
}

// cutContainer splits a key's tail into what precedes the container
// suffix and the container ("" when there is none).
func cutContainer(tail string) (rest, container string) {
	i := strings.LastIndex(tail, containerSep)
	if i < 0 {
		return tail, ""
	}
	return tail[:i], tail[i+len(containerSep):]
}

// containerFields are a service's extra hash fields.
func (sv Service) containerFields() []any {
	var f []any
	for _, kv := range [][2]string{{fContainer, sv.Container}, {fProtocol, sv.Protocol},
		{fForward, sv.Forward}, {fForwardVia, sv.ForwardVia}} {
		if kv[1] != "" {
			f = append(f, kv[0], kv[1])
		}
	}
	return f
}

// containerFields are a connection's extra hash fields.
func (c Connection) containerFields() []any {
	var f []any
	if c.Container != "" {
		f = append(f, fContainer, c.Container)
	}
	if c.RemoteContainer != "" {
		f = append(f, fRemoteContainer, c.RemoteContainer)
	}
	return f
}
