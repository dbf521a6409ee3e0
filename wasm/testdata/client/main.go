//go:build js && wasm

// Command client checks Dial under js/wasm. TestDialUnderNode (../../node_test.go)
// builds it, starts the servers it dials, and runs it under Node.js with
// ZEROWS_WASM_URL set to their base URL. It prints one line per check,
// "PASS name" or "FAIL name: why", and "DONE" after the last.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/zerows/websocket"
)

func main() {
	base := os.Getenv("ZEROWS_WASM_URL")
	checks := []struct {
		name string
		run  func(base string) error
	}{
		{"options refused", optionsRefused},
		{"echo", echo},
		{"server closes", serverCloses},
		{"server pings", serverPings},
		{"too big", tooBig},
		{"server stops reading", serverStopsReading},
		{"refused", refused},
		{"fake: receive overflow", fakeOverflow},
		{"fake: close codes", fakeCloseCodes},
		{"fake: send waits for the browser", fakeSendWaits},
		{"fake: handshake bounds", fakeHandshakeBounds},
		{"fake: subprotocol not offered", fakeSubprotocolNotOffered},
	}
	failed := false
	for _, c := range checks {
		start := time.Now()
		if err := c.run(base); err != nil {
			fmt.Printf("FAIL %s: %v\n", c.name, err)
			failed = true
			continue
		}
		fmt.Printf("PASS %s (%v)\n", c.name, time.Since(start).Round(time.Millisecond))
	}
	fmt.Println("DONE")
	if failed {
		os.Exit(1)
	}
}

func timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// optionsRefused: every option a page cannot apply fails Dial, naming it,
// before any connection is made.
func optionsRefused(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	cases := map[string]*websocket.Options{
		"Header":       {Header: http.Header{"Authorization": {"Bearer x"}}},
		"TLSConfig":    {TLSConfig: &tls.Config{}},
		"DialContext":  {DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("not called") }},
		"Proxy":        {Proxy: func(*http.Request) (*url.URL, error) { return nil, nil }},
		"Compression":  {Compression: websocket.CompressionNoContextTakeover},
		"PingInterval": {PingInterval: time.Second},
	}
	for name, o := range cases {
		c, resp, err := websocket.Dial(ctx, base+"/echo", o)
		if err == nil {
			c.Close()
			return fmt.Errorf("Options.%s: Dial succeeded", name)
		}
		if resp != nil || !strings.Contains(err.Error(), "Options."+name+" cannot apply") {
			return fmt.Errorf("Options.%s: got %v, %v", name, resp, err)
		}
	}
	return nil
}

// echo round-trips text and binary messages, up to 1 MiB, checks the
// subprotocol, that Ping fails, and closes with a code of its own.
func echo(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	c, resp, err := websocket.Dial(ctx, base+"/echo?id=echo", &websocket.Options{Subprotocols: []string{"other", "echo.v1"}})
	if err != nil {
		return err
	}
	defer c.Close()
	if c.Subprotocol() != "echo.v1" || resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != "echo.v1" {
		return fmt.Errorf("subprotocol %q, response %d %v", c.Subprotocol(), resp.StatusCode, resp.Header)
	}
	big := make([]byte, 1<<20)
	rand.Read(big)
	bigText := strings.Repeat("héllo, wörld ✓ ", (1<<20)/20)
	msgs := []websocket.Message{
		{Type: websocket.MessageText, Data: []byte("héllo")},
		{Type: websocket.MessageBinary, Data: []byte{0, 1, 2, 0xff, 0xfe}},
		{Type: websocket.MessageBinary, Data: []byte{}},
		{Type: websocket.MessageText, Data: []byte{}},
		{Type: websocket.MessageBinary, Data: big},
		{Type: websocket.MessageText, Data: []byte(bigText)},
	}
	for i, m := range msgs {
		if err := c.SendMessage(m); err != nil {
			return fmt.Errorf("send %d: %v", i, err)
		}
	}
	for i, want := range msgs {
		got, err := c.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("wait %d: %v", i, err)
		}
		if got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
			return fmt.Errorf("echo %d: got %v of %d bytes, want %v of %d", i, got.Type, len(got.Data), want.Type, len(want.Data))
		}
	}
	// The time of one 1 MiB round trip, for the test's log.
	start := time.Now()
	if err := c.Send(big); err != nil {
		return err
	}
	if m, err := c.WaitContext(ctx); err != nil || len(m.Data) != len(big) {
		return fmt.Errorf("1 MiB again: %d bytes, %v", len(m.Data), err)
	}
	fmt.Printf("echo: 1 MiB binary round trip in %v\n", time.Since(start).Round(time.Millisecond))

	if err := c.Ping(ctx); err == nil || !strings.Contains(err.Error(), "cannot send pings") {
		return fmt.Errorf("Ping: %v", err)
	}
	if err := c.SendText("still open after Ping"); err != nil {
		return fmt.Errorf("send after Ping: %v", err)
	}
	if m, err := c.WaitContext(ctx); err != nil || string(m.Data) != "still open after Ping" {
		return fmt.Errorf("wait after Ping: %q, %v", m.Data, err)
	}
	if err := c.CloseWith(4001, "done"); err != nil {
		return fmt.Errorf("CloseWith: %v", err)
	}
	var ce *websocket.CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != 4001 || ce.Reason != "done" {
		return fmt.Errorf("Err after CloseWith: %v", c.Err())
	}
	return nil
}

// serverCloses: the server's close frame, code and reason, ends the
// connection after the message sent before it.
func serverCloses(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	c, _, err := websocket.Dial(ctx, base+"/close", nil)
	if err != nil {
		return err
	}
	m, err := c.WaitContext(ctx)
	if err != nil || string(m.Data) != "closing" {
		return fmt.Errorf("first message: %q, %v", m.Data, err)
	}
	_, err = c.WaitContext(ctx)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "bye" {
		return fmt.Errorf("after the close: %v", err)
	}
	if c.Close() != websocket.ErrClosed {
		return errors.New("Close after the peer's close did not say ErrClosed")
	}
	return nil
}

// serverPings: the browser answers the server's pings, with no subprotocol
// asked for or chosen.
func serverPings(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	c, resp, err := websocket.Dial(ctx, base+"/ping", nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if c.Subprotocol() != "" || len(resp.Header) != 0 {
		return fmt.Errorf("subprotocol %q, response header %v", c.Subprotocol(), resp.Header)
	}
	if want := strings.TrimPrefix(base, "ws://"); c.RemoteAddr().String() != want {
		return fmt.Errorf("RemoteAddr %v, want %s", c.RemoteAddr(), want)
	}
	m, err := c.WaitContext(ctx)
	if err != nil || string(m.Data) != "pong came" {
		return fmt.Errorf("server's ping: %q, %v", m.Data, err)
	}
	return nil
}

// serverStopsReading: sends to a server that reads nothing fill the
// socket's buffers, then the browser's past 1 MiB, and then one fails at
// WriteTimeout instead of queuing without end.
func serverStopsReading(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	c, _, err := websocket.Dial(ctx, base+"/sink", &websocket.Options{WriteTimeout: 400 * time.Millisecond})
	if err != nil {
		return err
	}
	defer c.Close()
	msg := make([]byte, 1<<20)
	for i := 1; i <= 256; i++ {
		err := c.Send(msg)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			fmt.Printf("server stops reading: send %d of 1 MiB timed out\n", i)
			return nil
		}
		if err != nil {
			return fmt.Errorf("send %d: %v", i, err)
		}
	}
	return errors.New("256 MiB sent to a server that reads nothing, and no send waited")
}

// tooBig: a message over MaxMessageSize fails the connection with 1009.
func tooBig(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	c, _, err := websocket.Dial(ctx, base+"/big?id=big", &websocket.Options{MaxMessageSize: 1000})
	if err != nil {
		return err
	}
	_, err = c.WaitContext(ctx)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		return fmt.Errorf("got %v, want 1009", err)
	}
	return nil
}

// refused: a server that does not switch protocols fails Dial.
func refused(base string) error {
	ctx, cancel := timeout()
	defer cancel()
	c, resp, err := websocket.Dial(ctx, base+"/refuse", nil)
	if err == nil {
		c.Close()
		return errors.New("Dial succeeded")
	}
	if resp != nil || !strings.Contains(err.Error(), "could not open the connection") {
		return fmt.Errorf("got %v, %v", resp, err)
	}
	fmt.Println("refused:", err) // what Node.js says, in the test's log
	return nil
}
