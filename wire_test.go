package websocket

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// This file holds the test side of the wire: a raw peer that writes frames
// byte by byte as the test says, legal or not, without the package's codec.

// rawFrame encodes one frame. b0 is the first byte as is (FIN, RSV, opcode);
// a non-nil key masks the payload.
func rawFrame(b0 byte, key []byte, payload []byte) []byte {
	b := []byte{b0, 0}
	if key != nil {
		b[1] = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b[1] |= byte(n)
	case n <= 0xffff:
		b[1] |= 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] |= 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, key...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		if key != nil {
			b[start+i] ^= key[i%4]
		}
	}
	return b
}

var testKey = []byte{0x12, 0x34, 0x56, 0x78}

// clientFrame is a masked frame as a client sends it.
func clientFrame(b0 byte, payload string) []byte { return rawFrame(b0, testKey, []byte(payload)) }

// rawPeer is the test's end of a connection.
type rawPeer struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func (p *rawPeer) write(frames ...[]byte) {
	p.t.Helper()
	for _, f := range frames {
		if _, err := p.nc.Write(f); err != nil {
			p.t.Fatalf("raw write: %v", err)
		}
	}
}

// readFrame reads one frame sent by the connection under test (unmasking it
// if need be) and returns its first byte and payload.
func (p *rawPeer) readFrame() (b0 byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(p.br, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(p.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(p.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var key []byte
	if hdr[1]&0x80 != 0 {
		key = make([]byte, 4)
		if _, err := io.ReadFull(p.br, key); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return 0, nil, err
	}
	for i := range payload {
		if key != nil {
			payload[i] ^= key[i%4]
		}
	}
	return hdr[0], payload, nil
}

// expectClose reads frames until a close frame, checks its code, and then
// checks that the other side closes TCP.
func (p *rawPeer) expectClose(want CloseCode) {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		b0, payload, err := p.readFrame()
		if err != nil {
			p.t.Fatalf("waiting for close %d: %v", want, err)
		}
		if b0&0x0f != 0x8 {
			continue
		}
		var got CloseCode
		if len(payload) >= 2 {
			got = CloseCode(binary.BigEndian.Uint16(payload))
		}
		if got != want {
			p.t.Fatalf("close code = %d (%q), want %d", got, payload, want)
		}
		break
	}
	if _, err := p.br.ReadByte(); err != io.EOF {
		p.t.Fatalf("after close: read %v, want EOF", err)
	}
}

// echoServer starts a Require server on 127.0.0.1 that echoes every
// message, and returns its address.
func echoServer(t testing.TB, opts *Options) string {
	srv := httptest.NewServer(Require(func(ws *Conn, r *http.Request) {
		for m := range ws.Messages() {
			if ws.SendMessage(m) != nil {
				return
			}
		}
	}, opts))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// dialRaw opens a TCP connection to addr and does the opening handshake by
// hand; extra is written right behind the request.
func dialRaw(t testing.TB, addr string, extra ...byte) *rawPeer {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake response %s %v", resp.Status, resp.Header)
	}
	return p
}

// pipe returns the two ends of a connection over net.Pipe, with no
// handshake, closed at the end of the test. Both reader goroutines are
// started, as a write on a net.Pipe waits for the other end to read, so
// tests over pipe use the mailbox; tests over tcpPair let Wait read the
// socket itself.
func pipe(t testing.TB, opts *Options) (client, server *Conn) {
	a, b := net.Pipe()
	client, server = connPair(t, a, b, opts)
	client.startReader()
	server.startReader()
	return client, server
}

// tcpPair returns the two ends of a connection over 127.0.0.1 TCP, with no
// handshake and no reader goroutine started, closed at the end of the test.
func tcpPair(t testing.TB, opts *Options) (client, server *Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		accepted <- nc
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	return connPair(t, a, b, opts)
}

// connPair makes a client Conn on a and a server Conn on b.
func connPair(t testing.TB, a, b net.Conn, opts *Options) (client, server *Conn) {
	o := opts.withDefaults()
	client = newConn(a, nil, true, o, "", nil)
	server = newConn(b, nil, false, o, "", nil)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-client.Done()
		<-server.Done()
	})
	return client, server
}

// transports runs f over net.Pipe and over TCP.
func transports(t *testing.T, opts *Options, f func(t *testing.T, client, server *Conn)) {
	for _, tr := range []struct {
		name string
		pair func(testing.TB, *Options) (*Conn, *Conn)
	}{{"pipe", pipe}, {"tcp", tcpPair}} {
		t.Run(tr.name, func(t *testing.T) {
			client, server := tr.pair(t, opts)
			f(t, client, server)
		})
	}
}

// checkNoLeaks fails if goroutines started during the test outlive it.
func checkNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sizeName(n int) string { return fmt.Sprintf("size=%d", n) }

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
