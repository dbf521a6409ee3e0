//go:build js && wasm

package websocket

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"syscall/js"
	"time"
)

// Dial opens a WebSocket connection to url, a ws:// or wss:// URL, with the
// WebSocket of the JavaScript environment the program runs in (a browser's,
// or Node's), and returns the same Conn as on other platforms: Wait, Read,
// Send, SendText, Close and the rest behave as they do over TCP. opts may be
// nil.
//
// The browser makes the connection, the TLS and the opening handshake, and
// speaks the protocol on the wire; the Conn above it keeps its mailbox, its
// closing handshake, MaxMessageSize, HandshakeTimeout, CloseTimeout and
// WriteTimeout. What a page cannot control fails Dial with an error naming
// the option, rather than being ignored: Options.Header (the browser sends
// its own Origin and cookies), TLSConfig, DialContext, Proxy (the browser's
// settings apply), Compression (the browser offers permessage-deflate
// itself) and PingInterval. Subprotocols are offered in their order.
//
// What differs from a connection over TCP, because the WebSocket API allows
// no other way:
//   - The response is made up from what the browser tells: status 101, and
//     Sec-WebSocket-Protocol and Sec-WebSocket-Extensions when the server
//     chose them. When the connection cannot be made, the browser does not
//     say why (refused, no 101, TLS, a blocked port…): the error says so,
//     and the response is nil.
//   - Ping returns an error, and the connection stays open: a page cannot
//     send pings. The browser answers the server's pings itself, even
//     while the application is not reading.
//   - A page may send close codes 1000 and 3000-4999 only. A Conn that
//     closes with another code (CloseWith(CloseGoingAway, …), or 1002, 1007
//     or 1009 when it fails the connection) closes the browser's socket
//     without a code, and the server sees 1005 with no reason. Err reports
//     what it reports everywhere: the server's answer, 1005 then, after
//     CloseWith; this side's code after a failure.
//   - The browser takes each message in whole and cannot be told to wait:
//     when the application does not keep up, messages wait in a second
//     queue, bounded by MailboxMessages and MailboxBytes as the mailbox is,
//     so received messages may hold twice the mailbox's bound. One more
//     fails the connection (Err reports CloseAbnormalClosure and why) once
//     the application has taken those before it. A message longer than
//     MaxMessageSize still fails the connection with 1009, though the
//     browser has received it by then.
//   - A send returns once the browser has queued the message; sends wait
//     while the browser holds more than 1 MiB unsent, bounded by
//     WriteTimeout. A streamed message is sent when it ends, as the browser
//     sends whole messages only.
//   - RemoteAddr is the URL's host and port, LocalAddr "browser".
func Dial(ctx context.Context, url string, opts *Options) (*Conn, *http.Response, error) {
	u, err := parseURL(url)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) error { return &dialError{url: redactURL(u), err: err} }
	if err := checkBrowserOptions(opts); err != nil {
		return nil, nil, fail(err)
	}
	o := opts.withDefaults()
	for i, p := range o.Subprotocols {
		if !isToken(p) || slices.Contains(o.Subprotocols[:i], p) {
			return nil, nil, fail(errors.New("invalid or repeated subprotocol " + quoteText(p, maxQuoteBytes)))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fail(err)
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, nil, fail(errors.New("this JavaScript environment has no WebSocket (Node.js 21 and later have one; Node.js 20 with --experimental-websocket)"))
	}
	ws, err := newWebSocket(ctor, u.String(), o.Subprotocols)
	if err != nil {
		return nil, nil, fail(err)
	}
	ws.Set("binaryType", "arraybuffer")

	b := newBrowserSocket(ws, u.Host, o)
	opened := make(chan struct{}, 1)
	failed := make(chan string, 1) // what the runtime says, if anything
	b.on("open", func(js.Value) { signal(opened) })
	b.on("message", func(ev js.Value) { b.onMessage(ev.Get("data")) })
	b.on("close", func(ev js.Value) {
		b.onClose(ev.Get("code").Int(), ev.Get("reason").String(), ev.Get("wasClean").Bool())
		offer(failed, "closed with code "+strconv.Itoa(ev.Get("code").Int()))
	})
	// Before the open event, an error event means the connection failed
	// (Node.js 20 sends no close event then). After it, the close event
	// that follows says more.
	b.on("error", func(ev js.Value) {
		said := ""
		if m := ev.Get("message"); m.Type() == js.TypeString { // Node.js has one, browsers not
			said = strconv.Quote(m.String())
		}
		offer(failed, said)
	})

	timer := time.NewTimer(o.HandshakeTimeout)
	defer timer.Stop()
	select {
	case <-opened:
	case said := <-failed:
		b.Close()
		if said != "" {
			said = " (" + said + ")"
		}
		return nil, nil, fail(errors.New("the browser could not open the connection" + said + "; the WebSocket API does not tell why: " +
			"unreachable, refused, a status other than 101, TLS, a blocked port… (a browser's console may say)"))
	case <-ctx.Done():
		b.Close()
		return nil, nil, fail(ctx.Err())
	case <-timer.C:
		b.Close()
		return nil, nil, fail(&timeoutError{o.HandshakeTimeout})
	}

	subprotocol := ws.Get("protocol").String()
	if subprotocol != "" && !slices.Contains(o.Subprotocols, subprotocol) {
		b.Close() // browsers check this; a runtime that does not gets it checked here
		return nil, nil, &HandshakeError{http.StatusSwitchingProtocols, "the server selected subprotocol " + quoteText(subprotocol, maxQuoteBytes) + ", which was not offered"}
	}
	resp := &http.Response{
		Status:     "101 Switching Protocols",
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Body:       http.NoBody,
	}
	if subprotocol != "" {
		resp.Header[hdrProtocol] = []string{subprotocol}
	}
	if ext := ws.Get("extensions").String(); ext != "" {
		resp.Header[hdrExtensions] = []string{ext}
	}
	return newConn(b, nil, true, o, subprotocol, nil), resp, nil
}

// checkBrowserOptions returns an error naming the first option set in o
// that a page cannot apply to a WebSocket.
func checkBrowserOptions(o *Options) error {
	if o == nil {
		return nil
	}
	var name, why string
	switch {
	case len(o.Header) > 0:
		name, why = "Header", "a page cannot set a WebSocket's request headers (the browser sends its own Origin and cookies)"
	case o.TLSConfig != nil:
		name, why = "TLSConfig", "the browser makes the TLS connection with its own settings"
	case o.DialContext != nil:
		name, why = "DialContext", "the browser makes the connection"
	case o.Proxy != nil:
		name, why = "Proxy", "the browser uses its own proxy settings"
	case o.Compression != CompressionOff:
		name, why = "Compression", "the browser offers permessage-deflate itself"
	case o.PingInterval > 0:
		name, why = "PingInterval", "a page cannot send pings (the browser answers the server's itself)"
	default:
		return nil
	}
	return errors.New("Options." + name + " cannot apply under js/wasm: " + why)
}

// newWebSocket calls new WebSocket(url, protocols), turning what it throws
// into an error.
func newWebSocket(ctor js.Value, url string, protocols []string) (ws js.Value, err error) {
	defer recoverJS(&err)
	if len(protocols) == 0 {
		return ctor.New(url), nil
	}
	ps := make([]any, len(protocols))
	for i, p := range protocols {
		ps[i] = p
	}
	return ctor.New(url, ps), nil
}

// on sets the WebSocket's handler for event; Close releases it.
func (b *browserSocket) on(event string, handle func(ev js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		handle(args[0])
		return nil
	})
	b.funcs = append(b.funcs, f)
	b.ws.Set("on"+event, f)
}

// offer sends s on ch unless ch is full: the first word counts.
func offer(ch chan string, s string) {
	select {
	case ch <- s:
	default:
	}
}
