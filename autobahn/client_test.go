package autobahn

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/autobahn/echo"
	"github.com/zerows/websocket/internal/wstest"
)

// clientTarget makes the library dial a raw TCP server for each case; the
// raw server plays the fuzzer, unmasked.
func clientTarget(s echo.Style, opts *websocket.Options) target {
	return target{
		name:   "client/" + s.Name,
		style:  s.Name,
		server: false,
		connect: func(c *kase) (*connection, error) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			defer ln.Close()
			type dialed struct {
				ws  *websocket.Conn
				err error
			}
			dch := make(chan dialed, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ws, _, err := websocket.Dial(ctx, "ws://"+ln.Addr().String()+"/", opts)
				dch <- dialed{ws, err}
				if err == nil {
					s.Loop(ws)
				}
			}()
			ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
			nc, err := ln.Accept()
			if err != nil {
				return nil, err
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			br, pd, err := serverHandshake(nc, c.deflate)
			if err != nil {
				nc.Close()
				return nil, err
			}
			nc.SetDeadline(time.Time{})
			d := <-dch
			if d.err != nil {
				nc.Close()
				return nil, fmt.Errorf("Dial: %w", d.err)
			}
			ws := d.ws
			finish := func(p *peer) (string, string) {
				// A server closes TCP first once the closing handshake is
				// over; then the client must notice and release everything.
				p.nc.Close()
				select {
				case <-ws.Done():
					return fmt.Sprintf("client done (Err %v)", websocket.CloseStatus(ws.Err())), ""
				case <-time.After(tcpWait):
					return "", fmt.Sprintf("client not done within %v of the server closing TCP", tcpWait)
				}
			}
			return &connection{p: newPeer(nc, br, false, pd), finish: finish}, nil
		},
	}
}

// TestClient runs every section against the library as a client (Dial),
// once per echo style.
func TestClient(t *testing.T) {
	opts := echo.Options()
	for _, s := range echo.Styles {
		s := s
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			runSections(t, clientTarget(s, opts))
		})
	}
}

func TestClientMessageTooBig(t *testing.T) {
	t.Parallel()
	runTable(t, clientTarget(echo.Styles[0], limitOptions()),
		section{"x9.1", fmt.Sprintf("MaxMessageSize %d", limit), limitCases(), nil})
}

// TestClientDropsTCP: a server that never closes TCP (nor, in one case,
// answers the close) must not keep the client's connection open past
// CloseTimeout.
func TestClientDropsTCP(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	o := echo.Options()
	o.CloseTimeout = timeout
	for _, tc := range []struct {
		name   string
		loop   func(ws *websocket.Conn)
		send   []wstest.Frame // what the raw server sends
		answer bool           // the raw server answers the client's close
		code   int            // the client's close code
	}{
		{"server closes, never drops TCP", echo.Wait, []wstest.Frame{closeFrame(wstest.ClosePayload(1000, ""))}, false, 1000},
		{"client fails the connection, server silent", echo.Wait, []wstest.Frame{withRsv(textFrame("Hello"), 1)}, false, 1002},
		{"client fails the connection, server answers", echo.Wait, []wstest.Frame{withRsv(textFrame("Hello"), 1)}, true, 1002},
		{"client closes, server silent", func(ws *websocket.Conn) { ws.Close() }, nil, false, 1000},
		{"client closes, server answers", func(ws *websocket.Conn) { ws.Close() }, nil, true, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := clientTarget(echo.Style{Name: "custom", Loop: tc.loop}, o)
			conn, err := tg.connect(&kase{})
			if err != nil {
				t.Fatal(err)
			}
			p := conn.p
			defer p.nc.Close()
			p.send(oneChop, tc.send...)
			if !p.waitFor(closeWait, hasEnd) {
				t.Fatalf("no close frame from the client within %v", closeWait)
			}
			closeAt := time.Now()
			evs := p.snapshot()
			if evs[0].kind != evClose || evs[0].code != tc.code {
				t.Errorf("first event %v, want close %d", evs[0], tc.code)
			}
			if tc.answer {
				p.sendClose(evs[0].code, "")
			}
			// The raw server never closes TCP: the client must.
			if !p.waitFor(timeout+time.Second, hasEOF) {
				t.Fatalf("client did not drop TCP within %v", timeout+time.Second)
			}
			t.Logf("events %s; client dropped TCP %v after its close frame", describeEvents(p.snapshot()), round(time.Since(closeAt)))
		})
	}
}

// TestClientLetsServerCloseTCPFirst: after a closing handshake the server
// started, the client should leave the TCP close to the server (RFC 6455
// 7.1.1: "the client SHOULD wait for the server to close the connection"),
// within the client's CloseTimeout.
func TestClientLetsServerCloseTCPFirst(t *testing.T) {
	t.Parallel()
	o := echo.Options()
	o.CloseTimeout = 2 * time.Second
	conn, err := clientTarget(echo.Styles[0], o).connect(&kase{})
	if err != nil {
		t.Fatal(err)
	}
	p := conn.p
	defer p.nc.Close()
	p.sendClose(1000, "")
	if !p.waitFor(closeWait, hasEnd) {
		t.Fatalf("no close frame from the client within %v", closeWait)
	}
	closeAt := time.Now()
	// The server would now close TCP; give the client a moment in which it
	// must not have closed it itself (a bound, not synchronisation).
	const grace = 100 * time.Millisecond
	if p.waitFor(grace, hasEOF) {
		t.Errorf("the client closed TCP %v after answering the server's close; RFC 6455 7.1.1: the client SHOULD wait for the server to close it",
			round(time.Since(closeAt)))
	}
	if _, problem := conn.finish(p); problem != "" {
		t.Error(problem)
	}
}
