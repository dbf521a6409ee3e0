package bench

import (
	"bytes"
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// coder/websocket: Reader into a reused buffer, Write. It has no prepared
// message, so broadcast is a plain Write per connection.

func init() {
	register(peer{
		name:      "coder",
		server:    coderServer,
		client:    coderClient,
		broadcast: coderBroadcast,
	})
}

type coderEP struct {
	c   *websocket.Conn
	buf bytes.Buffer
}

func coderServer(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return &coderEP{c: c}, nil
}

func coderClient(ctx context.Context, url string, dial dialFunc) (endpoint, error) {
	hc := &http.Client{Transport: &http.Transport{DialContext: dial}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return &coderEP{c: c}, nil
}

func (e *coderEP) next() (websocket.MessageType, []byte, error) {
	typ, r, err := e.c.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	e.buf.Reset()
	if _, err := e.buf.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	return typ, e.buf.Bytes(), nil
}

func (e *coderEP) recv(n int, fn func([]byte)) error {
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

func (e *coderEP) send(p []byte) error {
	return e.c.Write(context.Background(), websocket.MessageBinary, p)
}

func (e *coderEP) echo() error {
	for {
		typ, p, err := e.next()
		if err != nil {
			return err
		}
		if err := e.c.Write(context.Background(), typ, p); err != nil {
			return err
		}
	}
}

func (e *coderEP) close() error { return e.c.CloseNow() }

func coderBroadcast(eps []endpoint, p []byte) error {
	ctx := context.Background()
	for _, ep := range eps {
		if err := ep.(*coderEP).c.Write(ctx, websocket.MessageBinary, p); err != nil {
			return err
		}
	}
	return nil
}
