package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPage(t *testing.T) {
	srv := httptest.NewServer(newHandler(time.Millisecond))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<button id="start"`, ">Start</button>", "<progress", "new WebSocket("} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	resp, err = http.Get(srv.URL + "/favicon.ico")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /favicon.ico: %s, want 404", resp.Status)
	}
}

func TestDownload(t *testing.T) {
	srv := httptest.NewServer(newHandler(time.Millisecond))
	defer srv.Close()
	c := dial(t, srv.Listener.Addr().String())

	c.write(frame(opText, "hello"))
	if e := c.event(); e.Type != "error" {
		t.Fatalf("after hello: %+v, want an error", e)
	}

	// Twice: the second "start" is sent in answer to the first "done", and
	// must not be refused.
	for round := 1; round <= 2; round++ {
		c.write(frame(opText, "start"), frame(opText, "start")) // one TCP write
		if e := c.event(); e.Type != "started" || e.Total != fileSize {
			t.Fatalf("round %d: first event %+v, want started", round, e)
		}
		percent, busy := 0, 0
		for e := c.event(); e.Type != "done"; e = c.event() {
			switch e.Type {
			case "busy":
				busy++
			case "progress":
				if e.Percent != percent+100/steps || e.Bytes != fileSize*int64(e.Percent)/100 {
					t.Fatalf("round %d: %+v after %d%%", round, e, percent)
				}
				percent = e.Percent
			default:
				t.Fatalf("round %d: unexpected %+v", round, e)
			}
		}
		if percent != 100 || busy != 1 {
			t.Fatalf("round %d: done after %d%% with %d busy messages, want 100%% and 1", round, percent, busy)
		}
	}

	// A normal close is answered with the same code.
	c.write(frame(opClose, "\x03\xe8"))
	if op, p := c.recv(); op != opClose || string(p) != "\x03\xe8" {
		t.Fatalf("after close: opcode %d %q, want the close frame back", op, p)
	}
}

// A page closed in the middle of a download ends the handler, and with it
// the download's goroutine.
func TestDisconnect(t *testing.T) {
	returned := make(chan struct{})
	h := newHandler(time.Hour)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		close(returned)
	}))
	defer srv.Close()
	c := dial(t, srv.Listener.Addr().String())
	c.write(frame(opText, "start"))
	if e := c.event(); e.Type != "started" {
		t.Fatalf("got %+v, want started", e)
	}
	c.conn.Close() // no close frame: like a browser tab killed
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still runs 5 s after the connection dropped")
	}
}

// A minimal WebSocket client, enough for these tests (RFC 6455).

const (
	opText  = 0x1
	opClose = 0x8
)

type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nOrigin: http://%[1]s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("handshake: %s, Sec-WebSocket-Accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	return &client{t, conn, br}
}

// frame returns p as one masked frame.
func frame(op byte, p string) []byte {
	f := []byte{0x80 | op, 0x80}
	switch {
	case len(p) < 126:
		f[1] |= byte(len(p))
	case len(p) <= 0xffff:
		f[1] |= 126
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	default:
		f[1] |= 127
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	var key [4]byte
	rand.Read(key[:])
	f = append(f, key[:]...)
	for i := range len(p) {
		f = append(f, p[i]^key[i%4])
	}
	return f
}

func (c *client) write(frames ...[]byte) {
	c.t.Helper()
	if _, err := c.conn.Write(bytes.Join(frames, nil)); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads one frame; the server sends every message as one unmasked frame.
func (c *client) recv() (op byte, p []byte) {
	c.t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		c.t.Fatal(err)
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		c.t.Fatalf("frame header %x: want FIN set and no mask", h)
	}
	n := uint64(h[1] & 0x7f)
	if n >= 126 {
		ext := make([]byte, 2+6*(n-126)) // 2 bytes for 126, 8 for 127
		if _, err := io.ReadFull(c.br, ext); err != nil {
			c.t.Fatal(err)
		}
		n = 0
		for _, b := range ext {
			n = n<<8 | uint64(b)
		}
	}
	p = make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatal(err)
	}
	return h[0] & 0x0f, p
}

// event reads one text message and decodes it.
func (c *client) event() event {
	c.t.Helper()
	op, p := c.recv()
	var e event
	if err := json.Unmarshal(p, &e); op != opText || err != nil {
		c.t.Fatalf("got opcode %d %q, want a JSON text message", op, p)
	}
	return e
}
