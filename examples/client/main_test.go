package main

import (
	"bytes"
	"io"
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
	for _, args := range [][]string{nil, {"-H", "no colon", "ws://127.0.0.1:1/"}, {"ws://a/", "ws://b/"}} {
		var stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), io.Discard, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"http://127.0.0.1:1/"}, strings.NewReader(""), io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "scheme") {
		t.Errorf("run(http://…) = %d, %q; want 1 and the error", code, stderr.String())
	}
}
