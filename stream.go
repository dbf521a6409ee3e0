package websocket

import (
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// This file holds streamed messages: a message sent as it is written, in
// fragments (RFC 6455 §5.4), and a message received as it arrives, for
// messages too large to hold in memory whole. Both bypass the mailbox.

// ErrStreamUnavailable is returned by WaitStream when it cannot read the
// socket itself: the reader goroutine reads it (see Conn for the calls
// that start one), or another Wait or WaitStream is reading it at the same
// time. A streamed message is only ever taken from the socket, never from
// the mailbox, which holds whole messages.
var ErrStreamUnavailable = errors.New("websocket: a streamed read needs the socket, which another reader reads")

// errStreamClosed is returned by a message stream used after Close.
var errStreamClosed = errors.New("websocket: message stream used after Close")

// errStreamDiscarded is returned by a message stream whose message was
// discarded, by its Close or by a later read, before it had been read to
// its end.
var errStreamDiscarded = errors.New("websocket: message stream discarded before its end")

// maxStreamFragment bounds a fragment of a streamed message (256 KiB, the
// buffer a large masked frame goes through): a larger Write is sent as
// several fragments, so that a pong or close waits for one fragment at
// most, not for the whole Write.
const maxStreamFragment = largeWriteSize

// SendStream starts a message of type typ whose payload is what is written
// to the returned writer: each Write sends its bytes at once, as one or
// more fragments (at most 256 KiB each), and Close sends the last fragment,
// which ends the message. Nothing is buffered, so small writes make small
// fragments; wrap the writer in a bufio.Writer to gather them. The writer
// is not safe for concurrent use; it must be closed, as other messages wait
// for it.
//
// While the message is open it holds the connection's message slot: Send,
// SendText, SendMessage, SendContext, SendPrepared and another SendStream
// wait until Close, since no other data frame may go between its fragments
// (RFC 6455 §5.4). Messages never interleave. Control frames do: pongs,
// Ping and the close of CloseWith go out between fragments, so keepalive
// and the closing handshake are not held up by a long message.
//
// ctx bounds the wait for the slot (SendStream then returns ctx.Err() and
// nothing is sent) and every write of the message. A fragment is written
// under WriteTimeout, like any frame; if ctx ends while one is being
// written, the connection is failed, as a frame half written cannot be
// taken back. If ctx ends between writes, the next Write or Close returns
// ctx.Err(): before the first fragment the message is dropped unsent; after
// it the message cannot be finished, so the connection is closed with 1011
// (internal error) rather than let the peer take a truncated message for a
// whole one.
//
// A text message must be valid UTF-8 across the whole stream: a Write
// whose bytes cannot continue valid UTF-8 sends nothing and returns an
// error, and the stream stays usable. A character split between Writes is
// held back until it is complete; Close of a stream that ends inside a
// character ends the message without it and returns an error.
//
// A streamed message is sent uncompressed even where permessage-deflate
// was negotiated (RFC 7692 lets any message go uncompressed); with
// context takeover the compressor's window does not see it, as the peer's
// does not.
//
// Once the connection is closing, Write and Close return ErrClosed.
func (c *Conn) SendStream(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	op, err := dataOpcode(Message{Type: typ})
	if err != nil {
		return nil, err
	}
	if err := c.lockWriterContext(ctx); err != nil {
		return nil, err
	}
	c.sending = make(chan struct{})
	c.wmu.Unlock()
	return &messageWriter{c: c, ctx: ctx, op: op, text: typ == MessageText}, nil
}

// messageWriter is a message being sent by SendStream.
type messageWriter struct {
	c      *Conn
	ctx    context.Context
	op     opcode // of the next fragment: the message's, then continuation
	text   bool
	utf8   utf8Validator         // of the text written so far
	held   [utf8.UTFMax - 1]byte // the start of a character not complete yet, not sent
	nheld  int
	closed bool
	err    error // once set, the stream can send nothing more
}

func (w *messageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errStreamClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.text {
		return w.send(p)
	}
	v := w.utf8
	if !v.write(p) {
		return 0, errInvalidUTF8
	}
	w.utf8 = v
	// The last v.n bytes of held and p form an incomplete character: they
	// wait for the rest of it, so that the message can end on a
	// character boundary whatever comes next.
	keep := v.n
	if keep >= len(p) { // p only adds to the held character
		w.nheld += copy(w.held[w.nheld:], p)
		return len(p), nil
	}
	if w.nheld > 0 {
		if _, err := w.send(w.held[:w.nheld]); err != nil {
			return 0, err
		}
	}
	n, err := w.send(p[:len(p)-keep])
	if err != nil {
		return n, err
	}
	w.nheld = copy(w.held[:], p[len(p)-keep:])
	return len(p), nil
}

// send sends p as fragments of at most maxStreamFragment bytes.
func (w *messageWriter) send(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), maxStreamFragment)
		if err := w.fragment(p[:k], false); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

// Close sends the message's last fragment, and lets other messages go.
func (w *messageWriter) Close() error {
	if w.closed {
		return errStreamClosed
	}
	w.closed = true
	defer w.release()
	if w.err != nil {
		return w.err
	}
	if err := w.fragment(nil, true); err != nil {
		return err
	}
	if w.nheld > 0 {
		return fmt.Errorf("websocket: text stream ended inside a character, which was left out: %w", errInvalidUTF8)
	}
	return nil
}

// fragment writes one fragment of the message.
func (w *messageWriter) fragment(p []byte, fin bool) error {
	c, ctx := w.c, w.ctx
	if err := ctx.Err(); err != nil {
		return w.abandon(err)
	}
	if err := c.wmu.lockContext(ctx); err != nil {
		return w.abandon(err)
	}
	if err := c.readyToWrite(); err != nil { // unlocks c.wmu
		w.err = err
		return err
	}
	err := c.writeWithin(ctx, func() error { return writeFragmentLocked(c, w.op, p, 0, fin) })
	c.wmu.Unlock()
	if err != nil {
		w.err = err
		return err
	}
	w.op = opContinuation
	return nil
}

// abandon gives the message up after its context ended between writes.
// Once a fragment has gone out the peer holds an open message that can
// never end, so the connection is closed: with 1011, as this side did not
// finish what it started.
func (w *messageWriter) abandon(err error) error {
	w.err = err
	if w.op == opContinuation {
		w.c.abandonSend()
	}
	return err
}

// release frees the message slot, so that waiting sends go on.
func (w *messageWriter) release() {
	c := w.c
	c.wmu.Lock()
	close(c.sending)
	c.sending = nil
	c.wmu.Unlock()
}

// abandonSend closes the connection with 1011 after a streamed message was
// given up halfway, and has the peer's answer read.
func (c *Conn) abandonSend() {
	if sent, err := c.sendClose(CloseInternalServerErr, "message abandoned halfway"); sent && err == nil {
		c.setReadDeadline(time.Now().Add(c.opts.CloseTimeout), true)
	}
	c.startReader()
}

// WaitStream waits for the next message, as Wait does, and returns it as a
// reader that reads its payload from the socket as it arrives, without
// holding it whole: for messages larger than memory or than MaxMessageSize.
// limit bounds the message's length in bytes (after inflation, if it was
// compressed); it may exceed MaxMessageSize, and 0 or less means
// MaxMessageSize. The reader returns io.EOF at the message's end; its
// Close discards what is left unread. It is not safe for concurrent use.
//
// A streamed message comes straight from the socket, never from the
// mailbox: WaitStream reads the socket itself, as Wait does, and returns
// ErrStreamUnavailable once a reader goroutine has started (see Conn for
// the calls that start one: Read, CountMessages, WaitContext, Ping, Done,
// Err among them). Until then the mailbox is empty, so no message queued
// there is passed over.
//
// Until the message has been read to its end, it holds the socket. Reading
// it answers the pings that arrive between its fragments and takes part in
// a close. A call that takes a message (Wait, WaitContext, WaitTimeout,
// Read, Messages, WaitStream), and CloseWith, discards what is left of it
// first; the reader then returns an error. Calls that start the reader
// goroutine without taking a message (Done, Err, Ping, CountMessages, a
// keepalive pong not read in time) leave it alone: the goroutine reads
// once the message has ended. So, with keepalive on, an application that
// stops reading a stream halfway for longer than PongTimeout twice over
// reads no pong in time, and the connection is dropped.
//
// The message is checked as it is read: a text message's UTF-8 across
// fragments, failing with 1007 on the Read that meets the first bad byte
// (or at the end, for a character left incomplete), and its length, failing
// with 1009 before the fragment that would pass limit is read. A compressed
// message is inflated as it is read. StallTimeout bounds each fragment, as
// for Wait. When the message is cut short (by such a failure, the peer's
// close frame, or the connection dropping), Read returns an error for
// which both errors.Is(err, io.ErrUnexpectedEOF) and errors.As(err,
// **CloseError) hold, the latter saying how the connection ended.
func (c *Conn) WaitStream(limit int64) (MessageType, io.ReadCloser, error) {
	c.mb.markConsumer()
	if r := c.rstream.Load(); r != nil {
		r.discard()
	}
	if !c.lockReadHere() {
		return 0, nil, ErrStreamUnavailable
	}
	if c.ended() {
		c.unlockRead()
		return 0, nil, c.Err()
	}
	if limit <= 0 {
		limit = c.opts.MaxMessageSize
	}
	r := &messageReader{c: c, limit: limit, typ: MessageBinary}
	err := c.rb.await() // an idle wait with a shallow stack, as in Wait
	var h header
	if err == nil {
		h, err = c.nextDataFrame(false)
	}
	if err == nil {
		if h.op == opText {
			r.typ, r.isText = MessageText, true
		}
		if h.rsv&bitRsv1 != 0 {
			err = r.beginCompressed(h)
		} else {
			err = r.begin(h)
		}
	}
	if err != nil {
		c.end(err)
		c.unlockRead()
		return 0, nil, c.Err()
	}
	if r.fr == nil && r.fin && r.remaining == 0 { // an empty message: done
		r.err = io.EOF
		c.unlockRead()
		return r.typ, r, nil
	}
	// The socket stays locked until the message has been read.
	c.rstream.Store(r)
	return r.typ, r, nil
}

// abandonStream asks the reader goroutine to discard what is left of a
// streamed message, if one is open, before it reads on.
func (c *Conn) abandonStream() {
	if r := c.rstream.Load(); r != nil {
		r.abandoned.Store(true)
		if c.readerStarted.Load() {
			signal(c.readMuFree)
		}
	}
}

// nextDataFrame reads frame headers until a data frame's, acting on the
// control frames before it. inMessage says whether a fragmented message
// is open, so that the frame must continue it. The caller holds c.readMu.
func (c *Conn) nextDataFrame(inMessage bool) (header, error) {
	state := readState{server: !c.client, inMessage: inMessage}
	if c.deflate != nil {
		state.rsvOK = bitRsv1
	}
	for {
		h, err := c.readHeader()
		if err != nil {
			return header{}, err
		}
		if err := checkHeader(h, state); err != nil {
			return header{}, err
		}
		if !h.op.isControl() {
			return h, nil
		}
		c.inFrame = true
		if err := c.readControl(h); err != nil {
			return header{}, err
		}
		c.frameDone()
	}
}

// messageReader is a message being read by WaitStream. While it is open it
// holds c.readMu on behalf of whoever reads it.
type messageReader struct {
	c     *Conn
	typ   MessageType
	limit int64

	mu        sync.Mutex  // serialises Read, Close, and a discard by a later read
	abandoned atomic.Bool // a later read asked the reader goroutine to discard the rest
	err       error       // once set, what every Read returns; guarded by mu

	// Guarded by mu, as is the socket while err is nil.
	remaining int64   // payload bytes of the current frame not read yet
	key       [4]byte // its masking key
	pos       int     // masking position in it
	fin       bool    // it is the message's last
	total     int64   // payload bytes so far, inflated if compressed
	empty     int     // empty fragments so far
	isText    bool
	text      utf8Validator
	fr        io.ReadCloser // the inflater of a compressed message, else nil
}

func (r *messageReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.read(p)
	if err != nil {
		r.finish(err)
		err = r.err
	}
	return n, err
}

// Close discards what is left of the message, reading it from the socket,
// so that the next message can be read. It returns nil once the message
// has ended, or the error that cut it short.
func (r *messageReader) Close() error { return r.discard() }

// discard reads the rest of the message and throws it away, still
// checking it.
func (r *messageReader) discard() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		if r.err == io.EOF || r.err == errStreamDiscarded {
			return nil
		}
		return r.err
	}
	pool := bufferPool(r.c.opts.ReadBufferSize)
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	for {
		if _, err := r.read(*bp); err != nil {
			r.finish(err)
			break
		}
	}
	if r.err != io.EOF {
		return r.err
	}
	r.err = errStreamDiscarded
	return nil
}

// finish ends the stream after read returned err, io.EOF at the message's
// end, and lets the socket go. Any other error ends the connection, as it
// does for Wait.
func (r *messageReader) finish(err error) {
	c := r.c
	if r.fr != nil {
		r.fr.(flate.Resetter).Reset(noInput, nil) // let go of the source and dict
		flateReaders.Put(r.fr)
		r.fr = nil
	}
	if err == io.EOF {
		r.err = io.EOF
	} else {
		c.end(err)
		r.err = fmt.Errorf("websocket: message cut short (%w): %w", io.ErrUnexpectedEOF, c.Err())
	}
	c.rstream.CompareAndSwap(r, nil)
	c.unlockRead()
}

// begin starts reading the payload of the uncompressed fragment with
// header h.
func (r *messageReader) begin(h header) error {
	if h.length > r.limit-r.total {
		return failWith(CloseMessageTooBig, "message longer than "+strconv.FormatInt(r.limit, 10)+" bytes")
	}
	if h.length == 0 && !h.fin {
		if r.empty++; r.empty > maxEmptyFragments {
			return failWith(ClosePolicyViolation, "more than "+strconv.Itoa(maxEmptyFragments)+" empty fragments in one message")
		}
	}
	r.remaining, r.key, r.pos, r.fin = h.length, h.key, 0, h.fin
	return nil
}

// read reads the next bytes of the message into p, which is not empty. It
// returns io.EOF, with the message's last bytes or after them, at its end.
func (r *messageReader) read(p []byte) (int, error) {
	if r.fr != nil {
		return r.readCompressed(p)
	}
	c := r.c
	for r.remaining == 0 {
		if r.fin {
			return 0, r.end()
		}
		h, err := c.nextDataFrame(true)
		if err != nil {
			return 0, err
		}
		if err := r.begin(h); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	c.inFrame = true
	k, err := c.rb.Read(p)
	if k == 0 {
		return 0, unexpectedEOF(err)
	}
	if !c.client {
		r.pos = maskBytes(p[:k], r.key, r.pos)
	}
	if r.isText && !r.text.write(p[:k]) {
		return 0, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
	}
	r.total += int64(k)
	if r.remaining -= int64(k); r.remaining == 0 {
		c.frameDone()
		if r.fin {
			return k, r.end()
		}
	}
	return k, nil
}

// end checks the message as a whole once it has been read: io.EOF, or
// 1007 for text that ends inside a character.
func (r *messageReader) end() error {
	if r.isText && !r.text.complete() {
		return failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
	}
	return io.EOF
}

// beginCompressed starts inflating a compressed message whose first frame
// header is h, as readCompressed does for a whole one.
func (r *messageReader) beginCompressed(h header) error {
	c := r.c
	d := c.deflate
	src := &d.src
	*src = inflateSource{c: c, limit: r.limit}
	if err := src.begin(h); err != nil {
		return err
	}
	fr, _ := flateReaders.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReaderDict(src, d.dict)
	} else {
		fr.(flate.Resetter).Reset(src, d.dict) // copies d.dict
	}
	r.fr = fr
	c.inFrame = true // a stall anywhere in a compressed message is bounded
	return nil
}

// readCompressed is read for a compressed message: it inflates into p,
// failing with 1009 as soon as the output passes the limit.
func (r *messageReader) readCompressed(p []byte) (int, error) {
	c := r.c
	d := c.deflate
	if rest := r.limit - r.total; int64(len(p)) > rest {
		p = p[:rest+1] // one byte past the limit tells that it was passed
	}
	n, err := r.fr.Read(p)
	if n > 0 {
		if r.isText && !r.text.write(p[:n]) {
			return 0, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
		}
		if r.total += int64(n); r.total > r.limit {
			return 0, failWith(CloseMessageTooBig, "message inflates past "+strconv.FormatInt(r.limit, 10)+" bytes")
		}
		if d.recvContext {
			d.dict = appendWindow(d.dict, p[:n])
		}
	}
	switch {
	case err == io.EOF:
		if err := d.src.end(); err != nil {
			return 0, err
		}
		c.frameDone()
		return n, r.end()
	case err != nil:
		var corrupt flate.CorruptInputError
		if errors.As(err, &corrupt) {
			return 0, failWith(CloseInvalidFramePayloadData, "compressed message is corrupt")
		}
		return 0, err
	}
	return n, nil
}
