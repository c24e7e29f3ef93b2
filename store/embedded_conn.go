package store

import (
	"net"
	"sync"
)

// asyncWriteConn is the server end of an in-memory connection to the
// embedded store. net.Pipe is unbuffered: with a pipelined client, which
// writes every command before it reads any reply, the server would block
// writing its first reply and stop reading, and both ends would wait
// forever. This end queues replies and writes them from its own
// goroutine, so the server always keeps reading.
type asyncWriteConn struct {
	net.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newAsyncWriteConn(c net.Conn) *asyncWriteConn {
	a := &asyncWriteConn{Conn: c}
	a.cond = sync.NewCond(&a.mu)
	go a.flush()
	return a
}

func (a *asyncWriteConn) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return 0, net.ErrClosed
	}
	a.buf = append(a.buf, p...)
	a.cond.Signal()
	return len(p), nil
}

func (a *asyncWriteConn) Close() error {
	a.mu.Lock()
	a.closed = true
	a.cond.Signal()
	a.mu.Unlock()
	return nil
}

// flush writes queued replies to the pipe until the connection is closed
// and the queue drained, or the client went away.
func (a *asyncWriteConn) flush() {
	defer a.Conn.Close()
	for {
		a.mu.Lock()
		for len(a.buf) == 0 && !a.closed {
			a.cond.Wait()
		}
		b := a.buf
		a.buf = nil
		done := a.closed
		a.mu.Unlock()
		if len(b) > 0 {
			if _, err := a.Conn.Write(b); err != nil {
				a.Close()
				return
			}
		}
		if done && len(b) == 0 {
			return
		}
	}
}
