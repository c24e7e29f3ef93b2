package netinfo

import (
	"errors"
	"os"
	"path/filepath"
)

// procUDPUnconnected is the state /proc/net/udp shows for a bound socket
// with no peer (the kernel's TCP_CLOSE, 07): a UDP listener, as `ss -uln`
// lists it (UNCONN).
const procUDPUnconnected = "CLOSE"

// readProcUDP reads the UDP listeners of dir/net/udp and, if present,
// dir/net/udp6 (dir is /proc or /proc/<pid>): the bound sockets without a
// peer, returned with State LISTEN and UDP set. Connected UDP sockets
// (a resolver's query socket) are left out: UDP has no connection to
// count.
func readProcUDP(dir string) ([]Socket, []uint64, error) {
	var sockets []Socket
	var inodes []uint64
	for _, f := range []struct {
		name string
		v6   bool
	}{{"udp", false}, {"udp6", true}} {
		s, ino, err := readProcNetTCPFile(filepath.Join(dir, "net", f.name), f.v6)
		if errors.Is(err, os.ErrNotExist) && f.v6 {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		for i := range s {
			if s[i].State != procUDPUnconnected || s[i].Remote.IsValid() {
				continue
			}
			s[i].State, s[i].UDP = StateListen, true
			sockets = append(sockets, s[i])
			inodes = append(inodes, ino[i])
		}
	}
	return sockets, inodes, nil
}
