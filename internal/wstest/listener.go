package wstest

import (
	"net"
	"sync"
)

// ListenOnce returns a net.Listener whose Accept hands out c once and then
// blocks until the listener is closed, which closing c also does: an
// http.Server's Serve on it returns once the one connection is done.
func ListenOnce(c net.Conn) net.Listener {
	l := &oneConnListener{conn: make(chan net.Conn, 1), closed: make(chan struct{}), addr: c.LocalAddr()}
	l.conn <- &closeNotifier{Conn: c, l: l}
	return l
}

// oneConnListener is the listener ListenOnce returns.
type oneConnListener struct {
	conn   chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conn:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return l.addr }

// closeNotifier closes its listener when it is closed.
type closeNotifier struct {
	net.Conn
	l *oneConnListener
}

func (c *closeNotifier) Close() error {
	c.l.Close()
	return c.Conn.Close()
}
