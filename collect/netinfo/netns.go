package netinfo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Netns is a network namespace of the host other than the reader's own
// (the host's), whose sockets the host reported too.
type Netns struct {
	// Name names the namespace on the host, unique among its namespaces:
	// the `ip netns` name, the container's name, or the owning process
	// (see NameNetns). It is at most MaxNetnsName bytes of
	// [A-Za-z0-9._/-]; other bytes became '_'.
	Name string
	// Kind says where the name came from: "netns" (ip netns), "docker",
	// "podman", "containerd", "cri-o", "kubernetes" (a pod), or "process".
	Kind string
	// Inode is the namespace's inode (the number in net:[N]); 0 when the
	// source did not say.
	Inode uint64
	// PID is the process whose /proc/<pid>/net was read (the lowest PID
	// in the namespace); 0 when the source did not say.
	PID int
}

// MaxNetnsName bounds a namespace name.
const MaxNetnsName = 100

// netnsProcs is every network namespace the walk of /proc found, by
// inode, with the PIDs in it in ascending order.
type netnsProcs map[uint64][]int

// netnsInode reads a /proc/<pid>/ns/net link ("net:[4026531833]").
func netnsInode(path string) (uint64, bool) {
	link, err := os.Readlink(path)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(link, "net:[")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return ino, err == nil
}

// listNetns walks procRoot and groups the processes by network
// namespace. A process whose ns/net link cannot be read (another user's,
// without CAP_SYS_PTRACE, or one that ended) is left out.
func listNetns(procRoot string) (netnsProcs, error) {
	dir, err := os.Open(procRoot)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", procRoot, err)
	}
	defer dir.Close()
	out := netnsProcs{}
	for {
		names, err := dir.Readdirnames(procDirBatch)
		for _, name := range names {
			pid, perr := strconv.Atoi(name)
			if perr != nil || pid <= 0 {
				continue
			}
			if ino, ok := netnsInode(filepath.Join(procRoot, name, "ns", "net")); ok {
				out[ino] = append(out[ino], pid)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", procRoot, err)
		}
	}
	for _, pids := range out {
		slices.Sort(pids)
	}
	return out, nil
}

// readNetnsSockets reads the sockets of every network namespace but the
// reader's own (self), one reading per namespace through the lowest PID
// in it: /proc/<pid>/net/tcp shows that process's namespace. Each socket
// has Netns set to its namespace's name. A namespace whose process ended
// between the walk and the reading is left out; so is one whose files
// cannot be read.
func readNetnsSockets(procRoot string, self uint64, all netnsProcs, names map[uint64]Netns, udp bool) ([]Socket, []uint64) {
	inodes := make([]uint64, 0, len(all))
	for ino := range all {
		if ino != self {
			inodes = append(inodes, ino)
		}
	}
	slices.SortFunc(inodes, func(a, b uint64) int { return strings.Compare(names[a].Name, names[b].Name) })
	var sockets []Socket
	var sockInodes []uint64
	for _, ino := range inodes {
		pidDir := filepath.Join(procRoot, strconv.Itoa(all[ino][0]))
		s, i, err := readProcSockets(pidDir)
		if err != nil {
			continue
		}
		if udp {
			if us, ui, err := readProcUDP(pidDir); err == nil {
				s, i = append(s, us...), append(i, ui...)
			}
		}
		for k := range s {
			s[k].Netns = names[ino].Name
		}
		sockets = append(sockets, s...)
		sockInodes = append(sockInodes, i...)
	}
	return sockets, sockInodes
}

// cleanNetnsName makes s a namespace name: bytes outside [A-Za-z0-9._/-]
// become '_', and it is cut to MaxNetnsName bytes; "" becomes "_".
func cleanNetnsName(s string) string {
	b := []byte(s)
	if len(b) > MaxNetnsName {
		b = b[:MaxNetnsName]
	}
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '/' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}
