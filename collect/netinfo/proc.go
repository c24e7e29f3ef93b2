package netinfo

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxProcSockets bounds how many socket lines ReadProc and parseProcNetTCP
// accept from one /proc/net/tcp or /proc/net/tcp6 file; more is reported as
// an error instead of using unbounded memory.
const MaxProcSockets = 1_000_000

// procDirBatch is how many directory entries are read at a time while
// walking /proc and /proc/<pid>/fd, so a process with millions of open
// files does not need millions of entries in memory at once.
const procDirBatch = 1024

// procTCPState maps a state code of /proc/net/tcp (the kernel's TCP_*
// enum) to netstat's spelling, or "" for an unknown code.
func procTCPState(code uint64) string {
	switch code {
	case 0x01:
		return StateEstablished
	case 0x02:
		return "SYN_SENT"
	case 0x03:
		return "SYN_RECV"
	case 0x04:
		return "FIN_WAIT1"
	case 0x05:
		return "FIN_WAIT2"
	case 0x06:
		return "TIME_WAIT"
	case 0x07:
		return "CLOSE"
	case 0x08:
		return "CLOSE_WAIT"
	case 0x09:
		return "LAST_ACK"
	case 0x0A:
		return StateListen
	case 0x0B:
		return "CLOSING"
	case 0x0C:
		return "NEW_SYN_RECV"
	}
	return ""
}

// owner is the process that holds a socket open.
type owner struct {
	pid     int
	program string
}

// ReadProc reports this machine's TCP sockets, hostname and interfaces
// without running any program: sockets come from procRoot/net/tcp and
// procRoot/net/tcp6 (the latter may be missing when IPv6 is disabled), the
// owning processes from the socket:[inode] links in procRoot/<pid>/fd and
// the program name from procRoot/<pid>/comm, the hostname from os.Hostname
// and the interfaces from net.Interfaces. Pass "/proc" for the real host.
//
// /proc/net/tcp* shows the sockets of the reader's network namespace to any
// user, so every socket is always listed. Owners are another matter: when
// a socket is held by several processes the lowest PID is reported, and a
// socket whose owner cannot be seen gets PID 0 and Program "". Run as an
// unprivileged user, only the user's own processes are seen: listing
// /proc/<pid>/fd of another user fails the directory permission check
// (EACCES) and reading its links fails the kernel's ptrace access check.
// Both must pass, so an unprivileged agent needs two capabilities to see
// all owners: CAP_DAC_READ_SEARCH (or the broader CAP_DAC_OVERRIDE) to list
// the fd directories and CAP_SYS_PTRACE to read the links. Either one
// alone shows no more than no capability at all (tested on Linux 6.18 with
// setpriv --ambient-caps). /proc/<pid>/comm is world-readable, but without
// the link it cannot be tied to a socket.
func ReadProc(procRoot string) (*Host, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("read hostname: %w", err)
	}
	sockets, inodes, err := readProcSockets(procRoot)
	if err != nil {
		return nil, err
	}
	if err := setOwners(procRoot, sockets, inodes); err != nil {
		return nil, err
	}
	ifaces, err := localInterfaces()
	if err != nil {
		return nil, err
	}
	return &Host{Hostname: hostname, Sockets: sockets, Interfaces: ifaces}, nil
}

// readProcSockets reads procRoot/net/tcp and, if present, procRoot/net/tcp6.
func readProcSockets(procRoot string) ([]Socket, []uint64, error) {
	sockets, inodes, err := readProcNetTCPFile(filepath.Join(procRoot, "net", "tcp"), false)
	if err != nil {
		return nil, nil, err
	}
	s6, i6, err := readProcNetTCPFile(filepath.Join(procRoot, "net", "tcp6"), true)
	if errors.Is(err, os.ErrNotExist) {
		return sockets, inodes, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return append(sockets, s6...), append(inodes, i6...), nil
}

// readProcNetTCPFile opens and parses one /proc/net/tcp-style file.
func readProcNetTCPFile(path string, v6 bool) ([]Socket, []uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	sockets, inodes, err := parseProcNetTCP(f, v6)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return sockets, inodes, nil
}

// parseProcNetTCP parses the content of /proc/net/tcp (v6 false) or
// /proc/net/tcp6 (v6 true). It returns the sockets and, at the same index,
// their inode numbers (0 for sockets no process holds, e.g. TIME_WAIT).
// Owners are left unset. A remote end of 0.0.0.0:0 or [::]:0 becomes the
// zero AddrPort, IPv4-mapped addresses become plain IPv4, and more than
// MaxProcSockets lines are an error.
func parseProcNetTCP(r io.Reader, v6 bool) ([]Socket, []uint64, error) {
	return parseProcNetTCPMax(r, v6, MaxProcSockets)
}

// parseProcNetTCPMax is parseProcNetTCP with the socket limit as a
// parameter.
func parseProcNetTCPMax(r io.Reader, v6 bool, maxSockets int) ([]Socket, []uint64, error) {
	var sockets []Socket
	var inodes []uint64
	sc := bufio.NewScanner(r)
	for lineNo := 1; sc.Scan(); lineNo++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] == "sl" {
			continue
		}
		if len(sockets) >= maxSockets {
			return nil, nil, fmt.Errorf("more than %d sockets", maxSockets)
		}
		s, inode, err := parseProcNetTCPLine(fields, v6)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		sockets = append(sockets, s)
		inodes = append(inodes, inode)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	return sockets, inodes, nil
}

// parseProcNetTCPLine parses the fields of one socket line: sl, local
// address, remote address, state, tx:rx queue, timer, retransmits, uid,
// timeout, inode, and more that are ignored.
func parseProcNetTCPLine(fields []string, v6 bool) (Socket, uint64, error) {
	if len(fields) < 10 {
		return Socket{}, 0, fmt.Errorf("%d fields, want at least 10", len(fields))
	}
	local, err := parseProcAddrPort(fields[1], v6)
	if err != nil {
		return Socket{}, 0, fmt.Errorf("local address: %w", err)
	}
	remote, err := parseProcAddrPort(fields[2], v6)
	if err != nil {
		return Socket{}, 0, fmt.Errorf("remote address: %w", err)
	}
	if remote.Port() == 0 && remote.Addr().IsUnspecified() {
		remote = netip.AddrPort{}
	}
	state, err := parseProcState(fields[3])
	if err != nil {
		return Socket{}, 0, err
	}
	inode, err := strconv.ParseUint(fields[9], 10, 64)
	if err != nil {
		return Socket{}, 0, fmt.Errorf("inode %q: %w", fields[9], err)
	}
	return Socket{Local: local, Remote: remote, State: state}, inode, nil
}

// parseProcState turns a hex state code such as "0A" into netstat's name;
// a code this package does not know (a newer kernel) becomes "UNKNOWN"
// rather than failing the whole read.
func parseProcState(s string) (string, error) {
	code, err := strconv.ParseUint(s, 16, 8)
	if err != nil {
		return "", fmt.Errorf("tcp state %q: %w", s, err)
	}
	if name := procTCPState(code); name != "" {
		return name, nil
	}
	return "UNKNOWN", nil
}

// parseProcAddrPort parses "0100007F:1F90": the address as the kernel
// prints it (each 32-bit word as a hex number in the machine's byte order,
// 8 digits for IPv4, 32 for IPv6) and the port as a plain hex number.
func parseProcAddrPort(s string, v6 bool) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("%q: no port", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: port: %w", s, err)
	}
	want := 8
	if v6 {
		want = 32
	}
	if len(hexAddr) != want {
		return netip.AddrPort{}, fmt.Errorf("%q: address has %d hex digits, want %d", s, len(hexAddr), want)
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: %w", s, err)
	}
	// Each word was printed as a number; turn it back into memory order.
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// setOwners fills in PID and Program of the sockets whose inode a visible
// process holds. inodes[i] is the inode of sockets[i].
func setOwners(procRoot string, sockets []Socket, inodes []uint64) error {
	want := make(map[uint64]owner, len(inodes))
	for _, ino := range inodes {
		if ino != 0 {
			want[ino] = owner{}
		}
	}
	if len(want) == 0 {
		return nil
	}
	if err := findOwners(procRoot, want); err != nil {
		return err
	}
	for i, ino := range inodes {
		if o := want[ino]; o.pid != 0 {
			sockets[i].PID = o.pid
			sockets[i].Program, sockets[i].Title = CanonicalProcess(o.program)
		}
	}
	return nil
}

// findOwners walks the process directories of procRoot and records, for
// each inode key of want, the lowest PID holding it and its program name.
// Processes that cannot be looked into or that vanish are skipped.
func findOwners(procRoot string, want map[uint64]owner) error {
	dir, err := os.Open(procRoot)
	if err != nil {
		return fmt.Errorf("open %s: %w", procRoot, err)
	}
	defer dir.Close()
	for {
		entries, err := dir.ReadDir(procDirBatch)
		for _, e := range entries {
			pid, perr := strconv.Atoi(e.Name())
			if perr != nil || pid <= 0 {
				continue
			}
			claimSockets(filepath.Join(procRoot, e.Name()), pid, want)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", procRoot, err)
		}
	}
}

// claimSockets records pid as the owner of the wanted inodes it holds open,
// unless a lower PID already holds them.
func claimSockets(pidDir string, pid int, want map[uint64]owner) {
	var program string
	var tried, haveProgram bool
	_ = forSocketInodes(filepath.Join(pidDir, "fd"), func(ino uint64) {
		o, ok := want[ino]
		if !ok || (o.pid != 0 && o.pid < pid) {
			return
		}
		if !tried {
			program, haveProgram = readComm(pidDir)
			tried = true
		}
		if haveProgram {
			want[ino] = owner{pid: pid, program: program}
		}
	})
}

// forSocketInodes calls fn with the inode of every socket:[inode] link in
// fdDir. Errors such as permission denied or a vanished process end the
// walk and are returned.
func forSocketInodes(fdDir string, fn func(inode uint64)) error {
	dir, err := os.Open(fdDir)
	if err != nil {
		return err
	}
	defer dir.Close()
	for {
		names, err := dir.Readdirnames(procDirBatch)
		for _, name := range names {
			link, lerr := os.Readlink(filepath.Join(fdDir, name))
			if lerr != nil {
				continue
			}
			if ino, ok := socketInode(link); ok {
				fn(ino)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// socketInode extracts 12345 from a "socket:[12345]" fd link.
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(s, 10, 64)
	return ino, err == nil
}

// readComm returns the program name from pidDir/comm (at most 15 bytes in
// the kernel, read bounded anyway).
func readComm(pidDir string) (string, bool) {
	f, err := os.Open(filepath.Join(pidDir, "comm"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", false
	}
	return strings.TrimSuffix(string(buf[:n]), "\n"), true
}

// localInterfaces lists the machine's interfaces with their addresses, in
// the order of net.Interfaces (by index).
func localInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of interface %s: %w", ifc.Name, err)
		}
		out = append(out, Interface{Name: ifc.Name, Addrs: prefixes(addrs)})
	}
	return out, nil
}

// prefixes converts the *net.IPNet addresses of an interface to prefixes,
// keeping the address bits (10.0.0.5/8, not 10.0.0.0/8).
func prefixes(addrs []net.Addr) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipnet.IP)
		if !ok {
			continue
		}
		ones, bits := ipnet.Mask.Size()
		ip = ip.Unmap()
		if bits == 128 && ip.Is4() {
			ones -= 96
		}
		if p := netip.PrefixFrom(ip, ones); p.IsValid() {
			out = append(out, p)
		}
	}
	return out
}
