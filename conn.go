package websocket

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Conn is one WebSocket connection, server or client side. A goroutine
// owned by the Conn reads the socket: it answers pings, takes part in the
// closing handshake, and parks whole messages in a bounded mailbox, from
// which Wait, WaitContext, Read and Messages take them.
//
// Every method of Conn is safe for concurrent use: any number of goroutines
// may send, wait, read, ping and close at once. Each message is written
// whole, never interleaved with another.
//
// The reader starts with the first call of a Conn method (or the first
// keepalive ping). Once the application has looked for messages (Wait,
// Read, CountMessages, HasMessages, Messages), the end of the connection,
// by the peer's close frame or a violation of the protocol, waits until the
// application has taken the messages that came before it and looked for
// another, at most CloseTimeout: it can answer them, as it could with a
// library that reads only when asked.
type Conn struct {
	nc          net.Conn
	rb          *readBuffer
	client      bool
	opts        *Options
	subprotocol string
	req         *http.Request

	mb mailbox

	wmu       sync.Mutex    // guards the fields below and every write to nc
	wbufs     net.Buffers   // header and payload for one writev
	vec       [2][]byte     // wbufs' backing array
	closeSent bool          // a close frame was sent (or writing failed): only close may follow
	closing   chan struct{} // closed when closeSent becomes true

	ctrl [maxControlPayload]byte // control frame payloads, reader only

	pingMu sync.Mutex
	pings  map[[8]byte]chan struct{}
	pingID uint64

	pongMu        sync.Mutex
	pongs         [][]byte    // payloads of pings not answered yet
	pongScheduled bool        // a goroutine will write them
	pongPending   atomic.Bool // len(pongs) > 0, read without pongMu

	keepalive *time.Timer // nil without keepalive
	pongSeen  atomic.Bool
	kaWaiting bool // a keepalive ping is out; touched by the timer func only

	startOnce sync.Once
	cause     atomic.Pointer[string] // why this side dropped the connection, if it did
	err       atomic.Pointer[CloseError]
	done      chan struct{}
}

// newConn makes a connection on nc, whose handshake is complete. pending
// holds bytes already read from nc past the handshake. o must come from
// withDefaults.
func newConn(nc net.Conn, pending []byte, client bool, o *Options, subprotocol string, req *http.Request) *Conn {
	c := &Conn{
		nc:          nc,
		rb:          newReadBuffer(nc, o.ReadBufferSize, pending),
		client:      client,
		opts:        o,
		subprotocol: subprotocol,
		req:         req,
		closing:     make(chan struct{}),
		done:        make(chan struct{}),
	}
	c.mb.init(o.MailboxMessages, o.MailboxBytes)
	if o.PingInterval > 0 {
		c.keepalive = time.AfterFunc(o.PingInterval, c.keepaliveTick)
	}
	return c
}

// start starts the reader goroutine, on the first call of a method. Until
// then the application has not said whether it reads messages; once it
// has, a connection that ends lets it answer what came before the end (see
// awaitConsumer).
func (c *Conn) start() {
	c.startOnce.Do(func() { go c.run() })
}

// run is the reader goroutine: it reads until the connection ends, then
// finishes the closing handshake and releases everything.
func (c *Conn) run() {
	err := c.readMessages()
	var ce *CloseError
	var pe *protocolError
	switch {
	case errors.As(err, &ce): // the peer's close frame
		c.awaitConsumer()
		c.sendClose(ce.Code, ce.Reason) // the reply, if we had not sent ours
		if c.client {
			// RFC 6455 §7.1.1: the server closes TCP first.
			c.drain(false)
		}
	case errors.As(err, &pe): // the peer broke the protocol
		ce = &CloseError{Code: pe.code, Reason: pe.msg}
		c.awaitConsumer()
		c.sendClose(pe.code, pe.msg)
		c.drain(true)
	default:
		ce = &CloseError{Code: CloseAbnormalClosure, Reason: c.dropReason(err)}
	}
	c.finish(ce)
}

// dropReason describes a connection that ended without a closing handshake.
func (c *Conn) dropReason(err error) string {
	if s := c.cause.Load(); s != nil {
		return *s
	}
	var ne net.Error
	if c.isClosing() && errors.As(err, &ne) && ne.Timeout() {
		return "no close frame from the peer within " + c.opts.CloseTimeout.String()
	}
	if errors.Is(err, io.EOF) {
		return "connection closed without a close frame"
	}
	return err.Error()
}

// awaitConsumer gives the application the chance to answer the messages
// queued before the connection ends, as it would with a library that reads
// only when asked: the closing frame waits until the application has taken
// every message and looked for another, unless this side is closing
// already, and at most CloseTimeout.
func (c *Conn) awaitConsumer() {
	c.mb.awaitConsumer(c.opts.CloseTimeout, c.closing)
}

// drain reads until the peer closes its side, bounded by CloseTimeout, so
// that the close frame sent is not lost to a TCP reset. With halfClose, it
// first shuts down this side's writing, telling the peer at once that
// nothing more will come.
func (c *Conn) drain(halfClose bool) {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && halfClose {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(c.opts.CloseTimeout))
	io.Copy(io.Discard, c.rb)
}

func (c *Conn) finish(ce *CloseError) {
	c.err.Store(ce)
	c.nc.Close() // also unblocks a writer stuck on a dead peer
	c.wmu.Lock()
	c.markClosing()
	c.wmu.Unlock()
	if c.keepalive != nil {
		c.keepalive.Stop()
	}
	c.mb.close()
	close(c.done)
}

func (c *Conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// markClosing records that no frame but close may be written. c.wmu is held.
func (c *Conn) markClosing() {
	if !c.closeSent {
		c.closeSent = true
		close(c.closing)
	}
}

// readMessages reads frames and queues whole messages until the connection
// ends. It returns the peer's close frame as a *CloseError, a violation as
// a *protocolError, or the I/O error that ended the connection.
func (c *Conn) readMessages() error {
	var (
		typ  MessageType
		msg  []byte
		open bool // a fragmented message is open
		text utf8Validator
	)
	state := readState{server: !c.client}
	for {
		h, err := c.readHeader()
		if err != nil {
			return err
		}
		state.inMessage = open
		if err := checkHeader(h, state); err != nil {
			return err
		}
		if h.op.isControl() {
			if err := c.readControl(h); err != nil {
				return err
			}
			continue
		}
		if h.op != opContinuation {
			typ, open, msg = MessageBinary, true, nil
			if h.op == opText {
				typ = MessageText
				text.reset()
			}
		}
		// Checked before anything is allocated, without overflow.
		if h.length > c.opts.MaxMessageSize-int64(len(msg)) {
			return failWith(CloseMessageTooBig, "message longer than "+strconv.FormatInt(c.opts.MaxMessageSize, 10)+" bytes")
		}
		n := len(msg)
		if msg == nil && h.fin {
			msg = make([]byte, h.length)
		} else {
			msg = slices.Grow(msg, int(h.length))[:n+int(h.length)]
		}
		if err := c.readPayload(msg[n:], h.key, typ == MessageText, &text); err != nil {
			return err
		}
		if h.fin {
			if typ == MessageText && !text.complete() {
				return failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			}
			c.mb.put(Message{Type: typ, Data: msg}, c.closing)
			open, msg = false, nil
		}
	}
}

// readHeader reads one frame header.
func (c *Conn) readHeader() (header, error) {
	b, err := c.rb.peek(2)
	if err != nil {
		return header{}, err
	}
	n := headerLen(b[1])
	if b, err = c.rb.peek(n); err != nil {
		return header{}, unexpectedEOF(err)
	}
	h, _, err := parseHeader(b)
	c.rb.discard(int64(n))
	return h, err
}

// readPayload fills p, unmasking it and, for text, checking each piece as it
// arrives so that invalid UTF-8 fails the connection before the rest of a
// long frame is read.
func (c *Conn) readPayload(p []byte, key [4]byte, isText bool, text *utf8Validator) error {
	pos := 0
	for len(p) > 0 {
		n, err := c.rb.Read(p)
		if n > 0 {
			if !c.client {
				pos = maskBytes(p[:n], key, pos)
			}
			if isText && !text.write(p[:n]) {
				return failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			}
			p = p[n:]
		}
		if err != nil && len(p) > 0 {
			return unexpectedEOF(err)
		}
	}
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readControl reads a control frame's payload and acts on it.
func (c *Conn) readControl(h header) error {
	p := c.ctrl[:h.length]
	if _, err := io.ReadFull(c.rb, p); err != nil {
		return unexpectedEOF(err)
	}
	if !c.client {
		maskBytes(p, h.key, 0)
	}
	switch h.op {
	case opPing:
		c.queuePong(p)
		return nil
	case opPong:
		c.pongSeen.Store(true)
		c.pongArrived(p)
		return nil
	default: // opClose
		code, reason, err := parseClosePayload(p)
		if err != nil {
			return err
		}
		return &CloseError{Code: code, Reason: reason}
	}
}

// writeFrameLocked writes one whole frame; c.wmu is held. Small frames go
// out in one write from a pooled buffer; large unmasked ones in one writev
// of header and payload; large masked ones are masked into the buffer piece
// by piece, so the caller's bytes are never changed.
func writeFrameLocked[P []byte | string](c *Conn, op opcode, p P) error {
	h := header{fin: true, op: op, length: int64(len(p))}
	if c.client {
		h.masked = true
		h.key = maskKeys.next()
	}
	pool := bufferPool(c.opts.WriteBufferSize + maxHeaderLen)
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	buf := appendHeader((*bp)[:0], h)
	hlen := len(buf)
	if len(p) <= cap(buf)-hlen {
		buf = append(buf, p...)
		if c.client {
			maskBytes(buf[hlen:], h.key, 0)
		}
		_, err := c.nc.Write(buf)
		return c.wrote(err)
	}
	if b, ok := any(p).([]byte); ok && !c.client {
		// WriteTo consumes the slice it is called on: rebuild it from
		// c.vec each time, and let go of the caller's bytes after.
		c.vec = [2][]byte{buf, b}
		c.wbufs = c.vec[:]
		_, err := c.wbufs.WriteTo(c.nc)
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
		if _, err := c.nc.Write(buf); err != nil {
			return c.wrote(err)
		}
		off += n
		buf = buf[:0]
	}
	return nil
}

// wrote makes a write error sticky: the connection cannot recover from a
// partial frame, so it is dropped. c.wmu is held.
func (c *Conn) wrote(err error) error {
	if err != nil {
		c.markClosing()
		c.nc.Close()
	}
	return err
}

// writeFrame writes one frame, unless the connection is closing.
func writeFrame[P []byte | string](c *Conn, op opcode, p P) error {
	if err := c.lockWriter(); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return writeFrameLocked(c, op, p)
}

// lockWriter locks c.wmu for a data or ping frame and writes the pongs
// owed first. It fails, with c.wmu unlocked, once the connection is
// closing.
func (c *Conn) lockWriter() error {
	c.start()
	c.wmu.Lock()
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
func (c *Conn) Send(p []byte) error { return writeFrame(c, opBinary, p) }

// SendText sends s as one text message. s must be valid UTF-8 (RFC 6455
// §5.6); if it is not, nothing is sent and an error is returned.
func (c *Conn) SendText(s string) error {
	if !utf8.ValidString(s) {
		return errInvalidUTF8
	}
	return writeFrame(c, opText, s)
}

// SendMessage sends m with its type, as an echo would.
func (c *Conn) SendMessage(m Message) error {
	switch m.Type {
	case MessageText:
		if !utf8.Valid(m.Data) {
			return errInvalidUTF8
		}
		return writeFrame(c, opText, m.Data)
	case MessageBinary:
		return writeFrame(c, opBinary, m.Data)
	}
	return errors.New("websocket: unknown message type " + m.Type.String())
}

// Close closes the connection normally: CloseWith(CloseNormalClosure, "").
func (c *Conn) Close() error { return c.CloseWith(CloseNormalClosure, "") }

// CloseWith starts the closing handshake (RFC 6455 §7) with code and
// reason, and returns once the connection is closed: when the peer has
// answered, or after CloseTimeout (5 s by default) when it has not. Messages
// already queued can still be taken, and so can those that arrive before
// the peer's answer, as far as the mailbox has room: the reader no longer
// waits for room once this side has said it is done.
//
// The code must be one that may be sent (1000-1003, 1007-1014, 3000-4999)
// and the reason at most 123 bytes of UTF-8; otherwise nothing is sent and
// an error is returned. If the connection is already closing, CloseWith
// waits for it to close and returns ErrClosed.
func (c *Conn) CloseWith(code CloseCode, reason string) error {
	if err := checkCloseArgs(code, reason); err != nil {
		return err
	}
	c.start()
	sent, err := c.sendClose(code, reason)
	if sent && err == nil {
		c.nc.SetReadDeadline(time.Now().Add(c.opts.CloseTimeout))
	}
	<-c.done
	if !sent {
		return ErrClosed
	}
	return err
}

// sendClose writes a close frame unless one was sent already. Its write,
// and any write it waits behind, is bounded by CloseTimeout.
func (c *Conn) sendClose(code CloseCode, reason string) (sent bool, err error) {
	c.nc.SetWriteDeadline(time.Now().Add(c.opts.CloseTimeout))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return false, nil
	}
	c.markClosing()
	var buf [maxControlPayload]byte
	p := buf[:0]
	if code != CloseNoStatusReceived {
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
		}
		p = appendClosePayload(p, code, reason)
	}
	return true, writeFrameLocked(c, opClose, p)
}

// Ping sends a ping and waits for its pong, or for ctx to be done.
func (c *Conn) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.pingMu.Lock()
	if c.pings == nil {
		c.pings = make(map[[8]byte]chan struct{})
	}
	c.pingID++
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], c.pingID)
	pong := make(chan struct{})
	c.pings[id] = pong
	c.pingMu.Unlock()
	defer func() {
		c.pingMu.Lock()
		delete(c.pings, id)
		c.pingMu.Unlock()
	}()
	if err := writeFrame(c, opPing, id[:]); err != nil {
		return err
	}
	select {
	case <-pong:
		return nil
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxQueuedPongs bounds the pongs owed to a peer that pings faster than it
// reads; past it only the latest pings are answered, as RFC 6455 §5.5.3
// allows.
const maxQueuedPongs = 16

// queuePong arranges for a ping to be answered with a pong carrying the same
// data (RFC 6455 §5.5.2). The reader does not write the pong itself: a
// reader blocked on writing could deadlock with a peer whose reader is
// blocked on writing too. A short-lived goroutine writes it, unless a send
// comes first: every frame written after the ping was read goes out behind
// its pong.
func (c *Conn) queuePong(p []byte) {
	c.pongMu.Lock()
	if len(c.pongs) == maxQueuedPongs {
		c.pongs = append(c.pongs[:0], c.pongs[1:]...)
	}
	c.pongs = append(c.pongs, bytes.Clone(p))
	start := !c.pongScheduled
	c.pongScheduled = true
	c.pongPending.Store(true)
	c.pongMu.Unlock()
	if start {
		go c.writePongs()
	}
}

func (c *Conn) writePongs() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.pongMu.Lock()
	c.pongScheduled = false
	c.pongMu.Unlock()
	if !c.closeSent {
		c.flushPongs()
	}
}

// flushPongs writes the pongs owed. c.wmu is held.
func (c *Conn) flushPongs() error {
	c.pongMu.Lock()
	q := c.pongs
	c.pongs = nil
	c.pongPending.Store(false)
	c.pongMu.Unlock()
	for _, p := range q {
		if err := writeFrameLocked(c, opPong, p); err != nil {
			return err
		}
	}
	return nil
}

// pongArrived wakes the Ping whose payload p echoes.
func (c *Conn) pongArrived(p []byte) {
	if len(p) != 8 {
		return
	}
	c.pingMu.Lock()
	if pong, ok := c.pings[[8]byte(p)]; ok {
		close(pong)
		delete(c.pings, [8]byte(p))
	}
	c.pingMu.Unlock()
}

// keepaliveTick runs on the keepalive timer: it alternates between sending
// a ping and, PongTimeout later, checking that a pong came back.
func (c *Conn) keepaliveTick() {
	if !c.kaWaiting {
		c.pongSeen.Store(false)
		if writeFrame(c, opPing, []byte(nil)) != nil {
			return // closing or closed
		}
		c.kaWaiting = true
		c.keepalive.Reset(c.opts.PongTimeout)
		return
	}
	c.kaWaiting = false
	if !c.pongSeen.Load() {
		reason := "no pong within " + c.opts.PongTimeout.String()
		c.cause.Store(&reason)
		c.nc.Close()
		return
	}
	c.keepalive.Reset(max(c.opts.PingInterval-c.opts.PongTimeout, 0))
}

// Done returns a channel that is closed once the connection is closed and
// its resources released.
func (c *Conn) Done() <-chan struct{} {
	c.start()
	return c.done
}

// Err returns nil while the connection is open, and then the *CloseError
// that says how it ended.
func (c *Conn) Err() error {
	c.start()
	if ce := c.err.Load(); ce != nil {
		return ce
	}
	return nil
}

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Request returns the upgrade request a server connection was made from;
// nil on a client connection.
func (c *Conn) Request() *http.Request { return c.req }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns this side's network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }
