package websocket

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerows/websocket/internal/wstest"
)

// WebSocket over HTTP/2 (RFC 8441). The server is net/http's own, over
// TLS with httptest's certificate; the client is net/http's own HTTP/2
// client (see wstest.DialH2) under this package's Conn. Go's server offers
// extended CONNECT only with GODEBUG=http2xconnect=1 in its environment
// from the start, so TestRFC8441 runs its subtests in a test process that
// has it.

// startH2Server serves h over TLS with HTTP/2 on 127.0.0.1.
func startH2Server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// dialH2 opens an extended CONNECT to path on srv and makes a client Conn
// of its stream, as Dial would over HTTP/1.1. A failed handshake returns
// the response, if there was one.
func dialH2(t *testing.T, srv *httptest.Server, path string, header http.Header, opts *Options) (*Conn, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	st, err := wstest.DialH2(ctx, srv.Listener.Addr().String(), path, trustServer(srv), header)
	if err != nil {
		var resp *http.Response
		if st != nil {
			resp = st.Response
		}
		return nil, resp, err
	}
	t.Cleanup(func() { st.Close() })
	o := opts.withDefaults()
	var d *deflater
	if n, ok, err := checkDeflateResponse(st.Response.Header[hdrExtensions], o.Compression); err != nil {
		return nil, st.Response, err
	} else if ok {
		d = newDeflater(n, o)
	}
	nc := newH2Conn(context.Background(), st.Response.Body, st.Write, func() { st.Close() }, st.LocalAddr(), st.RemoteAddr(), o.ReadBufferSize)
	ws := newConnDeflate(nc, nil, true, o, st.Response.Header.Get("Sec-WebSocket-Protocol"), nil, d)
	t.Cleanup(func() { ws.Close() })
	return ws, st.Response, nil
}

// echoLoop echoes every message with its type.
func echoLoop(ws *Conn) {
	for m := range ws.Messages() {
		if ws.SendMessage(m) != nil {
			return
		}
	}
}

// seenRequest is what a handler saw of its request.
type seenRequest struct {
	method, proto, protocol string
}

func see(r *http.Request) seenRequest {
	return seenRequest{r.Method, r.Proto, r.Header.Get(":protocol")}
}

func TestRFC8441(t *testing.T) {
	if !wstest.InXConnectProcess(t) {
		return
	}
	t.Run("Require echoes over a stream", testRFC8441Require)
	t.Run("Accept and Middleware", testRFC8441AcceptMiddleware)
	t.Run("subprotocol and compression", testRFC8441Negotiation)
	t.Run("handshake refusals", testRFC8441Refusals)
	t.Run("server timeouts do not apply", testRFC8441ServerTimeouts)
	t.Run("peer that stops reading", testRFC8441StuckWrite)
	t.Run("Upgrade handler that returns", testRFC8441HandlerReturned)
	t.Run("Shutdown", testRFC8441Shutdown)
	t.Run("peer resets the stream", testRFC8441PeerReset)
	t.Run("ResponseWriter that cannot flush", testRFC8441NoFlush)
}

// noFlush hides every method of a ResponseWriter but its own three.
type noFlush struct{ http.ResponseWriter }

// unwrapping hands its ResponseWriter on through Unwrap, as middleware
// that wraps one should.
type unwrapping struct{ http.ResponseWriter }

func (u unwrapping) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// testRFC8441NoFlush: a stream can only carry a WebSocket through a
// ResponseWriter that flushes; one that cannot gets 500 before anything
// is sent, and one that unwraps to net/http's works.
func testRFC8441NoFlush(t *testing.T) {
	h := Require(func(ws *Conn, r *http.Request) { echoLoop(ws) }, nil)
	srv := startH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hidden" {
			w = noFlush{w}
		} else {
			w = unwrapping{w}
		}
		h.ServeHTTP(w, r)
	}))
	_, resp, err := dialH2(t, srv, "/hidden", nil, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("behind a ResponseWriter that cannot flush: %v, %v; want 500", err, resp)
	}
	ws, _, err := dialH2(t, srv, "/unwrapped", nil, nil)
	if err != nil {
		t.Fatalf("behind a ResponseWriter that unwraps: %v", err)
	}
	ws.SendText("through")
	if m, err := ws.WaitTimeout(testWait); err != nil || string(m.Data) != "through" {
		t.Errorf("echo: %q, %v", m.Data, err)
	}
}

func testRFC8441Require(t *testing.T) {
	seen := make(chan seenRequest, 1)
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) {
		seen <- see(r)
		echoLoop(ws)
	}, nil))
	ws, resp, err := dialH2(t, srv, "/echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("response %s %s, want HTTP/2.0 200", resp.Proto, resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "" {
		t.Errorf("Sec-WebSocket-Accept %q over HTTP/2, which has no key to answer (RFC 8441 §5)", got)
	}
	if got, want := <-seen, (seenRequest{"CONNECT", "HTTP/2.0", "websocket"}); got != want {
		t.Errorf("handler saw %+v, want %+v", got, want)
	}
	// Sizes around the frame header's length forms, HTTP/2's 16 KiB
	// frames and the read-ahead chunk, and one of 1 MiB.
	for _, n := range []int{0, 1, 125, 126, 4095, 4096, 16384, 65536, 1 << 20} {
		p := bytes.Repeat([]byte("h2 "), n/3+1)[:n]
		if err := ws.Send(p); err != nil {
			t.Fatal(err)
		}
		if err := ws.SendText(string(p)); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []MessageType{MessageBinary, MessageText} {
			m, err := ws.WaitTimeout(testWait)
			if err != nil {
				t.Fatalf("echo of %d bytes: %v", n, err)
			}
			if m.Type != typ || !bytes.Equal(m.Data, p) {
				t.Fatalf("echo of %d bytes: %v of %d bytes, want %v", n, m.Type, len(m.Data), typ)
			}
		}
	}
	if err := ws.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	// The closing handshake runs whole: the server answers 1000, and then
	// ends the stream (END_STREAM, RFC 8441 §5's FIN), which the client
	// reads as the end.
	if err := ws.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	var ce *CloseError
	if !errors.As(ws.Err(), &ce) || ce.Code != CloseNormalClosure {
		t.Errorf("client ended with %v, want 1000", ws.Err())
	}
}

func testRFC8441AcceptMiddleware(t *testing.T) {
	mux := http.NewServeMux()
	seen := make(chan string, 4)
	mux.Handle("/accept", Accept(func(w http.ResponseWriter, r *http.Request, ws *Conn) {
		if ws == nil {
			seen <- "plain " + r.Proto
			io.WriteString(w, "a page")
			return
		}
		seen <- "websocket " + r.Proto
		echoLoop(ws)
	}, nil))
	mux.Handle("/mw/", Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws := FromRequest(r)
		if ws == nil {
			http.Error(w, "not a WebSocket", http.StatusTeapot)
			return
		}
		seen <- "middleware " + r.Proto + " " + r.URL.Path
		echoLoop(ws)
	}), nil))
	srv := startH2Server(t, mux)

	c := srv.Client()
	resp, err := c.Get(srv.URL + "/accept")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(b) != "a page" || <-seen != "plain HTTP/2.0" {
		t.Errorf("plain GET: %s %q", resp.Proto, b)
	}
	for path, want := range map[string]string{"/accept": "websocket HTTP/2.0", "/mw/x": "middleware HTTP/2.0 /mw/x"} {
		ws, _, err := dialH2(t, srv, path, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := <-seen; got != want {
			t.Errorf("%s: handler saw %q, want %q", path, got, want)
		}
		ws.SendText("hello " + path)
		if m, err := ws.WaitTimeout(testWait); err != nil || string(m.Data) != "hello "+path {
			t.Errorf("%s: echo %q, %v", path, m.Data, err)
		}
		if err := ws.Close(); err != nil {
			t.Errorf("%s: Close: %v", path, err)
		}
	}
}

func testRFC8441Negotiation(t *testing.T) {
	opts := &Options{Subprotocols: []string{"v2", "v1"}, Compression: CompressionContextTakeover, CompressionThreshold: -1}
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) { echoLoop(ws) }, opts))
	ws, resp, err := dialH2(t, srv, "/", http.Header{
		"Sec-Websocket-Protocol":   {"v1, v2"},
		"Sec-Websocket-Extensions": {deflateOffer(CompressionContextTakeover)},
	}, &Options{Compression: CompressionContextTakeover, CompressionThreshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "v2" || ws.Subprotocol() != "v2" {
		t.Errorf("subprotocol %q, want the server's first choice v2", got)
	}
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(got, "permessage-deflate") {
		t.Errorf("Sec-WebSocket-Extensions %q, want permessage-deflate", got)
	}
	msg := strings.Repeat("compress me, ", 500)
	for range 3 { // context takeover carries across messages
		ws.SendText(msg)
		if m, err := ws.WaitTimeout(testWait); err != nil || string(m.Data) != msg {
			t.Fatalf("compressed echo: %d bytes, %v", len(m.Data), err)
		}
	}
}

func testRFC8441Refusals(t *testing.T) {
	ran := make(chan struct{}, 1)
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) { ran <- struct{}{} }, nil))
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
		check  func(h http.Header) bool
	}{
		{"wrong version", http.Header{"Sec-Websocket-Version": {"8"}}, http.StatusUpgradeRequired,
			func(h http.Header) bool { return h.Get("Sec-WebSocket-Version") == "13" }},
		{"foreign Origin", http.Header{"Origin": {"https://elsewhere.example"}}, http.StatusForbidden, nil},
	} {
		_, resp, err := dialH2(t, srv, "/", tc.header, nil)
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: %v, response %v; want %d", tc.name, err, resp, tc.status)
			continue
		}
		if tc.check != nil && !tc.check(resp.Header) {
			t.Errorf("%s: headers %v", tc.name, resp.Header)
		}
	}
	// The page's own origin is allowed, as over HTTP/1.1.
	ws, _, err := dialH2(t, srv, "/", http.Header{"Origin": {"https://" + srv.Listener.Addr().String()}}, nil)
	if err != nil {
		t.Fatalf("same-origin: %v", err)
	}
	<-ran
	ws.Close()
	// A plain HTTP/2 GET gets Require's 400.
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain GET: %s %s, want HTTP/2.0 400", resp.Proto, resp.Status)
	}
	select {
	case <-ran:
		t.Error("the handler ran for a refused request")
	default:
	}
}

// testRFC8441ServerTimeouts: net/http starts timers from the server's
// ReadTimeout and WriteTimeout on every HTTP/2 stream, which reset it;
// like the deadlines a hijack clears, they must not end a WebSocket.
func testRFC8441ServerTimeouts(t *testing.T) {
	const timeout = 100 * time.Millisecond
	srv := httptest.NewUnstartedServer(Require(func(ws *Conn, r *http.Request) { echoLoop(ws) }, nil))
	srv.EnableHTTP2 = true
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = timeout, timeout
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ws, _, err := dialH2(t, srv, "/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-time.After(3 * timeout) // both timers would have fired by now
	ws.SendText("still here")
	if m, err := ws.WaitTimeout(testWait); err != nil || string(m.Data) != "still here" {
		t.Fatalf("echo after the server's timeouts: %q, %v", m.Data, err)
	}
}

// testRFC8441StuckWrite: a peer that reads nothing fills HTTP/2's flow
// control window; the write bound ends the send, the stream is reset and
// the handler returns.
func testRFC8441StuckWrite(t *testing.T) {
	const writeTimeout = 200 * time.Millisecond
	sendErr := make(chan error, 1)
	returned := make(chan struct{})
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) {
		defer close(returned)
		p := make([]byte, 64<<10)
		for {
			if err := ws.Send(p); err != nil {
				sendErr <- err
				return
			}
		}
	}, &Options{WriteTimeout: writeTimeout}))
	st, err := wstest.DialH2(context.Background(), srv.Listener.Addr().String(), "/", trustServer(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	select {
	case err := <-sendErr:
		if !isTimeout(err) && !strings.Contains(err.Error(), "within") {
			t.Logf("send failed with %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("Send to a peer that reads nothing never failed")
	}
	select {
	case <-returned:
	case <-time.After(testWait):
		t.Fatal("the handler did not return")
	}
	// The stream was reset: reading what was sent ends in an error, not
	// in a clean end.
	_, err = io.Copy(io.Discard, st)
	if err == nil {
		t.Error("the stream ended cleanly; want a reset after a write failed mid-frame")
	}
}

// testRFC8441HandlerReturned: a handler that calls Upgrade and returns has
// given the stream back to net/http; the connection's sends fail, with an
// error rather than a panic, and the connection ends.
func testRFC8441HandlerReturned(t *testing.T) {
	conns := make(chan *Conn, 1)
	srv := startH2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns <- ws // returns: a mistake over HTTP/2
	}))
	client, _, err := dialH2(t, srv, "/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws := <-conns
	select {
	case <-ws.Done():
	case <-time.After(testWait):
		t.Fatal("the connection did not end when its handler returned")
	}
	if err := ws.SendText("too late"); err == nil {
		t.Error("SendText after the handler returned succeeded")
	}
	var ce *CloseError
	if !errors.As(ws.Err(), &ce) || ce.Code != CloseAbnormalClosure || !strings.Contains(ce.Reason, "handler returned") {
		t.Errorf("server side ended with %v, want 1006 saying why", ws.Err())
	}
	select {
	case <-client.Done():
	case <-time.After(testWait):
		t.Fatal("the client saw no end")
	}
}

func testRFC8441Shutdown(t *testing.T) {
	var handlers sync.WaitGroup
	handlers.Add(1)
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) {
		defer handlers.Done()
		echoLoop(ws)
	}, nil))
	ws, _, err := dialH2(t, srv, "/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SendText("up")
	if _, err := ws.WaitTimeout(testWait); err != nil {
		t.Fatal(err)
	}
	ws.Done() // the client reads on: it answers the server's close at once
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	start := time.Now()
	if err := Shutdown(ctx, srv.Config); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took >= DefaultCloseTimeout {
		t.Errorf("Shutdown took %v: the closing handshake did not complete", took)
	}
	handlers.Wait() // Shutdown returned after the handler
	if _, err := ws.WaitTimeout(testWait); err == nil {
		t.Fatal("a message after Shutdown")
	}
	var ce *CloseError
	if !errors.As(ws.Err(), &ce) || ce.Code != CloseGoingAway {
		t.Errorf("client ended with %v, want 1001", ws.Err())
	}
}

// TestRFC8441IsWebSocket: an extended CONNECT with ":protocol: websocket"
// over HTTP/2 is a WebSocket request, and goes to Upgrade's RFC 8441
// checks; other extended CONNECTs and HTTP/1.1 CONNECTs are not.
func TestRFC8441IsWebSocket(t *testing.T) {
	req := func(proto int, method, protocol string) *http.Request {
		r := httptest.NewRequest(method, "https://example.com/ws", nil)
		r.ProtoMajor, r.ProtoMinor, r.Proto = proto, 0, "HTTP/2.0"
		if proto == 1 {
			r.ProtoMinor, r.Proto = 1, "HTTP/1.1"
		}
		if protocol != "" {
			r.Header[":protocol"] = []string{protocol}
		}
		r.Header.Set("Sec-WebSocket-Version", "13")
		return r
	}
	for _, tc := range []struct {
		r      *http.Request
		is     bool
		status int // checkRequest's, 0 for none
	}{
		{req(2, "CONNECT", "websocket"), true, 0},
		{req(2, "CONNECT", "WebSocket"), true, 0},
		{req(2, "CONNECT", "webtransport"), false, http.StatusBadRequest},
		{req(2, "CONNECT", ""), false, http.StatusMethodNotAllowed},
		{req(1, "CONNECT", "websocket"), false, http.StatusBadRequest},
		{req(2, "GET", "websocket"), false, http.StatusBadRequest},
	} {
		name := tc.r.Proto + " " + tc.r.Method + " " + tc.r.Header.Get(":protocol")
		if got := IsWebSocket(tc.r); got != tc.is {
			t.Errorf("%s: IsWebSocket %v, want %v", name, got, tc.is)
		}
		herr := checkRequest(tc.r, (*Options)(nil).withDefaults())
		if (herr == nil) != (tc.status == 0) || herr != nil && herr.Status != tc.status {
			t.Errorf("%s: checkRequest %v, want status %d", name, herr, tc.status)
		}
	}
	r := req(2, "CONNECT", "websocket")
	r.Header.Del("Sec-WebSocket-Version")
	if herr := checkRequest(r, (*Options)(nil).withDefaults()); herr == nil || herr.Status != http.StatusUpgradeRequired {
		t.Errorf("no version: %v, want 426", herr)
	}
}

// h2Pipe makes an h2Conn over two pipes, as a stream's body and response
// would be: it returns the conn, the writer of what it reads, and the
// reader of what it writes.
// Each write signals sending (if there is room) as it starts.
func h2Pipe(t *testing.T, sending chan<- struct{}) (*h2Conn, *io.PipeWriter, *io.PipeReader) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	send := func(p []byte) (int, error) {
		select {
		case sending <- struct{}{}:
		default:
		}
		return outW.Write(p)
	}
	reset := func() { outW.CloseWithError(errors.New("reset")) }
	c := newH2Conn(context.Background(), inR, send, reset, h2Addr("l"), h2Addr("r"), 8)
	t.Cleanup(func() { inW.Close(); outR.Close(); c.Close() })
	return c, inW, outR
}

// TestRFC8441StreamDeadlines: a stream's deadlines behave as a net.Conn's,
// which the stall and write bounds rely on: a read or write that runs into
// one fails with a timeout and the next, under a new deadline, goes on
// where it stopped; a deadline set while a read waits applies to it; and
// the retry of a write that timed out while still under way does not
// write it twice.
func TestRFC8441StreamDeadlines(t *testing.T) {
	sending := make(chan struct{}, 1)
	c, in, out := h2Pipe(t, sending)

	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 4)); !isTimeout(err) {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	c.SetReadDeadline(time.Time{})
	go in.Write([]byte("0123456789")) // more than one chunk of 8
	var got []byte
	for len(got) < 10 {
		b := make([]byte, 3)
		n, err := c.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b[:n]...)
	}
	if string(got) != "0123456789" {
		t.Fatalf("read %q", got)
	}

	// A deadline set while a read waits ends that read.
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 4))
		readErr <- err
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if err := <-readErr; !isTimeout(err) {
		t.Fatalf("waiting read: %v, want a timeout", err)
	}
	c.SetReadDeadline(time.Time{})
	go in.Write([]byte("x"))
	if b := make([]byte, 4); true {
		if n, err := c.Read(b); err != nil || string(b[:n]) != "x" {
			t.Fatalf("read after a timeout: %q, %v", b[:n], err)
		}
	}

	// A write nobody takes times out, is retried with the same bytes, and
	// comes out once.
	p := []byte("frame")
	c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	if n, err := c.Write(p); n != 0 || !isTimeout(err) {
		t.Fatalf("stuck write: %d, %v; want 0 and a timeout", n, err)
	}
	c.SetWriteDeadline(time.Time{})
	wrote := make(chan error, 1)
	go func() {
		n, err := c.Write(p)
		if err == nil && n != len(p) {
			err = io.ErrShortWrite
		}
		wrote <- err
	}()
	b := make([]byte, 64)
	n, err := out.Read(b)
	if err != nil || string(b[:n]) != "frame" {
		t.Fatalf("peer read %q, %v", b[:n], err)
	}
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatalf("retried write: %v", err)
		}
	case <-time.After(testWait):
		t.Fatal("the retried write did not return once its bytes were read: it wrote them again")
	}
	go c.Write([]byte("next"))
	if n, err := out.Read(b); err != nil || string(b[:n]) != "next" {
		t.Fatalf("after the retry, peer read %q, %v; want the next write only", b[:n], err)
	}

	// Close ends a read under way, and resets a write stuck in the stream.
	select {
	case <-sending: // the earlier writes'
	default:
	}
	go func() {
		_, err := c.Read(make([]byte, 4))
		readErr <- err
	}()
	go func() {
		_, err := c.Write([]byte("stuck"))
		wrote <- err
	}()
	<-sending // the writer is inside send
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(testWait):
		t.Fatal("Close did not return: the stuck write was not ended")
	}
	if err := <-readErr; !errors.Is(err, net.ErrClosed) {
		t.Errorf("read under Close: %v", err)
	}
	if err := <-wrote; err == nil {
		t.Error("write under Close succeeded")
	}
	if _, err := out.Read(b); err == nil || err.Error() != "reset" {
		t.Errorf("peer after Close with a stuck write: %v, want the reset", err)
	}
}

// TestRFC8441NotOffered: without GODEBUG=http2xconnect=1, Go's HTTP/2
// server does not offer extended CONNECT, and Go's client will not send
// one: what the package documentation says the setting is needed for.
func TestRFC8441NotOffered(t *testing.T) {
	wstest.SkipWithoutXConnect(t)
	if wstest.XConnectEnabled() {
		t.Skip("this process has GODEBUG=" + wstest.XConnectSetting)
	}
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) {}, nil))
	_, _, err := dialH2(t, srv, "/", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "extended connect not supported") {
		t.Fatalf("extended CONNECT without the setting: %v", err)
	}
}

// testRFC8441PeerReset: a peer that resets its stream (RST_STREAM, RFC
// 8441 §5's TCP reset) ends the connection at once, as dropped (1006),
// and its handler returns; the HTTP/2 connection itself stays up.
func testRFC8441PeerReset(t *testing.T) {
	ended := make(chan error, 1)
	srv := startH2Server(t, Require(func(ws *Conn, r *http.Request) {
		echoLoop(ws)
		ended <- ws.Err()
	}, nil))
	st, err := wstest.DialH2(context.Background(), srv.Listener.Addr().String(), "/", trustServer(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.Response.Body.Close() // net/http's client resets the stream (CANCEL)
	select {
	case err := <-ended:
		var ce *CloseError
		// Either the request's context ended first, or the body's read
		// saw the RST_STREAM: both name it.
		if !errors.As(err, &ce) || ce.Code != CloseAbnormalClosure || !strings.Contains(ce.Reason, "reset") && !strings.Contains(ce.Reason, "CANCEL") {
			t.Errorf("server side ended with %v, want 1006 saying the peer reset the stream", err)
		}
	case <-time.After(testWait):
		t.Fatal("the handler did not return after the peer reset the stream")
	}
}
