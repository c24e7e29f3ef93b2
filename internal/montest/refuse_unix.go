//go:build unix

package montest

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// refusingTCP binds a TCP socket to a free port of 127.0.0.1 and never
// listens on it. The kernel answers a connection attempt to a port with
// no listening socket with RST ("connection refused"), exactly as for a
// port nobody uses; unlike a port found free and let go, this one stays
// reserved until the returned closer runs: without SO_REUSEADDR on the
// socket, no other socket may bind it, and the kernel picks no outgoing
// connection's local port from it.
func refusingTCP() (int, io.Closer, error) {
	syscall.ForkLock.RLock() // no exec between socket and close-on-exec
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return 0, nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "closed-port")
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		f.Close()
		return 0, nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		f.Close()
		return 0, nil, fmt.Errorf("getsockname: %w", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		f.Close()
		return 0, nil, fmt.Errorf("getsockname: %T, want an IPv4 address", sa)
	}
	return in4.Port, f, nil
}
