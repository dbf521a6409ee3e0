package websocket

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"testing"
)

// The bytes that arrive with the opening handshake may end inside a frame:
// in its header, or in a control frame's payload. The rest comes in a later
// segment, and the frame must be read whole across the two.

// leftoverSplits are the places where the handshake's segment ends: inside
// the first frame's header, and inside a ping's payload.
var leftoverSplits = []int{1, 2, 8}

func TestHandshakeLeftoverServer(t *testing.T) {
	stream := append(clientFrame(0x89, "hello"), clientFrame(0x81, "hi")...)
	for _, split := range leftoverSplits {
		t.Run("split="+strconv.Itoa(split), func(t *testing.T) {
			p := dialRaw(t, echoServer(t, nil), stream[:split]...)
			p.write(stream[split:])
			for _, want := range []struct {
				b0      byte
				payload string
			}{{0x8a, "hello"}, {0x81, "hi"}} {
				b0, payload, err := p.readFrame()
				if err != nil {
					t.Fatal(err)
				}
				if b0 != want.b0 || string(payload) != want.payload {
					t.Fatalf("got frame %#x %q, want %#x %q", b0, payload, want.b0, want.payload)
				}
			}
		})
	}
}

func TestHandshakeLeftoverClient(t *testing.T) {
	stream := append(serverFrame(0x89, nil, []byte("hello")), serverFrame(0x81, nil, []byte("hi"))...)
	for _, split := range leftoverSplits {
		t.Run("split="+strconv.Itoa(split), func(t *testing.T) {
			dialed := make(chan struct{})
			pong := make(chan []byte, 1)
			srv := startRawServer(t, func(c net.Conn) {
				br, req, err := readUpgradeRequest(c)
				if err != nil {
					return
				}
				c.Write(append([]byte(switching(req.Header.Get("Sec-WebSocket-Key"))), stream[:split]...))
				<-dialed
				c.Write(stream[split:])
				f, err := readClientFrame(br)
				if err == nil && f.b0 == 0x8a {
					pong <- f.payload
				}
				answerClose(c, br)
			})
			ws, _, err := Dial(context.Background(), "ws://"+srv.addr()+"/", nil)
			close(dialed)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			m, err := ws.Wait()
			if err != nil || string(m.Data) != "hi" {
				t.Fatalf("Wait = %q, %v; want \"hi\"", m.Data, err)
			}
			// The pong goes out ahead of the next frame written.
			must(t, ws.SendText("after"))
			if p := <-pong; !bytes.Equal(p, []byte("hello")) {
				t.Fatalf("pong %q, want \"hello\"", p)
			}
		})
	}
}
