package websocket

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// writeFrameLocked writes one whole frame; c.wmu is held. Small frames go
// out in one write from a pooled buffer; large unmasked ones in one writev
// of header and payload; large masked ones are masked into the buffer piece
// by piece, so the caller's bytes are never changed.
func writeFrameLocked[P []byte | string](c *Conn, op opcode, p P, rsv byte) error {
	return writeFragmentLocked(c, op, p, rsv, true)
}

// writeFragmentLocked is writeFrameLocked for a frame that may not be its
// message's last (fin false), as a streamed message sends them.
func writeFragmentLocked[P []byte | string](c *Conn, op opcode, p P, rsv byte, fin bool) error {
	h := header{fin: fin, rsv: rsv, op: op, length: int64(len(p))}
	if c.client {
		h.masked = true
		h.key = maskKeys.next()
	}
	// A frame that does not fit the write buffer is copied, and masked,
	// through a larger one, so that it takes few system calls.
	size := c.opts.WriteBufferSize
	if len(p) > size && c.client || !isBytes(p) {
		size = writeSizeClass(size, len(p))
	}
	pool := bufferPool(size + maxHeaderLen)
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	buf := appendHeader((*bp)[:0], h)
	hlen := len(buf)
	if len(p) <= cap(buf)-hlen {
		buf = append(buf, p...)
		if c.client {
			maskBytes(buf[hlen:], h.key, 0)
		}
		return c.wrote(c.writeSocket(buf))
	}
	if b, ok := any(p).([]byte); ok && !c.client {
		// WriteTo consumes the slice it is called on: rebuild it from
		// c.vec each time, and let go of the caller's bytes after.
		c.vec = [2][]byte{buf, b}
		c.wbufs = c.vec[:]
		err := c.writeBuffers(&c.wbufs)
		c.vec = [2][]byte{}
		return c.wrote(err)
	}
	pos := 0
	for off := 0; off < len(p); {
		n := copy(buf[len(buf):cap(buf)], p[off:])
		if c.client {
			pos = maskBytes(buf[len(buf):len(buf)+n], h.key, pos)
		}
		buf = buf[:len(buf)+n]
		if err := c.writeSocket(buf); err != nil {
			return c.wrote(err)
		}
		off += n
		buf = buf[:0]
	}
	return nil
}

// largeWriteSize is the buffer a large masked frame is written through,
// borrowed from a pool for the write only: 256 KiB, so a 1 MiB message takes
// 4 writes. Echoing 1 MiB over loopback measured ~1.3 ms with 64 KiB and
// ~0.95 ms with 256 KiB (BenchmarkEcho in bench/).
const largeWriteSize = 256 << 10

// writeSizeClass returns the size of the buffer a frame of n bytes is
// written through: the write buffer size, doubled until it holds n or
// reaches largeWriteSize. A few classes, so that frames of many lengths
// share a few pools.
func writeSizeClass(size, n int) int {
	for size < n && size < largeWriteSize {
		size *= 2
	}
	return size
}

// isBytes reports whether p is a []byte, which the writev path can send
// without a copy.
func isBytes[P []byte | string](p P) bool {
	_, ok := any(p).([]byte)
	return ok
}

// wrote makes a write error sticky: the connection cannot recover from a
// partial frame, so it is dropped. c.wmu is held.
func (c *Conn) wrote(err error) error {
	if err != nil {
		if isTimeout(err) && !c.closeSent {
			reason := "a write did not finish within " + c.opts.WriteTimeout.String()
			if c.ctxCut.Load() {
				reason = "a send's context ended while its frame was being written"
			}
			c.cause.CompareAndSwap(nil, &reason)
		}
		c.markClosing()
		c.nc.Close()
	}
	return err
}

// writeFrame writes one frame, unless the connection is closing. A control
// frame goes between the fragments of a streamed message; a data frame
// waits for it to end.
func writeFrame[P []byte | string](c *Conn, op opcode, p P) error {
	lock := c.lockWriter
	if op.isControl() {
		lock = c.lockControl
	}
	if err := lock(); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return writeFrameLocked(c, op, p, 0)
}

// writeMessage writes one data message, compressed when negotiated,
// unless the connection is closing.
func writeMessage[P []byte | string](c *Conn, op opcode, p P) error {
	if err := c.lockWriter(); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return writeMessageLocked(c, op, p)
}

// lockWriter locks c.wmu for a data message and writes the pongs owed
// first. While a streamed message is being sent (SendStream), it waits for
// that message to end: RFC 6455 §5.4 lets no other data frame go between
// its fragments. It fails, with c.wmu unlocked, once the connection is
// closing.
func (c *Conn) lockWriter() error {
	c.wmu.Lock()
	if c.sending != nil {
		c.wmu.Unlock()
		return c.lockWriterContext(context.Background())
	}
	return c.readyToWrite()
}

// lockControl locks c.wmu for a control frame (a ping), which may go
// between the fragments of a streamed message, and writes the pongs owed
// first. It fails, with c.wmu unlocked, once the connection is closing.
func (c *Conn) lockControl() error {
	c.wmu.Lock()
	return c.readyToWrite()
}

// readyToWrite writes the pongs owed, with c.wmu held, and fails, unlocking
// c.wmu, once the connection is closing.
func (c *Conn) readyToWrite() error {
	err := ErrClosed
	if !c.closeSent {
		err = nil
		if c.pongPending.Load() {
			err = c.flushPongs()
		}
	}
	if err != nil {
		c.wmu.Unlock()
	}
	return err
}

// Send sends p as one binary message. p is not changed, and may be reused
// once Send returns.
func (c *Conn) Send(p []byte) error { return writeMessage(c, opBinary, p) }

// SendText sends s as one text message. s must be valid UTF-8 (RFC 6455
// §5.6); if it is not, nothing is sent and an error is returned.
func (c *Conn) SendText(s string) error {
	if !utf8.ValidString(s) {
		return errInvalidUTF8
	}
	return writeMessage(c, opText, s)
}

// SendMessage sends m with its type, as an echo would.
func (c *Conn) SendMessage(m Message) error {
	op, err := dataOpcode(m)
	if err != nil {
		return err
	}
	return writeMessage(c, op, m.Data)
}

// dataOpcode returns the opcode m is sent with, or why it cannot be sent.
func dataOpcode(m Message) (opcode, error) {
	switch m.Type {
	case MessageText:
		if !utf8.Valid(m.Data) {
			return 0, errInvalidUTF8
		}
		return opText, nil
	case MessageBinary:
		return opBinary, nil
	}
	return 0, errors.New("websocket: unknown message type " + m.Type.String())
}

// SendContext sends m as SendMessage does, bounded by ctx as well as by
// WriteTimeout. If ctx is done before m's frame has begun to go out, for
// instance while other sends hold the connection, SendContext returns
// ctx.Err() and the connection is untouched. If ctx is done while the
// frame is being written, the connection is failed, as a frame half
// written cannot be taken back, and the error wraps ctx.Err().
func (c *Conn) SendContext(ctx context.Context, m Message) error {
	op, err := dataOpcode(m)
	if err != nil {
		return err
	}
	if ctx.Done() == nil {
		return writeMessage(c, op, m.Data)
	}
	if err := c.lockWriterContext(ctx); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return c.writeWithin(ctx, func() error { return writeMessageLocked(c, op, m.Data) })
}

// writeWithin runs write, which writes with c.wmu held, and cuts it short
// if ctx is done first: the write deadline is moved into the past, so the
// write returns, and the frame half written fails the connection.
func (c *Conn) writeWithin(ctx context.Context, write func() error) error {
	if ctx.Done() == nil {
		return write()
	}
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.wdMu.Lock()
		c.ctxCut.Store(true)
		c.nc.SetWriteDeadline(time.Unix(1, 0)) // in the past: the write returns
		c.wdMu.Unlock()
		close(interrupted)
	})
	err := write()
	if !stop() {
		<-interrupted
		if err != nil {
			return fmt.Errorf("websocket: send abandoned mid-frame, connection failed: %w", ctx.Err())
		}
		// The frame went out before the cut: undo it, or the next write
		// would meet a deadline in the past.
		c.wdMu.Lock()
		c.ctxCut.Store(false)
		switch {
		case c.closeCut.Load():
			c.nc.SetWriteDeadline(time.Now().Add(c.opts.CloseTimeout))
		case c.opts.WriteTimeout > 0:
			c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout / 2))
		default:
			c.nc.SetWriteDeadline(time.Time{})
		}
		c.wdMu.Unlock()
	}
	return err
}

// lockWriterContext is lockWriter, giving up when ctx is done first, also
// while it waits for a streamed message to end.
func (c *Conn) lockWriterContext(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		if err := c.wmu.lockContext(ctx); err != nil {
			return err
		}
		stream := c.sending
		if stream == nil || c.closeSent {
			return c.readyToWrite()
		}
		c.wmu.Unlock()
		select {
		case <-stream:
		case <-c.closing: // readyToWrite then fails
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeLock is the write lock: a mutex that a writer can also wait for
// until a context ends, and whose waiters testing/synctest sees as
// blocked, so that a fake clock advances while writers queue. Uncontended,
// it costs what a sync.Mutex does.
type writeLock struct {
	mu      sync.Mutex
	waiters atomic.Int32
	free    chan struct{} // signalled on Unlock while waiters > 0
}

func newWriteLock() writeLock { return writeLock{free: make(chan struct{}, 1)} }

func (l *writeLock) TryLock() bool { return l.mu.TryLock() }

func (l *writeLock) Lock() { l.lockContext(context.Background()) }

func (l *writeLock) Unlock() {
	l.mu.Unlock()
	if l.waiters.Load() > 0 {
		signal(l.free)
	}
}

func (l *writeLock) lockContext(ctx context.Context) error {
	if l.mu.TryLock() {
		return nil
	}
	l.waiters.Add(1)
	defer l.waiters.Add(-1)
	for !l.mu.TryLock() {
		select {
		case <-l.free:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
