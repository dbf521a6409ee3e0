package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/internal/wstest"
)

func TestEcho(t *testing.T) {
	srv := httptest.NewServer(newHandler(false, nil, websocket.CompressionNoContextTakeover))
	defer srv.Close()
	c, resp := dial(t, srv.Listener.Addr().String(), "/any/path", "")
	if resp.StatusCode != 101 {
		t.Fatalf("handshake: %s", resp.Status)
	}

	big := make([]byte, 1<<20)
	rand.Read(big)
	for _, m := range []struct {
		op byte
		p  []byte
	}{
		{opText, []byte("héllo, wörld")},
		{opBinary, []byte{0x00, 0xff, 0xfe}}, // not UTF-8
		{opText, nil},
		{opBinary, big},                                       // 1 MiB
		{opText, []byte(strings.Repeat("é", 1<<19))},          // 1 MiB
		{opBinary, bytes.Repeat([]byte{1, 2, 3}, 1<<20)},      // 3 MiB, over the default limit
		{opText, []byte(strings.Repeat("x", maxMessageSize))}, // the largest allowed
	} {
		c.send(m.op, m.p)
		if op, p := c.recv(); op != m.op || !bytes.Equal(p, m.p) {
			t.Fatalf("sent opcode %d, %d bytes; got opcode %d, %d bytes", m.op, len(m.p), op, len(p))
		}
	}

	// One byte over the limit: refused with 1009 on seeing the header.
	c.sendHeader(opBinary, maxMessageSize+1)
	if op, p := c.recv(); op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != 1009 {
		t.Fatalf("after a too big message: opcode %d %q, want close 1009", op, p)
	}
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		insecure bool
		origin   string
		want     int
	}{
		{false, "", 101}, // not a browser
		{false, "same", 101},
		{false, "http://evil.example", 403},
		{true, "http://evil.example", 101},
	} {
		srv := httptest.NewServer(newHandler(tc.insecure, nil, websocket.CompressionNoContextTakeover))
		addr := srv.Listener.Addr().String()
		origin := tc.origin
		if origin == "same" {
			origin = "http://" + addr
		}
		_, resp := dial(t, addr, "/", origin)
		if resp.StatusCode != tc.want {
			t.Errorf("insecure-origin %v, Origin %q: %s, want %d", tc.insecure, origin, resp.Status, tc.want)
		}
		srv.Close()
	}
}

// TestSubprotocols checks that the server picks by its own order of
// preference among the ones offered, and picks none when none matches.
func TestSubprotocols(t *testing.T) {
	srv := httptest.NewServer(newHandler(false, splitList(" chat, superchat,,"), websocket.CompressionNoContextTakeover))
	defer srv.Close()
	for _, tc := range []struct{ offer, want string }{
		{"superchat, chat", "chat"},
		{"superchat", "superchat"},
		{"v2.other", ""},
		{"", ""},
	} {
		c := dialHeader(t, srv.Listener.Addr().String(), "/", http.Header{"Sec-Websocket-Protocol": {tc.offer}})
		if c.resp.StatusCode != 101 {
			t.Fatalf("offer %q: %s", tc.offer, c.resp.Status)
		}
		if got := c.resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
			t.Errorf("offer %q: server picked %q, want %q", tc.offer, got, tc.want)
		}
	}
}

// A minimal WebSocket client, enough for these tests (RFC 6455).

const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
)

type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	key  [4]byte
	resp *http.Response // the handshake's
}

// dial sends an opening handshake, with an Origin header if origin is not
// empty, and returns the response; the client is usable after a 101. The
// client speaks through the naive codec in internal/wstest.
func dial(t *testing.T, addr, path, origin string) (*client, *http.Response) {
	t.Helper()
	extra := http.Header{}
	if origin != "" {
		extra.Set("Origin", origin)
	}
	c := dialHeader(t, addr, path, extra)
	return c, c.resp
}

// dialHeader sends an opening handshake with extra headers.
func dialHeader(t *testing.T, addr, path string, extra http.Header) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br, resp, err := wstest.ClientHandshake(conn, addr, path, extra)
	if resp == nil || err != nil && resp.StatusCode == http.StatusSwitchingProtocols {
		t.Fatal(err)
	}
	return &client{t: t, conn: conn, br: br, key: wstest.NewKey(), resp: resp}
}

// send writes p as one masked frame.
func (c *client) send(op byte, p []byte) {
	c.t.Helper()
	c.write(wstest.Frame{Fin: true, Opcode: op, Masked: true, Key: c.key, Payload: p}.Encode())
}

// sendHeader writes only the header of a frame of n bytes.
func (c *client) sendHeader(op byte, n int) {
	c.t.Helper()
	c.write(c.header(op, n))
}

func (c *client) header(op byte, n int) []byte {
	h := []byte{0x80 | op, 0x80}
	switch {
	case n < 126:
		h[1] |= byte(n)
	case n <= 0xffff:
		h[1] |= 126
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h[1] |= 127
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	return append(h, c.key[:]...)
}

func (c *client) write(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one frame; the server sends every message as one unmasked frame.
func (c *client) recv() (op byte, p []byte) {
	c.t.Helper()
	f, err := wstest.ReadFrame(c.br, 32<<20)
	if err != nil {
		c.t.Fatal(err)
	}
	if !f.Fin || f.Masked {
		c.t.Fatalf("frame %v: want FIN set and no mask", f)
	}
	return f.Opcode, f.Payload
}

// On SIGINT or SIGTERM the server shuts down: every client gets 1001
// (going away), and serve returns nil once the handlers have returned.
func TestShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(websocket.NewServer("", newHandler(false, nil, websocket.CompressionNoContextTakeover)), ln, stop)
	}()
	var clients []*client
	for range 3 {
		c, resp := dial(t, ln.Addr().String(), "/", "")
		if resp.StatusCode != 101 {
			t.Fatalf("handshake: %s", resp.Status)
		}
		c.send(opText, []byte("hi")) // answered: the handler runs
		if op, p := c.recv(); op != opText || string(p) != "hi" {
			t.Fatalf("echo: opcode %d %q", op, p)
		}
		clients = append(clients, c)
	}
	stop <- os.Interrupt
	for _, c := range clients {
		op, p := c.recv()
		if op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != 1001 {
			t.Fatalf("after SIGINT: opcode %d %q, want close 1001", op, p)
		}
		c.send(opClose, p[:2])
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestCompression: a client's permessage-deflate offer, such as a
// browser's, is accepted unless -compression is off, and a compressed
// message comes back as it was sent.
func TestCompression(t *testing.T) {
	text := strings.Repeat("the same words again and again, ", 4096) // 128 KiB
	for _, tc := range []struct {
		flag     string
		accepted bool
	}{
		{"no-context-takeover", true}, // the default
		{"context-takeover", true},
		{"off", false},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			srv := httptest.NewServer(newHandler(false, nil, compressionModes[tc.flag]))
			defer srv.Close()
			// A browser's offer, as chromium sends it.
			c := dialHeader(t, srv.Listener.Addr().String(), "/", http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"}})
			if c.resp.StatusCode != 101 {
				t.Fatalf("handshake: %s", c.resp.Status)
			}
			ext := c.resp.Header.Get("Sec-WebSocket-Extensions")
			if got := strings.HasPrefix(ext, "permessage-deflate"); got != tc.accepted {
				t.Fatalf("Sec-WebSocket-Extensions %q; want permessage-deflate accepted: %v", ext, tc.accepted)
			}

			// The library's own client, compressing.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ws, resp, err := websocket.Dial(ctx, "ws://"+srv.Listener.Addr().String()+"/", &websocket.Options{
				Compression: websocket.CompressionContextTakeover, MaxMessageSize: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			if got := resp.Header.Get("Sec-WebSocket-Extensions") != ""; got != tc.accepted {
				t.Fatalf("Dial: Sec-WebSocket-Extensions %q", resp.Header.Get("Sec-WebSocket-Extensions"))
			}
			if err := ws.SendText(text); err != nil {
				t.Fatal(err)
			}
			m, err := ws.WaitTimeout(10 * time.Second)
			if err != nil || m.Type != websocket.MessageText || string(m.Data) != text {
				t.Fatalf("echo: %v, type %v, %d bytes, want the %d bytes sent", err, m.Type, len(m.Data), len(text))
			}
		})
	}
	if _, ok := compressionModes[defaultCompression]; !ok || compressionModes[defaultCompression] == websocket.CompressionOff {
		t.Errorf("-compression defaults to %q: want a mode that accepts browsers' offers", defaultCompression)
	}
}
