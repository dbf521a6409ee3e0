//go:build !js

package websocket

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// This file tests Dial against the package's own server and against raw
// peers written here byte by byte, without the package's codec or
// handshake helpers, so that a bug in those cannot hide itself.

func TestDialEcho(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 65537, 1<<20 + 3}
	for _, secure := range []bool{false, true} {
		name := "ws"
		if secure {
			name = "wss"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startEchoServer(t, secure, &Options{MaxMessageSize: 2 << 20, Subprotocols: []string{"b", "a"}})
			opts := &Options{MaxMessageSize: 2 << 20, Subprotocols: []string{"a", "b"}}
			if secure {
				opts.TLSConfig = trustServer(srv)
			}
			ws, resp := dialOK(t, wsURLOf(srv), opts)
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Errorf("status = %d, want 101", resp.StatusCode)
			}
			if (resp.TLS != nil) != secure {
				t.Errorf("resp.TLS = %v, want it set for wss only", resp.TLS)
			}
			if got := ws.Subprotocol(); got != "b" {
				t.Errorf("Subprotocol() = %q, want the server's choice %q", got, "b")
			}
			if ws.Request() != nil {
				t.Errorf("Request() = %v on a client, want nil", ws.Request())
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for _, typ := range []MessageType{MessageText, MessageBinary} {
				for _, n := range sizes {
					p := make([]byte, n)
					for i := range p {
						if typ == MessageText {
							p[i] = 'a' + byte(i%26)
						} else {
							p[i] = byte(rng.Uint32())
						}
					}
					sent := slices.Clone(p)
					if err := ws.SendMessage(Message{typ, p}); err != nil {
						t.Fatalf("SendMessage(%v, %d bytes) = %v", typ, n, err)
					}
					if !bytes.Equal(p, sent) {
						t.Fatalf("SendMessage(%v, %d bytes) changed the caller's slice", typ, n)
					}
					m, err := ws.WaitTimeout(testWait)
					if err != nil {
						t.Fatalf("Wait after %v of %d bytes = %v", typ, n, err)
					}
					if m.Type != typ || !bytes.Equal(m.Data, p) {
						t.Fatalf("echo of %v of %d bytes = %v of %d bytes, differs", typ, n, m.Type, len(m.Data))
					}
				}
			}
			// Send and SendText too, on both sides of the write buffer.
			for _, n := range []int{10, 3 * DefaultBufferSize} {
				p := bytes.Repeat([]byte{0xA5}, n)
				if err := ws.Send(p); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(p, bytes.Repeat([]byte{0xA5}, n)) {
					t.Fatalf("Send of %d bytes changed the caller's slice", n)
				}
				if m, err := ws.WaitTimeout(testWait); err != nil || !bytes.Equal(m.Data, p) {
					t.Fatalf("echo of Send(%d bytes) = %d bytes, %v", n, len(m.Data), err)
				}
			}
			if err := ws.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
			if code := CloseStatus(ws.Err()); code != CloseNormalClosure {
				t.Errorf("Err() = %v, want 1000", ws.Err())
			}
		})
	}
}

func TestDialOriginRefused(t *testing.T) {
	t.Parallel()
	srv := startEchoServer(t, false, nil)
	h := http.Header{"Origin": {"http://evil.example"}}
	ws, resp, err := Dial(context.Background(), wsURLOf(srv), &Options{Header: h})
	var herr *HandshakeError
	if ws != nil || !errors.As(err, &herr) || herr.Status != http.StatusForbidden {
		t.Fatalf("Dial with a foreign Origin = %v, %v; want a *HandshakeError with 403", ws, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not allowed") {
		t.Errorf("response %d %q, want 403 and the server's reason", resp.StatusCode, body)
	}
	if !strings.Contains(herr.Reason, "not allowed") {
		t.Errorf("Reason %q does not quote the server's body", herr.Reason)
	}
}

func TestDialRequest(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 1)
	srv := startSwitchingServer(t, got, "Sec-WebSocket-Protocol: chat.v2\r\n")
	header := http.Header{
		"Origin":  []string{"http://127.0.0.1"},
		"X-Multi": []string{"1", "2"},
		"X-Tab":   []string{"a\tb"}, // the one control character allowed
	}
	opts := &Options{Header: header, Subprotocols: []string{"chat.v1", "chat.v2"}}
	var proxied *http.Request
	opts.Proxy = func(r *http.Request) (*url.URL, error) { proxied = r; return nil, nil }
	u := "ws://" + srv.addr() + "/some/path?q=1&r=%20x"
	ws, resp := dialOK(t, u, opts)
	req := <-got

	if req.Method != "GET" || req.RequestURI != "/some/path?q=1&r=%20x" || req.Proto != "HTTP/1.1" {
		t.Errorf("request line %s %s %s, want GET /some/path?q=1&r=%%20x HTTP/1.1", req.Method, req.RequestURI, req.Proto)
	}
	if req.Host != srv.addr() {
		t.Errorf("Host %q, want %q", req.Host, srv.addr())
	}
	for name, want := range map[string][]string{
		"Upgrade":                {"websocket"},
		"Connection":             {"Upgrade"},
		"Sec-Websocket-Version":  {"13"},
		"Sec-Websocket-Protocol": {"chat.v1, chat.v2"},
		"Origin":                 {"http://127.0.0.1"},
		"X-Multi":                {"1", "2"},
		"X-Tab":                  {"a\tb"},
	} {
		if got := req.Header[name]; !slices.Equal(got, want) {
			t.Errorf("request header %s = %q, want %q", name, got, want)
		}
	}
	if k, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
		t.Errorf("Sec-WebSocket-Key %q is not 16 bytes in base64", req.Header.Get("Sec-WebSocket-Key"))
	}
	if req.Header["Sec-Websocket-Extensions"] != nil {
		t.Errorf("an extension was offered: %q", req.Header["Sec-Websocket-Extensions"])
	}
	if !reflect.DeepEqual(resp.Request.Header, req.Header) {
		t.Errorf("resp.Request.Header = %v, want the header sent, %v", resp.Request.Header, req.Header)
	}
	header["X-Multi"][0] = "changed"
	if got := resp.Request.Header["X-Multi"]; !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("resp.Request.Header shares Options.Header's slices: %q", got)
	}
	if !slices.Equal(header["X-Multi"], []string{"changed", "2"}) || len(header) != 3 {
		t.Errorf("Dial changed Options.Header: %v", header)
	}
	if proxied == nil || proxied.URL.Scheme != "http" || proxied.URL.Host != srv.addr() {
		t.Errorf("Proxy got %v, want the URL with scheme http", proxied)
	}

	if resp.StatusCode != 101 || resp.Request == nil || resp.Request.Header.Get("Sec-WebSocket-Key") != req.Header.Get("Sec-WebSocket-Key") {
		t.Errorf("response %d with request %v, want 101 and the request sent", resp.StatusCode, resp.Request)
	}
	if n, err := resp.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("response body Read = %d, %v; want an empty body", n, err)
	}
	if ws.Subprotocol() != "chat.v2" {
		t.Errorf("Subprotocol() = %q, want chat.v2", ws.Subprotocol())
	}
}

func TestDialBadArguments(t *testing.T) {
	t.Parallel()
	// Any attempt to connect fails the test.
	noDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		t.Errorf("dialed %s for a bad argument", addr)
		return nil, errors.New("no")
	}
	for _, tc := range []struct {
		name string
		url  string
		opts Options
		want string
	}{
		{"scheme http", "http://127.0.0.1/", Options{}, "scheme"},
		{"no host", "ws:///path", Options{}, "no host"},
		{"fragment", "ws://127.0.0.1/#frag", Options{}, "fragment"},
		{"user info", "ws://u:p@127.0.0.1/", Options{}, "user info"},
		{"not a URL", "ws://[::1", Options{}, "missing ']'"},
		{"non-ASCII host", "ws://bücher.example/", Options{}, `"bücher.example" is not ASCII`},
		{"non-ASCII host escaped", "ws://b%C3%BCcher.example/", Options{}, "punycode"},
		{"header name", "ws://127.0.0.1/", Options{Header: http.Header{"Bad Name": {"x"}}}, "field name"},
		{"header value", "ws://127.0.0.1/", Options{Header: http.Header{"X-Evil": {"a\r\nX-Injected: 1"}}}, "invalid value"},
		{"subprotocol space", "ws://127.0.0.1/", Options{Subprotocols: []string{"a b"}}, "subprotocol"},
		{"subprotocol empty", "ws://127.0.0.1/", Options{Subprotocols: []string{""}}, "subprotocol"},
		{"subprotocol repeated", "ws://127.0.0.1/", Options{Subprotocols: []string{"a", "a"}}, "repeated"},
		{"proxy scheme", "ws://127.0.0.1/", Options{Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1"})}, "proxy scheme"},
		{"proxy error", "ws://127.0.0.1/", Options{Proxy: func(*http.Request) (*url.URL, error) { return nil, errors.New("no proxy today") }}, "no proxy today"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.DialContext = noDial
			ws, resp, err := Dial(context.Background(), tc.url, &tc.opts)
			if ws != nil || resp != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial(%q) = %v, %v, %v; want an error about %q", tc.url, ws, resp, err, tc.want)
			}
		})
	}
}

func TestDialBadResponse(t *testing.T) {
	t.Parallel()
	longBody := strings.Repeat("x", 4000)
	for _, tc := range []struct {
		name    string
		offer   []string                // subprotocols offered
		respond func(key string) string // "" closes without a word
		status  int                     // of the *HandshakeError; -1: not one
		reason  string                  // in the error
		is      error                   // errors.Is target, if any
		body    string                  // the response body kept, for non-101
		noResp  bool                    // no *http.Response expected
	}{
		{name: "status 200", respond: func(string) string {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		}, status: 200, reason: "did not switch protocols", body: "ok"},
		{name: "404 with body", respond: func(string) string {
			return "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\nno such endpoint\n"
		}, status: 404, reason: `"no such endpoint"`, body: "no such endpoint\n"},
		{name: "long body cut at 1 KiB", respond: func(string) string {
			return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4000\r\n\r\n" + longBody
		}, status: 503, reason: "did not switch", body: longBody[:1024]},
		{name: "101 without Upgrade", respond: func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testAccept(key) + "\r\n\r\n"
		}, status: 101, reason: "Upgrade header"},
		{name: "Upgrade h2c", respond: func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testAccept(key) + "\r\n\r\n"
		}, status: 101, reason: "Upgrade header"},
		{name: "101 without Connection", respond: func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + testAccept(key) + "\r\n\r\n"
		}, status: 101, reason: "Connection header"},
		{name: "wrong accept key", respond: func(key string) string {
			return switching("dGhlIHNhbXBsZSBub25jZQ==")
		}, status: 101, reason: "does not match"},
		{name: "no accept key", respond: func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}, status: 101, reason: "Sec-WebSocket-Accept header is missing"},
		{name: "unoffered subprotocol", offer: []string{"a"}, respond: func(key string) string {
			return switching(key, "Sec-WebSocket-Protocol: b\r\n")
		}, status: 101, reason: `"b", which was not offered`},
		{name: "subprotocol none offered", respond: func(key string) string {
			return switching(key, "Sec-WebSocket-Protocol: a\r\n")
		}, status: 101, reason: "not offered"},
		{name: "two subprotocols", offer: []string{"a", "b"}, respond: func(key string) string {
			return switching(key, "Sec-WebSocket-Protocol: a, b\r\n")
		}, status: 101, reason: "more than one subprotocol"},
		{name: "extension", respond: func(key string) string {
			return switching(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
		}, status: 101, reason: "extensions"},
		{name: "garbage", respond: func(string) string {
			return "\x16\x03\x01garbage\r\n\r\n"
		}, status: 0, reason: "malformed", noResp: true},
		{name: "endless headers", respond: func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nX-Big: " + strings.Repeat("a", maxResponseHeaderBytes) + "\r\n\r\n"
		}, status: 0, reason: "longer than", noResp: true},
		{name: "closes before responding", respond: func(string) string { return "" },
			status: -1, reason: "closed before", is: io.ErrUnexpectedEOF, noResp: true},
		{name: "closes mid-response", respond: func(string) string { return "HTTP/1.1 101 Switching Protocols\r\nUpgr" },
			status: -1, reason: "closed before", is: io.ErrUnexpectedEOF, noResp: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			closed := make(chan bool, 1)
			srv := startUpgradeServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
				resp := tc.respond(req.Header.Get("Sec-WebSocket-Key"))
				io.WriteString(c, resp) // fails when the client stops reading
				if resp == "" || strings.HasSuffix(resp, "Upgr") {
					closed <- true // the server closes
					return
				}
				closed <- waitClosed(c)
			})
			ws, resp, err := Dial(context.Background(), "ws://"+srv.addr()+"/", &Options{Subprotocols: tc.offer})
			if ws != nil || err == nil {
				t.Fatalf("Dial = %v, %v; want an error", ws, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Dial error %q does not say %q", err, tc.reason)
			}
			var herr *HandshakeError
			if isH := errors.As(err, &herr); tc.status < 0 && isH || tc.status >= 0 && (!isH || herr.Status != tc.status) {
				t.Errorf("Dial error %#v, want a *HandshakeError with status %d (-1: none)", err, tc.status)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Dial error %v is not %v", err, tc.is)
			}
			switch {
			case tc.noResp && resp != nil:
				t.Errorf("got a response %d, want none", resp.StatusCode)
			case !tc.noResp && resp == nil:
				t.Errorf("got no response, want one with status %d", tc.status)
			case !tc.noResp:
				if resp.StatusCode != tc.status {
					t.Errorf("response status %d, want %d", resp.StatusCode, tc.status)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil || string(body) != tc.body {
					t.Errorf("response body %q (%v), want %q", body, err, tc.body)
				}
			}
			if !<-closed {
				t.Errorf("the client kept the TCP connection open")
			}
		})
	}
}

func TestDialInterimResponse(t *testing.T) {
	t.Parallel()
	srv := startUpgradeServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"+
			switching(req.Header.Get("Sec-WebSocket-Key")))
		answerClose(c, br)
	})
	_, resp := dialOK(t, "ws://"+srv.addr()+"/", nil)
	if resp.StatusCode != 101 {
		t.Errorf("status %d, want 101 after the 103", resp.StatusCode)
	}
}

// TestDialBytesAfter101 has the server write its 101 and its first frames
// in one write: Dial must hand them to the connection. It also checks that
// the client's frames are masked, each with its own key.
func TestDialBytesAfter101(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("0123456789"), 30)
	for _, tc := range []struct {
		name string
		opts *Options
	}{
		{"default buffer", nil},
		{"buffer smaller than the frames", &Options{ReadBufferSize: 64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			frames := make(chan []rawFrameIn, 1)
			srv := startUpgradeServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
				var b []byte
				b = append(b, switching(req.Header.Get("Sec-WebSocket-Key"))...)
				b = append(b, rawFrame(0x81, nil, []byte("hello"))...)
				b = append(b, rawFrame(0x82, nil, big)...)
				c.Write(b)
				var got []rawFrameIn
				for {
					f, err := readRawFrame(br)
					if err != nil {
						t.Errorf("reading the client's frames: %v", err)
						break
					}
					got = append(got, f)
					if f.b0&0x0f == 0x8 {
						c.Write(rawFrame(0x88, nil, f.payload))
						break
					}
				}
				frames <- got
			})
			ws, _ := dialOK(t, "ws://"+srv.addr()+"/", tc.opts)
			for _, want := range []Message{{MessageText, []byte("hello")}, {MessageBinary, big}} {
				m, err := ws.WaitTimeout(testWait)
				if err != nil || m.Type != want.Type || !bytes.Equal(m.Data, want.Data) {
					t.Fatalf("Wait() = %v %q, %v; want %v %q", m.Type, m.Data, err, want.Type, want.Data)
				}
			}
			must(t, ws.SendText("one"))
			must(t, ws.SendText("two"))
			must(t, ws.Close())

			got := <-frames
			if len(got) != 3 {
				t.Fatalf("server got %d frames, want 3", len(got))
			}
			keys := map[[4]byte]bool{}
			for i, want := range []string{"one", "two", "\x03\xe8"} {
				f := got[i]
				if !f.masked || string(f.payload) != want {
					t.Errorf("frame %d: masked %v, payload %q; want masked %q", i, f.masked, f.payload, want)
				}
				keys[f.key] = true
			}
			if len(keys) != 3 {
				t.Errorf("the client reused masking keys: %v", keys)
			}
		})
	}
}

// TestDialBadFrame has a raw server send each kind of frame a client must
// refuse; the client must fail with the right code and tell the server.
func TestDialBadFrame(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		frame []byte
		code  CloseCode
	}{
		{"masked server frame", rawFrame(0x82, []byte{1, 2, 3, 4}, []byte("x")), CloseProtocolError},
		{"RSV1 without extension", rawFrame(0x80|0x40|0x2, nil, []byte("x")), CloseProtocolError},
		{"RSV3 on a ping", rawFrame(0x80|0x10|0x9, nil, nil), CloseProtocolError},
		{"reserved data opcode", rawFrame(0x83, nil, nil), CloseProtocolError},
		{"reserved control opcode", rawFrame(0x8B, nil, nil), CloseProtocolError},
		{"continuation without start", rawFrame(0x80, nil, []byte("x")), CloseProtocolError},
		{"invalid UTF-8", rawFrame(0x81, nil, []byte("ok\xff\xfe")), CloseInvalidFramePayloadData},
		{"too big", rawFrame(0x82, nil, make([]byte, 17)), CloseMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan rawFrameIn, 1)
			srv := startUpgradeServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
				c.Write(append([]byte(switching(req.Header.Get("Sec-WebSocket-Key"))), tc.frame...))
				f, err := readRawFrame(br)
				if err != nil {
					t.Errorf("reading the client's close frame: %v", err)
				}
				got <- f
			})
			ws, _ := dialOK(t, "ws://"+srv.addr()+"/", &Options{MaxMessageSize: 16})
			select {
			case <-ws.Done():
			case <-time.After(testWait):
				t.Fatal("the client did not fail the connection")
			}
			var ce *CloseError
			if !errors.As(ws.Err(), &ce) || ce.Code != tc.code {
				t.Errorf("Err() = %v, want a *CloseError with %d", ws.Err(), tc.code)
			}
			f := <-got
			if f.b0 != 0x88 || !f.masked || len(f.payload) < 2 || CloseCode(binary.BigEndian.Uint16(f.payload)) != tc.code {
				t.Errorf("server got frame %#x masked %v payload %q, want a masked close with %d", f.b0, f.masked, f.payload, tc.code)
			}
		})
	}
}

// stall describes a handshake that never finishes: start returns a URL
// and options for Dial, and closes ready once Dial is stuck at that step.
type stall struct {
	name   string
	status int // the *HandshakeError expected instead of ctx's error, if not 0
	start  func(t *testing.T, ready chan<- struct{}) (string, *Options, func())
}

var stalls = []stall{
	{"dial", 0, func(t *testing.T, ready chan<- struct{}) (string, *Options, func()) {
		return "ws://127.0.0.1:1/", &Options{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			close(ready)
			<-ctx.Done()
			return nil, ctx.Err()
		}}, func() {}
	}},
	{"proxy", 0, func(t *testing.T, ready chan<- struct{}) (string, *Options, func()) {
		srv := startRawServer(t, func(c net.Conn) {
			if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
				close(ready)
			}
			waitClosed(c)
		})
		opts := &Options{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: srv.addr()})}
		return "ws://127.0.0.1:1/", opts, srv.close
	}},
	{"TLS", 0, func(t *testing.T, ready chan<- struct{}) (string, *Options, func()) {
		srv := startRawServer(t, func(c net.Conn) {
			if _, err := c.Read(make([]byte, 1)); err == nil {
				close(ready)
			}
			waitClosed(c)
		})
		return "wss://" + srv.addr() + "/", nil, srv.close
	}},
	{"response", 0, func(t *testing.T, ready chan<- struct{}) (string, *Options, func()) {
		srv := startRawServer(t, func(c net.Conn) {
			if _, _, err := readUpgradeRequest(c); err == nil {
				close(ready)
			}
			waitClosed(c)
		})
		return "ws://" + srv.addr() + "/", nil, srv.close
	}},
	// The status is known: it is the answer, whatever came of the body.
	{"refusal body", 404, func(t *testing.T, ready chan<- struct{}) (string, *Options, func()) {
		const head = "HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nnot"
		srv := startRawServer(t, func(c net.Conn) {
			if _, _, err := readUpgradeRequest(c); err == nil {
				io.WriteString(c, head)
			}
			waitClosed(c)
		})
		// Dial is stuck in the body once it asks for more than head.
		opts := &Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			return &readNotifier{Conn: c, after: len(head), ready: ready}, err
		}}
		return "ws://" + srv.addr() + "/", opts, srv.close
	}},
}

// readNotifier closes ready at the first Read that comes after the first
// after bytes were read, when its reader wants more than those.
type readNotifier struct {
	net.Conn
	after int
	ready chan<- struct{}
	n     int
}

func (c *readNotifier) Read(p []byte) (int, error) {
	if c.n >= c.after && c.ready != nil {
		close(c.ready)
		c.ready = nil
	}
	n, err := c.Conn.Read(p)
	c.n += n
	return n, err
}

// TestDialAbort stops a handshake stuck at each step, by cancelling ctx and
// by the handshake timeout. Not parallel: it checks for goroutines left
// behind.
func TestDialAbort(t *testing.T) {
	for _, s := range stalls {
		for _, byTimeout := range []bool{false, true} {
			name := s.name + "/cancel"
			if byTimeout {
				name = s.name + "/timeout"
			}
			t.Run(name, func(t *testing.T) {
				checkNoLeaks(t)
				ready := make(chan struct{})
				u, opts, stop := s.start(t, ready)
				if opts == nil {
					opts = &Options{}
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				opts.HandshakeTimeout = time.Hour
				if byTimeout {
					opts.HandshakeTimeout = 200 * time.Millisecond
				}
				type result struct {
					ws   *Conn
					resp *http.Response
					err  error
				}
				done := make(chan result, 1)
				go func() {
					ws, resp, err := Dial(ctx, u, opts)
					done <- result{ws, resp, err}
				}()
				if !byTimeout {
					<-ready
					cancel()
				}
				var r result
				select {
				case r = <-done:
				case <-time.After(testWait):
					t.Fatal("Dial did not return")
				}
				if r.ws != nil || r.err == nil {
					t.Fatalf("Dial = %v, %v; want an error", r.ws, r.err)
				}
				select {
				case <-ready:
				default:
					t.Errorf("Dial ended (%v) before it reached the %s step", r.err, s.name)
				}
				var herr *HandshakeError
				if s.status != 0 {
					if !errors.As(r.err, &herr) || herr.Status != s.status || r.resp == nil {
						t.Errorf("Dial = %v, %v; want the response and a *HandshakeError with %d", r.resp, r.err, s.status)
					}
				} else if byTimeout {
					var ne net.Error
					if !errors.Is(r.err, context.DeadlineExceeded) || !errors.As(r.err, &ne) || !ne.Timeout() {
						t.Errorf("Dial error %v, want a timeout that is context.DeadlineExceeded", r.err)
					}
					if !strings.Contains(r.err.Error(), "200ms") {
						t.Errorf("Dial error %q does not give the timeout", r.err)
					}
				} else if !errors.Is(r.err, context.Canceled) {
					t.Errorf("Dial error %v, want context.Canceled", r.err)
				}
				stop()
			})
		}
	}
}

// TestDialDeadlines: the handshake ends at ctx's deadline when it comes
// before the timeout, with ctx's error; and at the timeout on a connection
// that does not support deadlines, which Dial then closes itself.
func TestDialDeadlines(t *testing.T) {
	srv := startRawServer(t, func(c net.Conn) {
		readUpgradeRequest(c) // and never answer
		waitClosed(c)
	})
	u := "ws://" + srv.addr() + "/"

	t.Run("ctx first", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := Dial(ctx, u, &Options{HandshakeTimeout: time.Hour})
		var te *timeoutError
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) {
			t.Errorf("Dial error %v, want ctx's context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > testWait/2 {
			t.Errorf("Dial took %v", d)
		}
	})

	t.Run("no deadlines", func(t *testing.T) {
		conns := make(chan *noDeadlineConn, 1)
		opts := &Options{
			HandshakeTimeout: 100 * time.Millisecond,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				nc := &noDeadlineConn{Conn: c}
				conns <- nc
				return nc, err
			},
		}
		_, _, err := Dial(context.Background(), u, opts)
		var ne net.Error
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "100ms") {
			t.Errorf("Dial error %v, want the handshake timeout", err)
		}
		if nc := <-conns; !nc.closed.Load() {
			t.Error("the connection was not closed")
		}
	})
}

// noDeadlineConn is a connection whose deadlines cannot be set.
type noDeadlineConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *noDeadlineConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

func (c *noDeadlineConn) SetDeadline(time.Time) error      { return errors.ErrUnsupported }
func (c *noDeadlineConn) SetReadDeadline(time.Time) error  { return errors.ErrUnsupported }
func (c *noDeadlineConn) SetWriteDeadline(time.Time) error { return errors.ErrUnsupported }

// TestDialRefusesHeader: a field of Options.Header that is not allowed
// fails Dial before it connects, so that a listener sees no byte of it;
// the same Dial with the field taken out connects.
func TestDialRefusesHeader(t *testing.T) {
	t.Parallel()
	type field struct{ name, value string }
	cases := []struct {
		field
		want string
	}{
		{field{"X-Esc", "a\x1b[31mb"}, "invalid value for X-Esc"},
		{field{"X-Del", "a\x7fb"}, "invalid value"},
		{field{"X-Vt", "a\vb"}, "invalid value"},
		{field{"X-Ff", "a\fb"}, "invalid value"},
		{field{"X-Soh", "\x01"}, "invalid value"},
		{field{"X-Us", "a\x1fb"}, "invalid value"},
		{field{"X-Cr", "a\rX-Injected: 1"}, "invalid value"},
		{field{"X-Lf", "a\nX-Injected: 1"}, "invalid value"},
		{field{"X-Nul", "a\x00b"}, "invalid value"},
		{field{"Bad Name", "x"}, `invalid field name "Bad Name"`},
		{field{"X-Esc\x1b", "x"}, `invalid field name "X-Esc\x1b"`},
		{field{"X:Colon", "x"}, "invalid field name"},
		{field{"", "x"}, "invalid field name"},
		{field{"X-Ünï", "x"}, "invalid field name"},
		{field{"host", "evil.example"}, "may not hold Host"},
		{field{"Upgrade", "h2c"}, "may not hold Upgrade"},
		{field{"connection", "close"}, "may not hold Connection"},
		{field{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, "may not hold Sec-WebSocket-Key"},
		{field{"Sec-Websocket-Version", "8"}, "may not hold Sec-WebSocket-Version"},
		{field{"SEC-WEBSOCKET-ACCEPT", "x"}, "may not hold Sec-WebSocket-Accept"},
		{field{"Sec-WebSocket-Extensions", "permessage-deflate"}, "may not hold Sec-WebSocket-Extensions"},
		{field{"Sec-WebSocket-Protocol", "chat"}, "Options.Subprotocols"},
		{field{"Content-Length", "5"}, "may not hold Content-Length"},
		{field{"transfer-encoding", "chunked"}, "may not hold Transfer-Encoding"},
		{field{"Trailer", "X-A"}, "may not hold Trailer"},
		{field{"TE", "trailers"}, "may not hold TE"},
		{field{"Keep-Alive", "timeout=5"}, "may not hold Keep-Alive"},
		{field{"Proxy-Connection", "keep-alive"}, "may not hold Proxy-Connection"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
			t.Parallel()
			got := make(chan *http.Request, 2)
			srv := startSwitchingServer(t, got)
			var dials atomic.Int32
			opts := &Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}
			u := "ws://" + srv.addr() + "/"

			opts.Header = http.Header{"Origin": {"http://127.0.0.1"}, tc.name: {tc.value}}
			ws, resp, err := Dial(context.Background(), u, opts)
			if ws != nil || resp != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Dial with %q: %q = %v, %v, %v; want an error about %q", tc.name, tc.value, ws, resp, err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x00\x01\x1b\x7f\r\n\v\f") {
				t.Errorf("error %q has a control character", err)
			}
			if n := dials.Load(); n != 0 {
				t.Errorf("Dial connected %d times for a refused header", n)
			}

			// Without the bad field, the same options connect: the listener
			// worked all along, and the only request it saw is this one.
			delete(opts.Header, tc.name)
			ws, resp = dialOK(t, u, opts)
			ws.Close()
			srv.close()
			close(got)
			var seen []string
			for req := range got {
				seen = append(seen, req.Header.Get("Sec-WebSocket-Key"))
			}
			if want := resp.Request.Header.Get("Sec-WebSocket-Key"); len(seen) != 1 || seen[0] != want {
				t.Errorf("the listener saw requests with keys %q; want only the good one's, %q", seen, want)
			}
		})
	}
}
