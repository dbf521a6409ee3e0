package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds the in-memory transports. None of them touches the
// network: Receive, Send and Broadcast measure the libraries' framing and
// buffering, not the kernel.

var fakeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

// blocker is the part of a fake net.Conn that makes Read wait: until the
// conn is closed, until a read deadline passes, or until poke is called
// because something became readable.
type blocker struct {
	mu       sync.Mutex
	closed   chan struct{}
	once     sync.Once
	deadline time.Time
	changed  chan struct{} // closed and replaced on every state change
}

func (b *blocker) init() {
	b.closed = make(chan struct{})
	b.changed = make(chan struct{})
}

// poke wakes a blocked reader so it looks at the state again.
// The caller holds b.mu.
func (b *blocker) poke() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// wait blocks until ready (called with b.mu held) reports true, the conn is
// closed or the read deadline passes. It returns with b.mu held.
func (b *blocker) wait(ready func() bool) error {
	for !ready() {
		select {
		case <-b.closed:
			return net.ErrClosed
		default:
		}
		dl, changed := b.deadline, b.changed
		var timeout <-chan time.Time
		var t *time.Timer
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return os.ErrDeadlineExceeded
			}
			t = time.NewTimer(d)
			timeout = t.C
		}
		b.mu.Unlock()
		var err error
		select {
		case <-b.closed:
			err = net.ErrClosed
		case <-changed:
		case <-timeout:
			err = os.ErrDeadlineExceeded
		}
		if t != nil {
			t.Stop()
		}
		b.mu.Lock()
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *blocker) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func (b *blocker) isClosed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return false
	}
}

func (b *blocker) SetDeadline(t time.Time) error { return b.SetReadDeadline(t) }

func (b *blocker) SetReadDeadline(t time.Time) error {
	b.mu.Lock()
	b.deadline = t
	b.poke()
	b.mu.Unlock()
	return nil
}

func (b *blocker) SetWriteDeadline(time.Time) error { return nil }
func (b *blocker) LocalAddr() net.Addr              { return fakeAddr }
func (b *blocker) RemoteAddr() net.Addr             { return fakeAddr }

// streamConn serves a pre-encoded byte pattern, repeated, for exactly
// limit bytes, from the moment start is called; before that and after the
// limit, Read blocks until Close. (The gate keeps a library that reads in
// a background goroutine from reading ahead before the timer starts.)
// Writes are discarded. Only one goroutine may Read at a time, which every
// library guarantees.
type streamConn struct {
	blocker
	pat     []byte
	off     int
	left    int64
	started bool // guarded by mu
	open    bool // only touched by the reader
}

// start lets reads begin.
func (c *streamConn) start() {
	c.mu.Lock()
	c.started = true
	c.poke()
	c.mu.Unlock()
}

func newStreamConn(pat []byte, limit int64) *streamConn {
	c := &streamConn{pat: pat, left: limit}
	c.init()
	return c
}

func (c *streamConn) Read(p []byte) (int, error) {
	if !c.open {
		c.mu.Lock()
		err := c.wait(func() bool { return c.started })
		c.mu.Unlock()
		if err != nil {
			return 0, err
		}
		c.open = true
	}
	if c.left == 0 {
		c.mu.Lock()
		err := c.wait(func() bool { return false })
		c.mu.Unlock()
		return 0, err
	}
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	n := 0
	for n < len(p) && c.left > 0 {
		end := len(p)
		if int64(end-n) > c.left {
			end = n + int(c.left)
		}
		k := copy(p[n:end], c.pat[c.off:])
		c.off += k
		if c.off == len(c.pat) {
			c.off = 0
		}
		n += k
		c.left -= int64(k)
	}
	return n, nil
}

func (c *streamConn) Write(p []byte) (int, error) {
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

// sink counts the bytes written to any number of sinkConns and lets a
// benchmark wait until a byte count is reached. Libraries that write from a
// background goroutine (gws's write queue, possibly zerows) are then timed
// until their bytes are really out, the same as the synchronous ones.
type sink struct {
	n     atomic.Int64
	armed atomic.Bool
	mu    sync.Mutex
	want  int64
	ch    chan struct{}
}

func (s *sink) add(k int) {
	s.n.Add(int64(k))
	if s.armed.Load() {
		s.mu.Lock()
		if s.ch != nil && s.n.Load() >= s.want {
			close(s.ch)
			s.ch = nil
			s.armed.Store(false)
		}
		s.mu.Unlock()
	}
}

// waitFor blocks until at least want bytes were written in total, or
// until limit passes (then it reports false).
func (s *sink) waitFor(want int64, limit time.Duration) bool {
	s.mu.Lock()
	s.armed.Store(true)
	if s.n.Load() >= want {
		s.armed.Store(false)
		s.mu.Unlock()
		return true
	}
	ch := make(chan struct{})
	s.want, s.ch = want, ch
	s.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		s.mu.Lock()
		s.ch = nil
		s.armed.Store(false)
		s.mu.Unlock()
		return s.n.Load() >= want
	}
}

// sinkConn discards what is written to it, counting it in a sink. When it
// plays the server for a client handshake (respond), it answers the first
// HTTP request written to it with a 101 response and reads block after
// that; otherwise reads block from the start.
type sinkConn struct {
	blocker
	sink    *sink
	respond bool
	req     []byte
	resp    []byte
}

func newSinkConn(s *sink, respond bool) *sinkConn {
	c := &sinkConn{sink: s, respond: respond}
	c.init()
	return c
}

func (c *sinkConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.wait(func() bool { return len(c.resp) > 0 }); err != nil {
		return 0, err
	}
	n := copy(p, c.resp)
	c.resp = c.resp[n:]
	return n, nil
}

func (c *sinkConn) Write(p []byte) (int, error) {
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	if c.respond {
		c.mu.Lock()
		if c.respond {
			c.req = append(c.req, p...)
			i := bytes.Index(c.req, []byte("\r\n\r\n"))
			if i < 0 {
				c.mu.Unlock()
				return len(p), nil
			}
			rest := len(c.req) - (i + 4)
			c.resp = switchingProtocols(requestKey(c.req[:i]))
			c.respond, c.req = false, nil
			c.poke()
			c.mu.Unlock()
			c.sink.add(rest)
			return len(p), nil
		}
		c.mu.Unlock()
	}
	c.sink.add(len(p))
	return len(p), nil
}

// requestKey returns the Sec-WebSocket-Key of a raw request head.
func requestKey(head []byte) string {
	for _, line := range strings.Split(string(head), "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Key") {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// acceptKey computes Sec-WebSocket-Accept (RFC 6455 section 4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

func switchingProtocols(key string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n")
}

// sampleKey is the nonce from RFC 6455 section 1.3.
const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// upgradeRequest is what net/http would hand a handler for a client's
// upgrade request.
func upgradeRequest() *http.Request {
	r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/ws", nil)
	if err != nil {
		panic(err)
	}
	r.RemoteAddr = "127.0.0.1:1"
	r.RequestURI = "/ws"
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Key", sampleKey)
	r.Header.Set("Sec-WebSocket-Version", "13")
	return r
}

// hijackWriter is an http.ResponseWriter whose Hijack hands out a given
// conn with 4 KiB buffers, as net/http's server does.
type hijackWriter struct {
	conn   net.Conn
	header http.Header
	wrote  bool
}

func newHijackWriter(c net.Conn) *hijackWriter {
	return &hijackWriter{conn: c, header: http.Header{}}
}

func (w *hijackWriter) Header() http.Header { return w.header }

func (w *hijackWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	_ = w.header.Write(&b)
	b.WriteString("\r\n")
	_, _ = w.conn.Write(b.Bytes())
}

func (w *hijackWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.conn.Write(p)
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 4096), bufio.NewWriterSize(w.conn, 4096)), nil
}

// acceptOn runs a library's server handshake over c.
func acceptOn(p peer, c net.Conn) (endpoint, error) {
	return p.server(newHijackWriter(c), upgradeRequest())
}

// dialFunc is the shape every library's client takes for its dialer.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// fakeDial returns a dialFunc that hands out c whatever the address.
func fakeDial(c net.Conn) dialFunc {
	return func(context.Context, string, string) (net.Conn, error) { return c, nil }
}

// loopbackDial dials TCP and refuses anything but 127.0.0.1. It closes
// with SO_LINGER 0 so that many short connections leave no TIME_WAIT
// sockets behind to exhaust the ephemeral ports.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host != "127.0.0.1" {
		return nil, errors.New("bench: refusing to dial " + addr + ": loopback only")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).SetLinger(0)
	return c, nil
}
