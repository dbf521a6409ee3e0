package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
)

// This file compresses and inflates messages for permessage-deflate (RFC
// 7692 §7.2). A message is deflated with a sync flush and sent without the
// flush's last four bytes, 00 00 ff ff; the receiver puts them back.
//
// Memory: without context takeover nothing is kept between messages; the
// flate writers and readers are pooled, so an idle connection holds none.
// With context takeover this side keeps, per connection, its flate.Writer
// (its window and hash tables, made at the first compressed send) and the
// last 32 KiB of what it inflated, as the dictionary of the next message.

// windowSize is compress/flate's window: 32 KiB.
const windowSize = 1 << maxWindowBits

// deflateTail ends every compressed message's data: the sync flush's
// empty stored block that the sender left out, then a final empty stored
// block, so that the inflater reports io.EOF at the message's end.
var deflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// deflater is a connection's compression state. The send side is guarded
// by the Conn's wmu, the receive side by its readMu.
type deflater struct {
	deflateNegotiated
	level     int
	threshold int

	// Send side, with context takeover only.
	fw    *flate.Writer
	sink  sink // fw's output
	reset bool // fw's window no longer matches the peer's: reset before use

	// Receive side.
	dict []byte // with context takeover: the last 32 KiB inflated
	src  inflateSource
}

func newDeflater(n deflateNegotiated, o *Options) *deflater {
	return &deflater{deflateNegotiated: n, level: o.CompressionLevel, threshold: o.CompressionThreshold}
}

// sink is a flate.Writer's output, redirected for each message.
type sink struct{ buf *bytes.Buffer }

func (s *sink) Write(p []byte) (int, error) { return s.buf.Write(p) }

// compresses reports whether a message of n bytes is sent compressed.
// One longer than a window under 32 KiB is not: compress/flate may reach
// back 32 KiB, but within one message never further than its length, so
// a message no longer than the window, compressed on its own, keeps to it.
func (d *deflater) compresses(n int) bool {
	return n >= d.threshold && (d.sendWindow >= maxWindowBits || n <= 1<<d.sendWindow)
}

// flateWriters pools writers without context takeover, one pool per
// level (-2 to 9).
var flateWriters [12]sync.Pool

// compressBuffers pools the buffers compressed messages are built in.
var compressBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putCompressBuffer(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		b.Reset()
		compressBuffers.Put(b)
	}
}

// compressions counts messages compressed, for tests.
var compressions atomic.Int64

// deflateMessage compresses p on its own, at level, into a pooled buffer,
// without the trailing 00 00 ff ff.
func deflateMessage[P []byte | string](p P, level int) *bytes.Buffer {
	out := compressBuffers.Get().(*bytes.Buffer)
	pool := &flateWriters[level+2]
	fw, _ := pool.Get().(*flate.Writer)
	if fw == nil {
		fw, _ = flate.NewWriter(out, level)
	} else {
		fw.Reset(out)
	}
	writeFlate(fw, p)
	fw.Reset(io.Discard) // let go of out
	pool.Put(fw)
	out.Truncate(out.Len() - 4)
	return out
}

// compress compresses p for this connection: with its own writer under
// context takeover, else on its own. The caller holds the Conn's wmu.
func compress[P []byte | string](d *deflater, p P) *bytes.Buffer {
	if !d.sendContext {
		return deflateMessage(p, d.level)
	}
	out := compressBuffers.Get().(*bytes.Buffer)
	d.sink.buf = out
	switch {
	case d.fw == nil:
		d.fw, _ = flate.NewWriter(&d.sink, d.level)
	case d.reset:
		d.fw.Reset(&d.sink)
	}
	d.reset = false
	writeFlate(d.fw, p)
	d.sink.buf = nil
	out.Truncate(out.Len() - 4)
	return out
}

// writeFlate writes p to fw and flushes it. Writes to a bytes.Buffer do
// not fail.
func writeFlate[P []byte | string](fw *flate.Writer, p P) {
	compressions.Add(1)
	if b, ok := any(p).([]byte); ok {
		fw.Write(b)
	} else {
		var chunk [512]byte
		for s := string(p); len(s) > 0; {
			n := copy(chunk[:], s)
			fw.Write(chunk[:n])
			s = s[n:]
		}
	}
	fw.Flush()
}

// writeMessageLocked writes p as one message, compressed when that was
// negotiated and p is long enough. c.wmu is held.
func writeMessageLocked[P []byte | string](c *Conn, op opcode, p P) error {
	d := c.deflate
	if d == nil || !d.compresses(len(p)) {
		return writeFrameLocked(c, op, p, 0)
	}
	out := compress(d, p)
	defer putCompressBuffer(out)
	if !d.sendContext && out.Len() >= len(p) {
		// Not worth it; and without context takeover the peer's window
		// need not see it.
		return writeFrameLocked(c, op, p, 0)
	}
	return writeFrameLocked(c, op, out.Bytes(), bitRsv1)
}

// flateReaders pools inflaters: without context takeover a connection
// holds none between messages, and with it only its 32 KiB dictionary.
var flateReaders sync.Pool

// noInput is what a pooled inflater reads: nothing.
var noInput = bytes.NewReader(nil)

// readCompressed reads the rest of a compressed message whose first frame
// header is h, inflating it as it arrives: the output grows with what is
// inflated, and the message fails with 1009 as soon as it passes
// MaxMessageSize, however small its compressed form (a "zip bomb"). Text
// is checked as UTF-8 as it is inflated. The caller holds c.readMu.
func (c *Conn) readCompressed(h header, isText bool, text *utf8Validator) ([]byte, error) {
	d := c.deflate
	src := &d.src
	*src = inflateSource{c: c}
	if err := src.begin(h); err != nil {
		return nil, err
	}
	fr, _ := flateReaders.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReaderDict(src, d.dict)
	} else {
		fr.(flate.Resetter).Reset(src, d.dict)
	}
	defer func() {
		fr.(flate.Resetter).Reset(noInput, nil) // let go of src and dict
		flateReaders.Put(fr)
	}()

	limit := c.opts.MaxMessageSize
	// A first guess at the size, never more than a header alone may make
	// the reader allocate; it grows with what is inflated.
	guess := 4 * min(h.length, firstPayloadSize/4)
	msg := make([]byte, 0, min(max(guess, 512), limit+1))
	// A stall anywhere in a compressed message is bounded, fragments
	// included: the inflater reads across them.
	c.inFrame = true
	for {
		if len(msg) == cap(msg) {
			msg = growPayload(msg, limit+1)
		}
		n, err := fr.Read(msg[len(msg):cap(msg)])
		if n > 0 {
			if isText && !text.write(msg[len(msg):len(msg)+n]) {
				return nil, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			}
			msg = msg[:len(msg)+n]
			if int64(len(msg)) > limit {
				return nil, failWith(CloseMessageTooBig, "message inflates past "+strconv.FormatInt(limit, 10)+" bytes")
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			var corrupt flate.CorruptInputError
			if errors.As(err, &corrupt) {
				return nil, failWith(CloseInvalidFramePayloadData, "compressed message is corrupt")
			}
			return nil, err
		}
	}
	if err := src.end(); err != nil {
		return nil, err
	}
	c.frameDone()
	if d.recvContext {
		d.dict = appendWindow(d.dict, msg)
	}
	if cap(msg) > 2*len(msg)+512 {
		msg = append(make([]byte, 0, len(msg)), msg...) // give the guess back
	}
	return msg, nil
}

// appendWindow returns the last 32 KiB of dict followed by msg, in dict's
// memory.
func appendWindow(dict, msg []byte) []byte {
	if cap(dict) < windowSize {
		dict = append(make([]byte, 0, windowSize), dict...)
	}
	if len(msg) >= windowSize {
		return append(dict[:0], msg[len(msg)-windowSize:]...)
	}
	if over := len(dict) + len(msg) - windowSize; over > 0 {
		dict = dict[:copy(dict, dict[over:])]
	}
	return append(dict, msg...)
}

// inflateSource gives the inflater a compressed message's data: the
// payloads of its frames, unmasked, read from the socket as the inflater
// asks, the control frames between them acted on, then deflateTail.
type inflateSource struct {
	c         *Conn
	limit     int64 // of the payload bytes; 0 means MaxMessageSize
	remaining int64 // payload bytes of the current frame not read yet
	key       [4]byte
	pos       int   // masking position in the current frame
	fin       bool  // the current frame is the message's last
	wire      int64 // payload bytes of the message so far
	empty     int   // empty fragments so far
	tail      int   // bytes of deflateTail given
}

// begin starts reading the payload of the frame with header h.
func (s *inflateSource) begin(h header) error {
	c := s.c
	// Compressed bytes count against the limit too.
	limit := s.limit
	if limit == 0 {
		limit = c.opts.MaxMessageSize
	}
	if h.length > limit-s.wire {
		return failWith(CloseMessageTooBig, "message longer than "+strconv.FormatInt(limit, 10)+" bytes")
	}
	if h.length == 0 && !h.fin {
		if s.empty++; s.empty > maxEmptyFragments {
			return failWith(ClosePolicyViolation, "more than "+strconv.Itoa(maxEmptyFragments)+" empty fragments in one message")
		}
	}
	s.wire += h.length
	s.remaining, s.key, s.pos, s.fin = h.length, h.key, 0, h.fin
	c.inFrame = h.length > 0
	return nil
}

// next reads frame headers up to the message's next fragment, acting on
// control frames.
func (s *inflateSource) next() error {
	c := s.c
	state := readState{server: !c.client, inMessage: true}
	for {
		h, err := c.readHeader()
		if err != nil {
			return unexpectedEOF(err)
		}
		if err := checkHeader(h, state); err != nil {
			return err
		}
		if !h.op.isControl() {
			return s.begin(h)
		}
		c.inFrame = true
		if err := c.readControl(h); err != nil {
			return err
		}
		c.frameDone()
	}
}

// more readies the next byte: it reports io.EOF once the message's data
// and the tail are all given.
func (s *inflateSource) more() error {
	for s.remaining == 0 {
		if s.fin {
			if s.tail == len(deflateTail) {
				return io.EOF
			}
			return nil
		}
		if err := s.next(); err != nil {
			return err
		}
	}
	return nil
}

func (s *inflateSource) ReadByte() (byte, error) {
	if err := s.more(); err != nil {
		return 0, err
	}
	if s.remaining == 0 {
		s.tail++
		return deflateTail[s.tail-1], nil
	}
	b, err := s.c.rb.readByte()
	if err != nil {
		return 0, unexpectedEOF(err)
	}
	if !s.c.client {
		b ^= s.key[s.pos&3]
		s.pos++
	}
	s.payloadRead(1)
	return b, nil
}

func (s *inflateSource) Read(p []byte) (int, error) {
	if err := s.more(); err != nil {
		return 0, err
	}
	if s.remaining == 0 {
		n := copy(p, deflateTail[s.tail:])
		s.tail += n
		return n, nil
	}
	if int64(len(p)) > s.remaining {
		p = p[:s.remaining]
	}
	n, err := s.c.rb.Read(p)
	if !s.c.client {
		s.pos = maskBytes(p[:n], s.key, s.pos)
	}
	s.payloadRead(n)
	if err != nil && n == 0 {
		return 0, unexpectedEOF(err)
	}
	return n, nil
}

func (s *inflateSource) payloadRead(n int) {
	if s.remaining -= int64(n); s.remaining == 0 {
		s.c.frameDone()
	}
}

// end checks that the inflater, having found the end of the compressed
// data, left nothing of the message unread: data after a final block is
// not deflate.
func (s *inflateSource) end() error {
	for s.remaining == 0 && !s.fin {
		if err := s.next(); err != nil {
			return err
		}
	}
	if s.remaining > 0 {
		return failWith(CloseInvalidFramePayloadData, "compressed message has data after its final block")
	}
	return nil
}
