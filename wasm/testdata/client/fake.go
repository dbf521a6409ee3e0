//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall/js"
	"time"

	"github.com/zerows/websocket"
)

// fakeWebSocket stands in for the WebSocket class, so that a check can
// hand the Conn events in an order of its choosing, all before it reads:
// the browser's own would come as the network allows. It opens at once,
// records what is sent and how it is closed, and answers a close as a
// server would, echoing a code a page may send.
const fakeWebSocket = `(class {
	constructor(url, protocols) {
		this.url = url; this.protocol = ""; this.extensions = "";
		this.readyState = 0; this.bufferedAmount = 0;
		this.sent = []; this.closes = [];
		globalThis.lastFake = this;
		if (globalThis.fakeNeverOpens) return;
		this.protocol = globalThis.fakeProtocol || "";
		setTimeout(() => { this.readyState = 1; this.onopen({}); }, 0);
	}
	send(data) { this.sent.push(data); }
	close(code, reason) {
		this.closes.push(code === undefined ? "no code" : code + " " + reason);
		if (this.readyState > 1) return;
		this.readyState = 2;
		setTimeout(() => {
			this.readyState = 3;
			if (this.onclose) this.onclose({code: code === undefined ? 1005 : code, reason: reason || "", wasClean: true});
		}, 0);
	}
})`

// installFake puts the fake WebSocket in place of the real one, with
// globals set to configure it, until the returned func is called.
func installFake(globals map[string]any) (restore func()) {
	real := js.Global().Get("WebSocket")
	js.Global().Set("WebSocket", js.Global().Call("eval", fakeWebSocket))
	for k, v := range globals {
		js.Global().Set(k, v)
	}
	return func() {
		js.Global().Set("WebSocket", real)
		for k := range globals {
			js.Global().Delete(k)
		}
	}
}

// withFake dials through the fake WebSocket and runs check with the
// connection and the fake.
func withFake(o *websocket.Options, check func(c *websocket.Conn, fake js.Value) error) error {
	defer installFake(nil)()
	ctx, cancel := timeout()
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://fake.invalid/", o)
	if err != nil {
		return err
	}
	defer c.Close()
	return check(c, js.Global().Get("lastFake"))
}

func closes(fake js.Value) string {
	return fake.Get("closes").Call("join", ", ").String()
}

// fakeOverflow: messages past the queue's bound end the connection, with
// a reason, after those queued before are taken; the browser's socket is
// closed without a code.
func fakeOverflow(string) error {
	return withFake(&websocket.Options{MailboxMessages: 2}, func(c *websocket.Conn, fake js.Value) error {
		for i := range 10 {
			fake.Call("onmessage", map[string]any{"data": fmt.Sprint("m", i)})
		}
		ctx, cancel := timeout()
		defer cancel()
		for i := range 2 {
			m, err := c.WaitContext(ctx)
			if err != nil || string(m.Data) != fmt.Sprint("m", i) {
				return fmt.Errorf("message %d: %q, %v", i, m.Data, err)
			}
		}
		_, err := c.WaitContext(ctx)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseAbnormalClosure || !strings.Contains(ce.Reason, "cannot be told to wait") {
			return fmt.Errorf("after the overflow: %v", err)
		}
		if got := closes(fake); got != "no code" {
			return fmt.Errorf("browser closed with %q, want no code", got)
		}
		return nil
	})
}

// fakeCloseCodes: a code a page may not send closes the browser's socket
// without one; one it may send goes as it is.
func fakeCloseCodes(string) error {
	err := withFake(nil, func(c *websocket.Conn, fake js.Value) error {
		if err := c.CloseWith(websocket.CloseGoingAway, "away"); err != nil {
			return err
		}
		if got := closes(fake); got != "no code" {
			return fmt.Errorf("CloseWith(1001): browser closed with %q, want no code", got)
		}
		// The fake answers a close without a code as a server does.
		var ce *websocket.CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != websocket.CloseNoStatusReceived {
			return fmt.Errorf("Err: %v, want the peer's 1005", c.Err())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return withFake(nil, func(c *websocket.Conn, fake js.Value) error {
		if err := c.CloseWith(4000, "four"); err != nil {
			return err
		}
		if got := closes(fake); got != "4000 four" {
			return fmt.Errorf("CloseWith(4000): browser closed with %q", got)
		}
		var ce *websocket.CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != 4000 || ce.Reason != "four" {
			return fmt.Errorf("Err: %v", c.Err())
		}
		return nil
	})
}

// fakeSendWaits: while the browser holds more than 1 MiB unsent, a send
// waits, and fails at the write timeout; the message is not handed over.
func fakeSendWaits(string) error {
	return withFake(&websocket.Options{WriteTimeout: 200 * time.Millisecond}, func(c *websocket.Conn, fake js.Value) error {
		if err := c.SendText("first"); err != nil {
			return err
		}
		fake.Set("bufferedAmount", 2<<20)
		start := time.Now()
		err := c.SendText("second")
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("send with the browser's buffer full: %v", err)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond {
			return fmt.Errorf("send failed after %v, before half the write timeout", waited)
		}
		if n := fake.Get("sent").Length(); n != 1 {
			return fmt.Errorf("%d messages handed to the browser, want 1", n)
		}
		if _, err := c.WaitContext(context.Background()); err == nil {
			return errors.New("the connection outlived a failed write")
		}
		return nil
	})
}

// fakeHandshakeBounds: a connection that never opens fails Dial at
// HandshakeTimeout, or when the context ends first, and the browser's
// socket is closed.
func fakeHandshakeBounds(string) error {
	defer installFake(map[string]any{"fakeNeverOpens": true})()
	_, _, err := websocket.Dial(context.Background(), "ws://fake.invalid/", &websocket.Options{HandshakeTimeout: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "handshake not done within 50ms") {
		return fmt.Errorf("HandshakeTimeout: %v", err)
	}
	if got := closes(js.Global().Get("lastFake")); got != "no code" {
		return fmt.Errorf("HandshakeTimeout: browser closed with %q, want no code", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, _, err = websocket.Dial(ctx, "ws://fake.invalid/", nil)
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("cancelled context: %v", err)
	}
	if got := closes(js.Global().Get("lastFake")); got != "no code" {
		return fmt.Errorf("cancelled context: browser closed with %q, want no code", got)
	}
	return nil
}

// fakeSubprotocolNotOffered: a runtime that lets a server choose a
// subprotocol that was not offered does not get it past Dial.
func fakeSubprotocolNotOffered(string) error {
	defer installFake(map[string]any{"fakeProtocol": "unasked"})()
	_, _, err := websocket.Dial(context.Background(), "ws://fake.invalid/", &websocket.Options{Subprotocols: []string{"asked"}})
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), `"unasked", which was not offered`) {
		return fmt.Errorf("got %v", err)
	}
	return nil
}
