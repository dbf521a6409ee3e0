package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/internal/wstest"
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

// A minimal WebSocket client for these tests, on the naive codec in
// internal/wstest (not the library's own).

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
	br, _, err := wstest.ClientHandshake(conn, addr, "/", http.Header{"Origin": {"http://" + addr}})
	if err != nil {
		t.Fatal(err)
	}
	return &client{t, conn, br}
}

// frame returns p as one masked frame.
func frame(op byte, p string) []byte {
	return wstest.Frame{Fin: true, Opcode: op, Masked: true, Key: wstest.NewKey(), Payload: []byte(p)}.Encode()
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
	f, err := wstest.ReadFrame(c.br, 1<<20)
	if err != nil {
		c.t.Fatal(err)
	}
	if !f.Fin || f.Masked {
		c.t.Fatalf("frame %v: want FIN set and no mask", f)
	}
	return f.Opcode, f.Payload
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

// On SIGINT or SIGTERM the server shuts down: a page in the middle of a
// download gets 1001 (going away), and serve returns nil once its handler
// has.
func TestShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	served := make(chan error, 1)
	go func() { served <- serve(websocket.NewServer("", newHandler(time.Hour)), ln, stop) }()
	c := dial(t, ln.Addr().String())
	c.write(frame(opText, "start"))
	if e := c.event(); e.Type != "started" {
		t.Fatalf("got %+v, want started", e)
	}
	stop <- syscall.SIGTERM
	op, p := c.recv()
	if op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != 1001 {
		t.Fatalf("after SIGTERM: opcode %d %q, want close 1001", op, p)
	}
	c.write(frame(opClose, string(p[:2])))
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
