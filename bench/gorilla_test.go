package bench

import (
	"bytes"
	"context"
	"net/http"

	"github.com/gorilla/websocket"
)

// gorilla/websocket: NextReader into a reused buffer, WriteMessage,
// PreparedMessage for broadcast. Buffers are the 4 KiB defaults (the server
// reuses net/http's hijacked ones, as gorilla does by default).

func init() {
	register(peer{
		name:      "gorilla",
		server:    gorillaServer,
		client:    gorillaClient,
		broadcast: gorillaBroadcast,
	})
}

var gorillaUpgrader websocket.Upgrader

type gorillaEP struct {
	c   *websocket.Conn
	buf bytes.Buffer
}

func gorillaServer(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	c, err := gorillaUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return &gorillaEP{c: c}, nil
}

func gorillaClient(ctx context.Context, url string, dial dialFunc) (endpoint, error) {
	d := websocket.Dialer{NetDialContext: dial}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return &gorillaEP{c: c}, nil
}

func (e *gorillaEP) next() (int, []byte, error) {
	mt, r, err := e.c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	e.buf.Reset()
	if _, err := e.buf.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	return mt, e.buf.Bytes(), nil
}

func (e *gorillaEP) recv(n int, fn func([]byte)) error {
	for range n {
		_, p, err := e.next()
		if err != nil {
			return err
		}
		if fn != nil {
			fn(p)
		}
	}
	return nil
}

func (e *gorillaEP) send(p []byte) error { return e.c.WriteMessage(websocket.BinaryMessage, p) }

func (e *gorillaEP) echo() error {
	for {
		mt, p, err := e.next()
		if err != nil {
			return err
		}
		if err := e.c.WriteMessage(mt, p); err != nil {
			return err
		}
	}
}

func (e *gorillaEP) close() error { return e.c.Close() }

func gorillaBroadcast(eps []endpoint, p []byte) error {
	pm, err := websocket.NewPreparedMessage(websocket.BinaryMessage, p)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		if err := ep.(*gorillaEP).c.WritePreparedMessage(pm); err != nil {
			return err
		}
	}
	return nil
}
