package bench

import (
	"bufio"
	"net"
	"net/http"

	"github.com/zerows/websocket"
)

// zerows: Wait for each message from the mailbox (and Recycle it once
// read), Send, and PreparedMessage with SendPrepared for broadcast.

func init() {
	register(peer{
		name:      "zerows",
		server:    zerowsServer,
		client:    zerowsClient,
		broadcast: zerowsBroadcast,
	})
}

var zerowsOpts = &websocket.Options{MaxMessageSize: readLimit}

type zerowsEP struct {
	c  *websocket.Conn
	nc net.Conn // the conn underneath, so that close can drop it like the peers do
}

// captureWriter remembers the conn that Upgrade hijacks.
type captureWriter struct {
	http.ResponseWriter
	nc net.Conn
}

func (w *captureWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	w.nc = nc
	return nc, brw, err
}

func zerowsServer(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	return zerowsUpgrade(w, r, zerowsOpts)
}

// zerowsUpgrade is zerowsServer with the given options.
func zerowsUpgrade(w http.ResponseWriter, r *http.Request, opts *websocket.Options) (endpoint, error) {
	cw := &captureWriter{ResponseWriter: w}
	c, err := websocket.Upgrade(cw, r, opts)
	if err != nil {
		return nil, err
	}
	return &zerowsEP{c: c, nc: cw.nc}, nil
}

func (e *zerowsEP) recv(n int, fn func([]byte)) error {
	for range n {
		m, err := e.c.Wait()
		if err != nil {
			return err
		}
		if fn != nil {
			fn(m.Data)
		}
		e.c.Recycle(m) // the fastest documented style: hand the bytes back
	}
	return nil
}

func (e *zerowsEP) send(p []byte) error { return e.c.Send(p) }

func (e *zerowsEP) echo() error {
	for {
		m, err := e.c.Wait()
		if err != nil {
			return err
		}
		if err := e.c.SendMessage(m); err != nil {
			return err
		}
		e.c.Recycle(m) // Send has written it
	}
}

// close drops the TCP connection without a closing handshake, as the
// peers' close does, then lets Close release the Conn (it returns at once,
// as the conn is gone).
func (e *zerowsEP) close() error {
	if e.nc != nil {
		_ = e.nc.Close()
	}
	_ = e.c.Close()
	return nil
}

func zerowsBroadcast(eps []endpoint, p []byte) error {
	pm := websocket.NewPreparedMessage(websocket.MessageBinary, p)
	for _, ep := range eps {
		if err := ep.(*zerowsEP).c.SendPrepared(pm); err != nil {
			return err
		}
	}
	return nil
}
