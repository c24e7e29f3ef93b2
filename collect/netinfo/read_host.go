package netinfo

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadHost is ReadProc for the whole host: besides the sockets of the
// reader's own network namespace (the host's) it reads the UDP listeners
// (/proc/net/udp, udp6) and the sockets of every other network namespace
// (containers, ip netns, unshare --net), one reading per namespace through
// one of its processes (see readNetnsSockets), each socket with its
// namespace's name (NameNetns, with n's root for the runtimes' state),
// and the published ports of docker-proxy processes (ParseDockerProxy).
// Socket inodes are unique across namespaces, so one walk of the fd
// directories finds the owners of them all.
//
// Besides what ReadProc needs, seeing other namespaces needs the ptrace
// access check on /proc/<pid>/ns/net, which CAP_SYS_PTRACE passes; a
// namespace none of whose processes can be looked into is not seen.
// Nothing is entered (no setns), so no CAP_SYS_ADMIN is needed.
func ReadHost(procRoot string, n Namer) (*Host, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("read hostname: %w", err)
	}
	sockets, inodes, err := readProcSockets(procRoot)
	if err != nil {
		return nil, err
	}
	if us, ui, err := readProcUDP(procRoot); err == nil {
		sockets, inodes = append(sockets, us...), append(inodes, ui...)
	}
	var netns []NetnsInfo
	if self, ok := netnsInode(filepath.Join(procRoot, "self", "ns", "net")); ok {
		var ns []Socket
		var ni []uint64
		ns, ni, netns, err = readOtherNetns(procRoot, self, n)
		if err != nil {
			return nil, err
		}
		sockets, inodes = append(sockets, ns...), append(inodes, ni...)
	}
	if err := setOwners(procRoot, sockets, inodes); err != nil {
		return nil, err
	}
	ifaces, err := localInterfaces()
	if err != nil {
		return nil, err
	}
	return &Host{Hostname: hostname, Sockets: sockets, Interfaces: ifaces, Netns: netns,
		Forwards: readDockerProxies(procRoot, proxyPIDs(sockets))}, nil
}

// readOtherNetns reads the sockets and addresses of every namespace but
// self.
func readOtherNetns(procRoot string, self uint64, n Namer) ([]Socket, []uint64, []NetnsInfo, error) {
	all, err := listNetns(procRoot)
	if err != nil {
		return nil, nil, nil, err
	}
	delete(all, self)
	if len(all) == 0 {
		return nil, nil, nil, nil
	}
	names := n.NameNetns(procRoot, all)
	sockets, inodes := readNetnsSockets(procRoot, 0, all, names, true)
	infos := make([]NetnsInfo, 0, len(names))
	for _, ns := range names {
		infos = append(infos, NetnsInfo{Netns: ns, Addrs: readNetnsAddrs(filepath.Join(procRoot, fmt.Sprint(ns.PID)))})
	}
	slices.SortFunc(infos, func(a, b NetnsInfo) int { return strings.Compare(a.Name, b.Name) })
	return sockets, inodes, infos, nil
}

// proxyPIDs are the docker-proxy processes listening in the host's
// namespace: each one publishes a port.
func proxyPIDs(sockets []Socket) []int {
	var out []int
	for _, s := range sockets {
		if s.Netns == "" && s.State == StateListen && s.Program == ViaDockerProxy && !slices.Contains(out, s.PID) {
			out = append(out, s.PID)
		}
	}
	return out
}
