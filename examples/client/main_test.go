package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerows/websocket"
)

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// syncBuffer is an output that the test can watch while run writes it.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // signalled after each write
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{written: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.written <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output is want.
func (b *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for b.String() != want {
		select {
		case <-b.written:
		case <-timeout:
			t.Fatalf("output:\n%s\nwant:\n%s", b.String(), want)
		}
	}
}

func TestClientEcho(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ws.SendText("token=" + r.Header.Get("X-Token") + " subprotocol=" + ws.Subprotocol())
		ws.Send([]byte{0xde, 0xad, 0xbe, 0xef})
		for m := range ws.Messages() {
			ws.SendMessage(m)
		}
	}, &websocket.Options{Subprotocols: []string{"echo.v2"}}))
	defer srv.Close()

	stdin, w := io.Pipe()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	args := []string{"-H", "X-Token: s3cret", "-subprotocol", "echo.v1", "-subprotocol", "echo.v2", "-linger", "0", wsURL(srv)}
	code := make(chan int, 1)
	go func() { code <- run(args, stdin, stdout, stderr) }()
	io.WriteString(w, "hello\r\n\nwörld\n")
	stdout.waitFor(t, "token=s3cret subprotocol=echo.v2\nbinary, 4 bytes: deadbeef\nhello\n\nwörld\n")
	w.Close() // the end of standard input closes the connection
	if c := <-code; c != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", c, stderr)
	}
	if !strings.Contains(stderr.String(), `subprotocol "echo.v2"`) || !strings.Contains(stderr.String(), "closed: 1000 normal closure") {
		t.Errorf("stderr does not report the subprotocol and the close:\n%s", stderr)
	}
}

// TestClientLingers checks that the end of standard input does not lose
// the answer to the last line (which has no newline): the server answers,
// then closes, and the client must print the answer before it exits.
func TestClientLingers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		if m, err := ws.Wait(); err == nil {
			ws.SendText("got " + string(m.Data))
		}
	}, nil))
	defer srv.Close()

	var stdout, stderr bytes.Buffer
	if code := run([]string{"-linger", "1m", wsURL(srv)}, strings.NewReader("hello"), &stdout, &stderr); code != 0 {
		t.Errorf("exit status %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if stdout.String() != "got hello\n" {
		t.Errorf("stdout %q, want the answer to the last line", stdout.String())
	}
}

func TestClientServerCloses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		m, err := ws.Wait()
		if err == nil {
			ws.CloseWith(4000, "bye "+string(m.Data))
		}
	}, nil))
	defer srv.Close()

	stdin, w := io.Pipe() // standard input that stays open
	defer w.Close()
	go io.WriteString(w, "alice\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{wsURL(srv)}, stdin, &stdout, &stderr); code != 1 {
		t.Errorf("exit status %d, want 1 for close code 4000", code)
	}
	if !strings.Contains(stderr.String(), "closed: 4000 close code 4000: bye alice") {
		t.Errorf("stderr does not give the close code and reason:\n%s", stderr.String())
	}
}

func TestClientUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string // in standard error
	}{
		{nil, "usage:"},
		{[]string{"-H", "no colon", "ws://127.0.0.1:1/"}, `want "Name: value"`},
		{[]string{"ws://a/", "ws://b/"}, "usage:"},
		{[]string{"-max-size", "lots", "ws://a/"}, "want a positive number of bytes"},
		{[]string{"127.0.0.1:9000"}, `"127.0.0.1:9000" is not a URL: did you mean ws://127.0.0.1:9000/ ?`},
		{[]string{"localhost:9000/"}, `"localhost:9000/" is not a URL: did you mean ws://localhost:9000/ ?`},
		{[]string{"http://127.0.0.1:9000/chat?x=1"}, "not http://: did you mean ws://127.0.0.1:9000/chat?x=1 ?"},
		{[]string{"https://example.com/"}, "not https://: did you mean wss://example.com/ ?"},
		{[]string{"ftp://example.com/"}, `URL scheme "ftp" is not ws:// or wss://`},
		{[]string{"ws:///path"}, "has no host"},
	} {
		var stderr bytes.Buffer
		if code := run(tc.args, strings.NewReader(""), io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run(%q) = %d, %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestSizeFlag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1": 1, "1048576": 1 << 20, "64KiB": 64 << 10, "16mib": 16 << 20, "2GiB": 2 << 30} {
		var s sizeFlag
		if err := s.Set(in); err != nil || int64(s) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, s, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "MiB", "1.5MiB", "1TiB", "9999999999GiB"} {
		var s sizeFlag
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, s)
		}
	}
	if s := sizeFlag(defaultMaxSize); s.String() != "16MiB" {
		t.Errorf("default shown as %q", s.String())
	}
}

// TestClientDialErrors checks the one-line errors for a closed port and a
// mix-up of ws:// and wss://, over real TCP.
func TestClientDialErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	plain := httptest.NewServer(websocket.Require(func(*websocket.Conn, *http.Request) {}, nil))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(websocket.Require(func(*websocket.Conn, *http.Request) {}, nil))
	defer tlsSrv.Close()
	tlsHost := strings.TrimPrefix(tlsSrv.URL, "https://")

	for _, tc := range []struct{ url, want string }{
		{"ws://" + closed + "/", "client: cannot connect to " + closed + ": connection refused (is the server running, and on this port?)\n"},
		{"wss" + strings.TrimPrefix(plain.URL, "http") + "/", "client: " + strings.TrimPrefix(plain.URL, "http://") + " does not speak TLS: try ws:// instead of wss://\n"},
		{"ws://" + tlsHost + "/", "try wss:// instead of ws://\n"},
	} {
		var stderr bytes.Buffer
		code := run([]string{tc.url}, strings.NewReader(""), io.Discard, &stderr)
		if code != 1 || !strings.HasSuffix(stderr.String(), tc.want) || strings.Count(stderr.String(), "dial") > 1 {
			t.Errorf("%s: exit %d, %q; want 1 and %q", tc.url, code, stderr.String(), tc.want)
		}
	}
}

// TestClientMaxSize checks -max-size, and that a 1009 says whose limit it
// was.
func TestClientMaxSize(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2<<20) // 2 MiB: over the library's default 1 MiB
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ws.SendText(big)
		for m := range ws.Messages() {
			ws.SendMessage(m)
		}
	}, &websocket.Options{MaxMessageSize: 3 << 20}))
	defer srv.Close()

	// The default takes it.
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-linger", "0", wsURL(srv)}, strings.NewReader(""), &stdout, &stderr); code != 0 || stdout.String() != big+"\n" {
		t.Errorf("default -max-size: exit %d, %d bytes out; stderr %q", code, stdout.Len(), stderr.String())
	}

	// A lower -max-size refuses it, and says so.
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"-max-size", "1MiB", wsURL(srv)}, strings.NewReader(""), &stdout, &stderr)
	want := "closed: 1009 message too big: message longer than 1048576 bytes\nclient: this client refused a message from the server longer than -max-size (1048576 bytes); raise -max-size\n"
	if code != 1 || !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("-max-size 1MiB: exit %d, %q; want 1 and %q", code, stderr.String(), want)
	}

	// A line over the server's limit: the server refused it.
	stderr.Reset()
	stdin, w := io.Pipe()
	go func() {
		io.WriteString(w, strings.Repeat("y", 4<<20)+"\n")
		// Standard input stays open: the server's close ends the client.
	}()
	defer w.Close()
	code = run([]string{wsURL(srv)}, stdin, io.Discard, &stderr)
	want = "closed: 1009 message too big: message longer than 3145728 bytes\nclient: the server refused a line of 4194304 bytes: its limit is 3145728 bytes\n"
	if code != 1 || !strings.HasSuffix(stderr.String(), want) {
		t.Errorf("a line too big for the server: exit %d, %q; want 1 and %q", code, stderr.String(), want)
	}
}
