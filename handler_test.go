package websocket

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// handshake sends a raw request to srv and returns the response.
func handshake(t *testing.T, srv *httptest.Server, req string) *http.Response {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

const validUpgrade = "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

func body(t *testing.T, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRequireRejections(t *testing.T) {
	ran := false
	srv := httptest.NewServer(Require(func(ws *Conn, r *http.Request) { ran = true }, nil))
	defer srv.Close()
	for _, tc := range []struct {
		name, req  string
		wantStatus int
		wantBody   string
		wantHeader string
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "expects a WebSocket connection", ""},
		{"wrong version", strings.Replace(validUpgrade, "Version: 13", "Version: 8", 1) + "\r\n", 426, "must be 13", "13"},
		{"bad key", strings.Replace(validUpgrade, "dGhlIHNhbXBsZSBub25jZQ==", "short", 1) + "\r\n", 400, "Sec-WebSocket-Key", ""},
		{"POST", strings.Replace(validUpgrade, "GET", "POST", 1) + "Content-Length: 0\r\n\r\n", 405, "not GET", ""},
		{"cross origin", validUpgrade + "Origin: https://evil.test\r\n\r\n", 403, "evil.test", ""},
	} {
		resp := handshake(t, srv, tc.req)
		if b := body(t, resp); resp.StatusCode != tc.wantStatus || !strings.Contains(b, tc.wantBody) || strings.Count(b, "\n") != 1 {
			t.Errorf("%s: %d %q, want %d with %q on one line", tc.name, resp.StatusCode, b, tc.wantStatus, tc.wantBody)
		}
		if got := resp.Header.Get("Sec-WebSocket-Version"); got != tc.wantHeader {
			t.Errorf("%s: Sec-WebSocket-Version = %q, want %q", tc.name, got, tc.wantHeader)
		}
	}
	if ran {
		t.Error("the handler ran for a rejected request")
	}
}

func TestAcceptServesBoth(t *testing.T) {
	srv := httptest.NewServer(Accept(func(w http.ResponseWriter, r *http.Request, ws *Conn) {
		if ws == nil {
			io.WriteString(w, "a page")
			return
		}
		ws.SendText("a feed")
	}, nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != 200 || b != "a page" {
		t.Errorf("plain GET = %d %q", resp.StatusCode, b)
	}
	p := dialRaw(t, srv.Listener.Addr().String())
	if b0, payload, err := p.readFrame(); err != nil || b0 != 0x81 || string(payload) != "a feed" {
		t.Fatalf("first frame = %x %q %v", b0, payload, err)
	}
	// The handler returned: the library closes with 1000.
	if b0, payload, err := p.readFrame(); err != nil || b0 != 0x88 || string(payload) != "\x03\xe8" {
		t.Fatalf("second frame = %x %q %v, want close 1000", b0, payload, err)
	}
	p.write(clientFrame(0x88, "\x03\xe8"))
	if _, err := p.br.ReadByte(); err != io.EOF {
		t.Errorf("after the closing handshake: %v, want EOF", err)
	}
}

func TestMiddlewareFromRequest(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/any/path", func(w http.ResponseWriter, r *http.Request) {
		ws := FromRequest(r)
		if ws == nil {
			io.WriteString(w, "plain")
			return
		}
		ws.SendText(r.URL.Path)
	})
	srv := httptest.NewServer(Middleware(mux, nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/any/path")
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); b != "plain" {
		t.Errorf("plain GET = %q", b)
	}
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, strings.Replace(validUpgrade, "/x", "/any/path", 1)+"\r\n")
	p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc)}
	if resp, err := http.ReadResponse(p.br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if b0, payload, err := p.readFrame(); err != nil || b0 != 0x81 || string(payload) != "/any/path" {
		t.Fatalf("frame = %x %q %v", b0, payload, err)
	}
}

func TestUpgradeResponseHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=1")
		w.Header().Set("Sec-WebSocket-Accept", "forged") // never sent: the handshake's own
		ws, err := Upgrade(w, r, &Options{Subprotocols: []string{"v2", "v1"}})
		if err != nil {
			return
		}
		ws.SendText(ws.Subprotocol())
		ws.Close()
	}))
	defer srv.Close()
	resp := handshake(t, srv, validUpgrade+"Sec-WebSocket-Protocol: v1, v2\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := len(resp.Header.Values("Sec-WebSocket-Accept")); n != 1 {
		t.Errorf("%d Sec-WebSocket-Accept fields, want 1", n)
	}
	for k, want := range map[string]string{
		"Upgrade":                  "websocket",
		"Connection":               "Upgrade",
		"Sec-WebSocket-Accept":     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"Sec-WebSocket-Protocol":   "v2",
		"Set-Cookie":               "session=1",
		"Sec-WebSocket-Extensions": "",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestHandlerPanicClosesWith1011(t *testing.T) {
	srv := httptest.NewUnstartedServer(Require(func(ws *Conn, r *http.Request) {
		panic(http.ErrAbortHandler) // not logged, like net/http
	}, nil))
	srv.Start()
	defer srv.Close()
	p := dialRaw(t, srv.Listener.Addr().String())
	if b0, payload, err := p.readFrame(); err != nil || b0 != 0x88 || string(payload) != "\x03\xf3" {
		t.Fatalf("frame = %x %q %v, want close 1011", b0, payload, err)
	}
	p.write(clientFrame(0x88, "\x03\xf3"))
	if _, err := p.br.ReadByte(); err != io.EOF {
		t.Errorf("after the closing handshake: %v, want EOF", err)
	}
}

// TestRequestContextEndsWithConnection: the handler's request context
// lives as long as the connection, not the HTTP exchange.
func TestRequestContextEndsWithConnection(t *testing.T) {
	ctxErr := make(chan error, 2)
	exchange := make(chan context.Context, 1) // the HTTP exchange's own context
	h := Require(func(ws *Conn, r *http.Request) {
		<-(<-exchange).Done() // net/http is done with the exchange
		if err := context.Cause(r.Context()); err != nil {
			ctxErr <- err
		} else {
			ctxErr <- r.Context().Err() // still open
		}
		ws.Wait()
		<-ws.Done()
		<-r.Context().Done()
		ctxErr <- r.Context().Err()
	}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exchange <- r.Context()
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	p := dialRaw(t, srv.Listener.Addr().String())
	if err := <-ctxErr; err != nil {
		t.Fatalf("context while open: %v", err)
	}
	p.write(clientFrame(0x88, "\x03\xe8"))
	p.expectClose(CloseNormalClosure)
	if err := <-ctxErr; err == nil {
		t.Fatal("context after close: nil error")
	}
}

// TestUpgradeDropsHandshakeAndFramingHeaders: headers a handler put
// straight into the map, in lower case, that collide with the handshake's
// own or frame a body never reach the 101 response; others do.
func TestUpgradeDropsHandshakeAndFramingHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, k := range []string{
			"sec-websocket-accept", "SEC-WEBSOCKET-PROTOCOL", "sec-websocket-extensions", "sec-websocket-version",
			"upgrade", "connection", "content-length", "transfer-encoding", "trailer", "Trailer:X-Sum", "trailer:x-sum",
		} {
			h[k] = []string{"forged"}
		}
		h["x-kept"] = []string{"yes"}
		h["Set-Cookie"] = []string{"session=1"}
		if ws, err := Upgrade(w, r, nil); err == nil {
			ws.Close()
		}
	}))
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, validUpgrade+"\r\n")
	// Read the head as sent: http.ReadResponse would merge and
	// canonicalize the lines.
	br := bufio.NewReader(nc)
	var fields []string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		fields = append(fields, strings.TrimRight(line, "\r\n"))
	}
	want := []string{
		"HTTP/1.1 101 Switching Protocols",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"Set-Cookie: session=1",
		"x-kept: yes",
	}
	if strings.Join(fields, "\n") != strings.Join(want, "\n") {
		t.Errorf("101 response head:\n%s\nwant:\n%s", strings.Join(fields, "\n"), strings.Join(want, "\n"))
	}
}

// unwrappingWriter is middleware's ResponseWriter that does not implement
// http.Hijacker itself but offers the one it wraps through Unwrap, as
// http.ResponseController expects.
type unwrappingWriter struct{ http.ResponseWriter }

func (w unwrappingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// opaqueWriter wraps a ResponseWriter with neither Hijack nor Unwrap.
type opaqueWriter struct{ http.ResponseWriter }

// TestUpgradeThroughWrappedResponseWriter: Upgrade finds Hijack through a
// middleware's Unwrap; a wrapper that hides it gets a 500 that names it.
func TestUpgradeThroughWrappedResponseWriter(t *testing.T) {
	h := Require(func(ws *Conn, r *http.Request) { ws.SendText("through") }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(unwrappingWriter{w}, r)
	}))
	defer srv.Close()
	p := dialRaw(t, srv.Listener.Addr().String())
	if b0, payload, err := p.readFrame(); err != nil || b0 != 0x81 || string(payload) != "through" {
		t.Fatalf("frame = %x %q %v", b0, payload, err)
	}

	opaque := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(opaqueWriter{w}, r)
	}))
	defer opaque.Close()
	resp := handshake(t, opaque, validUpgrade+"\r\n")
	if b := body(t, resp); resp.StatusCode != 500 || !strings.Contains(b, "opaqueWriter") || !strings.Contains(b, "Unwrap") {
		t.Errorf("opaque wrapper: %d %q, want 500 naming the writer's type and Unwrap", resp.StatusCode, b)
	}
}

// TestRequireExplainsPlainRequests: a request with no upgrade at all is
// told the URL is for WebSocket; a half-right one is told what is missing.
func TestRequireExplainsPlainRequests(t *testing.T) {
	srv := httptest.NewServer(Require(func(ws *Conn, r *http.Request) {}, nil))
	defer srv.Close()
	const key = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, tc := range []struct {
		name, req, wantBody string
	}{
		{"browser GET", "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nConnection: keep-alive\r\n\r\n",
			"websocket: this URL expects a WebSocket connection (missing Upgrade: websocket)\n"},
		{"Upgrade without Connection", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n" + key + "\r\n",
			"websocket: Connection header lacks the \"upgrade\" token\n"},
		{"Connection without Upgrade", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n" + key + "\r\n",
			"websocket: Upgrade header lacks the \"websocket\" token\n"},
		{"another protocol", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
			"websocket: Upgrade header lacks the \"websocket\" token\n"},
	} {
		resp := handshake(t, srv, tc.req)
		if b := body(t, resp); resp.StatusCode != 400 || b != tc.wantBody {
			t.Errorf("%s: %d %q, want 400 %q", tc.name, resp.StatusCode, b, tc.wantBody)
		}
	}
}
