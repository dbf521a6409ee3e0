//go:build js && wasm

package websocket

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall/js"
	"time"
)

// browserSocket is the net.Conn a Conn speaks through under js/wasm: it
// turns the browser's WebSocket events into the frames a server would send,
// and the frames the Conn writes into calls of the WebSocket's send and
// close. The Conn above it is the one every platform uses, so the mailbox,
// the closing handshake, MaxMessageSize and every deadline behave as they
// do over TCP. The frames never leave the process: the browser does the
// framing on the wire, masking and compression included.
//
// Receiving. The browser has no way to be told to wait (the WebSocket API
// has no backpressure for receiving), so the event handlers, which must not
// block the JavaScript event loop, put each message in a queue the Conn
// reads. The queue holds at most MailboxMessages messages and MailboxBytes
// bytes, one message always let in, as the mailbox does: with the mailbox
// full as well, a connection holds up to twice the mailbox's bound. One
// more message past that fails the connection (Err reports
// CloseAbnormalClosure and says why) once the application has taken what
// came before: no message is dropped silently. A message longer than
// MaxMessageSize takes no room (a binary one is not even copied to Go),
// and the Conn fails the connection with 1009 on its header, as it does
// over TCP. The browser itself holds each message whole before it hands
// it over.
//
// Sending. send queues a message in the browser and returns; a write first
// waits, bounded by the write deadline (WriteTimeout), while the browser
// holds more than sendBufferLimit bytes unsent, as a write to a socket
// waits for room in its buffer.
type browserSocket struct {
	ws     js.Value
	host   string // the URL's host[:port], for RemoteAddr
	limits struct {
		messages   int
		bytes      int64
		maxMessage int64
	}
	funcs []js.Func // the event handlers, released on close

	mu       sync.Mutex
	queue    []inFrame // frames to read, oldest first
	messages int       // data messages in queue
	bytes    int64     // their payload bytes
	ended    error     // once set, Read returns it after the queue: io.EOF or errReceiveOverflow
	closed   bool      // Close has been called

	readable chan struct{} // signalled when queue or ended changes
	done     chan struct{} // closed by Close
	rdl, wdl deadline

	out outFrames // Write's state; Writes never run at once (the Conn's write lock)
}

// inFrame is one frame for the Conn to read: the header, then a payload
// that is either bytes or a string (a text message, as Go got it from
// JavaScript's string).
type inFrame struct {
	head   [maxHeaderLen]byte
	headN  int
	bin    []byte
	str    string
	off    int  // bytes of head and payload already read
	isData bool // counted in messages and bytes
}

func (f *inFrame) size() int { return f.headN + len(f.bin) + len(f.str) }

// read copies what is left of the frame to p.
func (f *inFrame) read(p []byte) int {
	n := 0
	if f.off < f.headN {
		n = copy(p, f.head[f.off:f.headN])
	}
	if n < len(p) {
		at := max(f.off+n-f.headN, 0)
		if f.bin != nil {
			n += copy(p[n:], f.bin[at:])
		} else {
			n += copy(p[n:], f.str[at:])
		}
	}
	f.off += n
	return n
}

// sendBufferLimit (1 MiB) is how many bytes the browser may hold unsent
// (WebSocket.bufferedAmount) before a write waits: about what a socket's
// send buffer holds, so a peer that stops reading holds a sender as it
// would over TCP, and the browser's memory stays under it plus one message.
const sendBufferLimit = 1 << 20

// sendPollInterval is how often a write waiting for the browser to send
// looks again: the browser announces no progress, so it is polled.
const sendPollInterval = 10 * time.Millisecond

var errReceiveOverflow = errors.New("more messages came unread than the mailbox and the browser's queue hold (each bounded by Options.MailboxMessages and MailboxBytes); " +
	"a browser's WebSocket cannot be told to wait, so the connection was dropped")

// errPingUnsupported is what Ping returns on a browser's connection: the
// WebSocket API gives a page no way to send a ping (the browser answers the
// server's pings itself).
var errPingUnsupported = errors.New("websocket: Ping: a browser's WebSocket cannot send pings (the browser answers the server's pings itself)")

func (b *browserSocket) pingUnsupported() error { return errPingUnsupported }

func newBrowserSocket(ws js.Value, host string, o *Options) *browserSocket {
	b := &browserSocket{
		ws:       ws,
		host:     host,
		readable: make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	b.limits.messages, b.limits.bytes, b.limits.maxMessage = o.MailboxMessages, o.MailboxBytes, o.MaxMessageSize
	b.rdl.init()
	b.wdl.init()
	return b
}

// onMessage is the WebSocket's message handler. It runs on the JavaScript
// event loop and must not block: it copies the message to Go and queues it.
func (b *browserSocket) onMessage(data js.Value) {
	f := inFrame{isData: true}
	var h header
	h.fin = true
	if data.Type() == js.TypeString {
		h.op = opText
		f.str = data.String()
		h.length = int64(len(f.str))
	} else { // an ArrayBuffer: binaryType is "arraybuffer"
		h.op = opBinary
		h.length = int64(data.Get("byteLength").Int())
		if h.length <= b.limits.maxMessage {
			f.bin = make([]byte, h.length)
			js.CopyBytesToGo(f.bin, js.Global().Get("Uint8Array").New(data))
		}
	}
	if h.length > b.limits.maxMessage {
		// The header alone: the Conn fails the connection with 1009 on it.
		f.bin, f.str = nil, ""
	}
	f.headN = len(appendHeader(f.head[:0], h))

	size := int64(len(f.bin) + len(f.str))
	b.mu.Lock()
	if b.ended != nil || b.closed {
		b.mu.Unlock()
		return
	}
	if b.messages > 0 && (b.messages >= b.limits.messages || b.bytes+size > b.limits.bytes) {
		b.ended = errReceiveOverflow
		b.signal()
		b.mu.Unlock()
		b.closeBrowser()
		return
	}
	b.messages++
	b.bytes += size
	b.queue = append(b.queue, f)
	b.signal()
	b.mu.Unlock()
}

// onClose is the WebSocket's close handler: the peer's close frame, as the
// browser reports it, becomes the Conn's to read, then the end of the
// stream. A connection that dropped without a clean close (the browser's
// 1006, or 1015 for TLS) ends with no close frame, as a TCP connection
// would.
func (b *browserSocket) onClose(code int, reason string, clean bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended != nil {
		return
	}
	if cc := CloseCode(code); clean && (cc.validOnWire() || cc == CloseNoStatusReceived) {
		var f inFrame
		var p []byte
		if cc != CloseNoStatusReceived {
			p = appendClosePayload(nil, cc, reason[:runeStart(reason, min(len(reason), maxCloseReason))])
		}
		f.headN = len(appendHeader(f.head[:0], header{fin: true, op: opClose, length: int64(len(p))}))
		f.bin = p
		b.queue = append(b.queue, f)
	}
	b.ended = io.EOF
	b.signal()
}

// signal wakes a Read. b.mu is held.
func (b *browserSocket) signal() {
	select {
	case b.readable <- struct{}{}:
	default:
	}
}

// Read reads the queued frames, waiting for one until the read deadline.
func (b *browserSocket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return 0, net.ErrClosed
		}
		if len(b.queue) > 0 {
			n := 0
			for n < len(p) && len(b.queue) > 0 {
				f := &b.queue[0]
				n += f.read(p[n:])
				if f.off == f.size() {
					if f.isData {
						b.messages--
						b.bytes -= int64(len(f.bin) + len(f.str))
					}
					b.queue[0] = inFrame{}
					b.queue = b.queue[1:]
				}
			}
			if len(b.queue) == 0 {
				b.queue = nil // let the backing array go
			}
			b.mu.Unlock()
			return n, nil
		}
		if b.ended != nil {
			err := b.ended
			b.mu.Unlock()
			return 0, err
		}
		b.mu.Unlock()
		deadline := b.rdl.context() // NetConn's deadline type
		if deadline.Err() != nil {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case <-b.readable:
		case <-deadline.Done(): // passed, unless moved since: look again
		case <-b.done:
		}
	}
}

// outFrames parses the frames the Conn writes, which may come in pieces.
type outFrames struct {
	head    [maxHeaderLen]byte
	headN   int
	h       header // the frame whose payload is coming
	inFrame bool   // h is parsed, its payload not all here
	left    int64  // payload bytes of h still to come
	pos     int    // masking position in h's payload
	op      opcode // the message's type, while one is open
	msg     []byte // the message's payload so far, unmasked
	ctl     []byte // a control frame's payload so far
}

// keptSendBuffer bounds the buffer kept between messages for the next one.
const keptSendBuffer = 64 << 10

// Write takes the Conn's frames: data messages go to the browser's send
// once whole, a close frame to its close.
func (b *browserSocket) Write(p []byte) (int, error) {
	if err := b.awaitSendRoom(); err != nil {
		return 0, err
	}
	o := &b.out
	n := len(p)
	for len(p) > 0 {
		if !o.inFrame {
			k := copy(o.head[o.headN:], p)
			h, used, err := parseHeader(o.head[:o.headN+k])
			if err == errShortHeader {
				o.headN += k
				p = p[k:]
				continue
			}
			if err != nil {
				return n - len(p), err
			}
			p = p[used-o.headN:]
			o.headN = 0
			o.h, o.inFrame, o.left, o.pos = h, true, h.length, 0
			if !h.op.isControl() && h.op != opContinuation {
				o.op, o.msg = h.op, o.msg[:0]
			}
			if !h.op.isControl() {
				// The length is the Conn's own: room for it at once.
				o.msg = slices.Grow(o.msg, int(h.length))
			}
			o.ctl = o.ctl[:0]
		}
		k := int(min(int64(len(p)), o.left))
		if o.h.op.isControl() {
			o.ctl = o.appendUnmasked(o.ctl, p[:k])
		} else {
			o.msg = o.appendUnmasked(o.msg, p[:k])
		}
		p = p[k:]
		o.left -= int64(k)
		if o.left == 0 {
			o.inFrame = false
			if err := b.frameWritten(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

func (o *outFrames) appendUnmasked(dst, p []byte) []byte {
	start := len(dst)
	dst = append(dst, p...)
	if o.h.masked {
		o.pos = maskBytes(dst[start:], o.h.key, o.pos)
	}
	return dst
}

// frameWritten acts on the frame b.out has just taken whole.
func (b *browserSocket) frameWritten() (err error) {
	o := &b.out
	defer recoverJS(&err)
	switch o.h.op {
	case opClose:
		code, reason, err := parseClosePayload(o.ctl)
		if err != nil {
			return err
		}
		// A page may close with 1000 or 3000-4999 only: with any other
		// code the browser closes without one, and the peer sees 1005.
		if code == CloseNormalClosure || code >= 3000 && code <= 4999 {
			b.ws.Call("close", int(code), reason)
		} else {
			b.ws.Call("close")
		}
	case opPing:
		return errPingUnsupported
	case opPong:
		// The browser answers pings itself and gives none to the Conn.
	default:
		if !o.h.fin {
			return nil
		}
		if o.op == opText {
			b.ws.Call("send", string(o.msg))
		} else {
			a := js.Global().Get("Uint8Array").New(len(o.msg))
			js.CopyBytesToJS(a, o.msg)
			b.ws.Call("send", a)
		}
		if cap(o.msg) > keptSendBuffer {
			o.msg = nil
		}
		o.msg = o.msg[:0]
	}
	return nil
}

// awaitSendRoom waits, until the write deadline, while the browser holds
// more than sendBufferLimit bytes unsent.
func (b *browserSocket) awaitSendRoom() error {
	for {
		if isClosedChan(b.done) {
			return net.ErrClosed
		}
		deadline := b.wdl.context()
		if deadline.Err() != nil {
			return os.ErrDeadlineExceeded
		}
		if b.ws.Get("bufferedAmount").Int() <= sendBufferLimit {
			return nil
		}
		t := time.NewTimer(sendPollInterval)
		select {
		case <-t.C:
		case <-b.done:
		case <-deadline.Done():
		}
		t.Stop()
	}
}

// Close ends the browser's connection, if the closing handshake has not,
// and stops the socket's handlers.
func (b *browserSocket) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return net.ErrClosed
	}
	b.closed = true
	close(b.done)
	b.queue = nil
	b.mu.Unlock()
	b.rdl.end()
	b.wdl.end()
	b.closeBrowser()
	for _, h := range []string{"onopen", "onmessage", "onerror", "onclose"} {
		b.ws.Set(h, js.Null())
	}
	for _, f := range b.funcs {
		f.Release()
	}
	return nil
}

// closeBrowser closes the browser's WebSocket unless it is closing or
// closed already, without a code: the peer sees 1005.
func (b *browserSocket) closeBrowser() {
	if rs := b.ws.Get("readyState").Int(); rs == wsConnecting || rs == wsOpen {
		b.ws.Call("close")
	}
}

// The WebSocket's readyState values.
const (
	wsConnecting = 0
	wsOpen       = 1
)

func (b *browserSocket) LocalAddr() net.Addr  { return browserAddr("browser") }
func (b *browserSocket) RemoteAddr() net.Addr { return browserAddr(b.host) }

func (b *browserSocket) SetDeadline(t time.Time) error {
	b.rdl.set(t)
	b.wdl.set(t)
	return nil
}
func (b *browserSocket) SetReadDeadline(t time.Time) error  { b.rdl.set(t); return nil }
func (b *browserSocket) SetWriteDeadline(t time.Time) error { b.wdl.set(t); return nil }

// browserAddr is a browser connection's address: the URL's host and port
// for the peer, "browser" for this side. The browser tells a page neither
// IP address.
type browserAddr string

func (a browserAddr) Network() string { return "websocket" }
func (a browserAddr) String() string  { return string(a) }

func isClosedChan(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// recoverJS turns a JavaScript exception thrown into Go, a panic with a
// js.Error, into *err.
func recoverJS(err *error) {
	switch p := recover().(type) {
	case nil:
	case js.Error:
		*err = errors.New("websocket: the browser's WebSocket threw " + strconv.Quote(p.Error()))
	default:
		panic(p)
	}
}
