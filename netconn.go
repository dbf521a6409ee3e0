package websocket

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"time"
)

// NetConn returns a net.Conn that carries a byte stream over ws in binary
// messages, for protocols written against net.Conn (net/http, TLS, SSH,
// anything that takes an io.ReadWriter) that must cross a path where only
// WebSocket passes. Both ends of the stream are meant to be NetConns, or
// peers that send and accept binary messages with no meaning in their
// boundaries.
//
// Read returns the bytes of the binary messages in order, spanning message
// boundaries: a message longer than the buffer is kept and its rest
// returned by the next Reads. A text message is not part of a byte
// stream: the connection is closed with 1003 (unsupported data) and Read
// fails. Once the peer has closed with 1000, Read returns the bytes that
// came before the close and then io.EOF; any other close is an error.
//
// Write sends p as one binary message, or as several in order when p is
// longer than the Conn's MaxMessageSize: the peer is taken to accept what
// this side accepts, as a NetConn made with the same Options does. Writes
// are safe from many goroutines; the messages of one Write are never
// interleaved with another's.
//
// Deadlines work as with a TCP connection: SetReadDeadline and
// SetWriteDeadline apply to the calls under way and those to come, and
// may be moved at any time; a call that runs into its deadline fails with
// an error for which errors.Is(err, os.ErrDeadlineExceeded) holds and
// that is a net.Error whose Timeout is true. A read that times out leaves
// the connection as it was: the next Read, after the deadline has been
// moved, returns the next bytes. A write that times out before its
// message has begun to go out leaves the connection as it was too; one
// that times out while a message is being written fails the connection
// (as SendContext does: a frame half written cannot be taken back), and
// every later Read and Write fails. The net.Conn contract allows this:
// after a write timeout the state of the connection is undefined. The
// Conn's own bounds still apply under the deadlines: WriteTimeout fails
// the connection when a frame's write stalls that long, whatever the write
// deadline, and StallTimeout and keepalive drop a peer that stops sending
// in the middle of a frame or stops answering pings.
//
// Close does the closing handshake with 1000, bounded by CloseTimeout,
// and ends the Reads and Writes under way at once, as closing a TCP
// connection does (a Write it cuts in the middle of a frame fails the
// connection, and no closing handshake follows); later calls return an
// error that wraps net.ErrClosed. LocalAddr and RemoteAddr are ws's.
//
// The NetConn takes over reading ws: the application must not also Wait,
// Read or range over Messages on it.
func NetConn(ws *Conn) net.Conn {
	a := &netConn{
		ws:     ws,
		closed: make(chan struct{}),
		rmu:    make(chan struct{}, 1),
		wmu:    make(chan struct{}, 1),
	}
	a.rd.init()
	a.wd.init()
	return a
}

// netConn is the net.Conn that NetConn returns.
type netConn struct {
	ws *Conn

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	// rmu and wmu are locks held by one Read and one Write at a time:
	// channels, so that a call waiting for one gives up when its
	// deadline passes or the connection is closed.
	rmu chan struct{}
	wmu chan struct{}

	// Guarded by rmu.
	msg  Message // the message being read, recycled once read whole
	rest []byte  // its bytes not read yet
	rerr error   // the error every later Read returns

	rd, wd deadline
}

func (a *netConn) Read(p []byte) (int, error) {
	ctx := a.rd.context()
	if err := a.lock(a.rmu, ctx, "read"); err != nil {
		return 0, err
	}
	defer func() { <-a.rmu }()
	if err := a.check(ctx, "read"); err != nil {
		return 0, err
	}
	if a.rerr != nil {
		return 0, a.rerr
	}
	if len(p) == 0 {
		return 0, nil
	}
	for len(a.rest) == 0 {
		m, err := a.ws.WaitContext(ctx)
		if err != nil {
			return 0, a.readError(ctx, err)
		}
		if m.Type != MessageBinary {
			a.rerr = a.opError("read", errTextInStream)
			a.ws.CloseWith(CloseUnsupportedData, "text message in a byte stream")
			return 0, a.rerr
		}
		if len(m.Data) == 0 { // nothing to return, and Read should not return 0, nil
			a.ws.Recycle(m)
			continue
		}
		a.msg, a.rest = m, m.Data
	}
	n := copy(p, a.rest)
	a.rest = a.rest[n:]
	if len(a.rest) == 0 {
		a.ws.Recycle(a.msg)
		a.msg, a.rest = Message{}, nil
	}
	return n, nil
}

// errTextInStream is Read's error for a text message.
var errTextInStream = errors.New("websocket: text message received on a NetConn, which carries binary messages only")

// readError turns the error of a WaitContext with ctx into Read's.
func (a *netConn) readError(ctx context.Context, err error) error {
	if ctx.Err() != nil && err == ctx.Err() {
		return a.check(ctx, "read") // closed, or the deadline
	}
	if a.isClosed() {
		return a.opError("read", net.ErrClosed)
	}
	if CloseStatus(err) == CloseNormalClosure {
		a.rerr = io.EOF
		return io.EOF
	}
	a.rerr = a.opError("read", err)
	return a.rerr
}

func (a *netConn) Write(p []byte) (int, error) {
	ctx := a.wd.context()
	if err := a.lock(a.wmu, ctx, "write"); err != nil {
		return 0, err
	}
	defer func() { <-a.wmu }()
	if err := a.check(ctx, "write"); err != nil {
		return 0, err
	}
	limit := int(min(a.ws.opts.MaxMessageSize, math.MaxInt))
	n := 0
	for n < len(p) {
		k := min(len(p)-n, limit)
		if err := a.ws.SendContext(ctx, Message{Type: MessageBinary, Data: p[n : n+k]}); err != nil {
			return n, a.writeError(ctx, err)
		}
		n += k
	}
	return n, nil
}

// writeError turns the error of a SendContext with ctx into Write's.
func (a *netConn) writeError(ctx context.Context, err error) error {
	if a.isClosed() {
		return a.opError("write", net.ErrClosed)
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if err == ctx.Err() { // nothing was written: the connection is as it was
			return a.opError("write", os.ErrDeadlineExceeded)
		}
		// Cut mid-frame: the connection is failed.
		return a.opError("write", errWriteCut)
	}
	return a.opError("write", err)
}

// lock takes l, giving up when ctx is done or the connection is closed.
func (a *netConn) lock(l chan struct{}, ctx context.Context, op string) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
	case <-a.closed:
	}
	return a.check(ctx, op)
}

// check returns the error of a call made once the connection is closed or
// its deadline has passed, and nil while neither is the case. Closed wins:
// Close also ends the deadlines' contexts.
func (a *netConn) check(ctx context.Context, op string) error {
	if a.isClosed() {
		return a.opError(op, net.ErrClosed)
	}
	if ctx.Err() != nil {
		return a.opError(op, os.ErrDeadlineExceeded)
	}
	return nil
}

func (a *netConn) isClosed() bool {
	select {
	case <-a.closed:
		return true
	default:
		return false
	}
}

// opError wraps err as the net package's connections do, so that callers
// that look for a *net.OpError find one.
func (a *netConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "websocket", Source: a.LocalAddr(), Addr: a.RemoteAddr(), Err: err}
}

// Close does the closing handshake with 1000 and ends the Reads and Writes
// under way. It returns nil when the connection had already ended
// otherwise (the peer closed it, or it failed: the Reads and Writes have
// said so); later calls return an error wrapping net.ErrClosed.
func (a *netConn) Close() error {
	err := a.opError("close", net.ErrClosed)
	a.closeOnce.Do(func() {
		close(a.closed)
		a.rd.end()
		a.wd.end()
		// Wait for the Write under way, which ending its deadline cuts:
		// the closing handshake would otherwise move the socket's write
		// deadline forward, under it, and wait for it.
		a.wmu <- struct{}{} // never given back: later Writes see closed
		err = a.ws.Close()
		if errors.Is(err, ErrClosed) {
			err = nil
		} else if err != nil {
			err = a.opError("close", err)
		}
	})
	return err
}

func (a *netConn) LocalAddr() net.Addr  { return a.ws.LocalAddr() }
func (a *netConn) RemoteAddr() net.Addr { return a.ws.RemoteAddr() }

func (a *netConn) SetDeadline(t time.Time) error {
	a.rd.set(t)
	a.wd.set(t)
	return nil
}

func (a *netConn) SetReadDeadline(t time.Time) error  { a.rd.set(t); return nil }
func (a *netConn) SetWriteDeadline(t time.Time) error { a.wd.set(t); return nil }

// errWriteCut is a Write whose deadline passed in the middle of a frame,
// which failed the connection. It is a timeout, for net.Error callers and
// for errors.Is(err, os.ErrDeadlineExceeded), that says what it cost.
var errWriteCut error = writeCutError{}

type writeCutError struct{}

func (writeCutError) Error() string {
	return "websocket: write deadline passed in the middle of a frame; connection failed"
}
func (writeCutError) Unwrap() error   { return os.ErrDeadlineExceeded }
func (writeCutError) Timeout() bool   { return true }
func (writeCutError) Temporary() bool { return true }

// deadline is one direction's deadline as a context that is cancelled
// when the deadline passes: a call takes the current context when it
// starts and waits on it (WaitContext, SendContext). Moving a deadline
// that has not passed keeps the context, so the calls under way see the
// new time; moving one that has passed to the future starts a new
// context for the calls to come. A context.WithCancel, not a custom
// Context, so that SendContext's context.AfterFunc costs no goroutine.
type deadline struct {
	mu     sync.Mutex
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
	gen    uint64 // counts set calls: a timer that fires late for an old one does nothing
	ended  bool   // Close ended it: it stays passed
}

func (d *deadline) init() {
	d.ctx, d.cancel = context.WithCancel(context.Background())
}

// context returns the context of the calls that start now.
func (d *deadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

// set moves the deadline to t; the zero t means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended {
		return
	}
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	wait := time.Until(t)
	if d.ctx.Err() != nil && (t.IsZero() || wait > 0) {
		d.init()
	}
	switch {
	case t.IsZero():
	case wait <= 0:
		d.cancel()
	default:
		gen, cancel := d.gen, d.cancel
		d.timer = time.AfterFunc(wait, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.gen == gen {
				cancel()
			}
		})
	}
}

// end passes the deadline for good: the connection is closed.
func (d *deadline) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ended = true
	d.gen++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.cancel()
}
