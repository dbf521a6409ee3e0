package websocket_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/zerows/websocket"
)

// SendStream sends a message as it is written: here 8 MiB, eight times
// MaxMessageSize, copied from a reader without ever being held whole.
// WaitStream reads it the same way on the other side.
func ExampleConn_SendStream() {
	const size = 8 << 20
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		w, err := ws.SendStream(r.Context(), websocket.MessageBinary)
		if err != nil {
			return
		}
		src := io.LimitReader(zeros{}, size) // a file, a pipe, a database dump…
		if _, err := io.Copy(w, src); err != nil {
			return
		}
		w.Close() // ends the message; other sends wait until then
		ws.SendText("done")
	}, nil))
	defer srv.Close()

	ws := dial(srv)
	defer ws.Close()
	typ, r, err := ws.WaitStream(size) // a limit above MaxMessageSize
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := io.Copy(io.Discard, r)
	fmt.Println(typ, n, err)
	m, _ := ws.Wait()
	fmt.Println(string(m.Data))
	// Output:
	// binary 8388608 <nil>
	// done
}

// WaitStream reads a message as it arrives: a server hashes an upload
// larger than MaxMessageSize without holding it.
func ExampleConn_WaitStream() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for {
			_, r, err := ws.WaitStream(1 << 30) // up to 1 GiB
			if err != nil {
				return // the client closed, or the message broke a rule
			}
			h := sha256.New()
			if _, err := io.Copy(h, r); err != nil {
				return
			}
			ws.SendText(fmt.Sprintf("%x", h.Sum(nil)[:8]))
		}
	}, nil))
	defer srv.Close()

	ws := dial(srv)
	defer ws.Close()
	upload := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	w, _ := ws.SendStream(context.Background(), websocket.MessageBinary)
	io.Copy(w, bytes.NewReader(upload))
	w.Close()
	m, _ := ws.Wait()
	fmt.Println(string(m.Data))
	sum := sha256.Sum256(upload)
	fmt.Printf("%x\n", sum[:8])
	// Output:
	// 3cab7815c40973b8
	// 3cab7815c40973b8
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
