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
// Memory: the flate writers and readers are pooled, so an idle connection
// holds none. Without context takeover nothing else is kept between
// messages. With it this side keeps, per connection, the end of the last
// message it sent compressed (at most primeSize, 4 KiB), which a pooled
// writer compresses again, output dropped, before the next message, and
// the last 32 KiB of what it inflated, as the dictionary of the next
// message it receives, grown with the messages. A flate.Writer kept per
// connection instead would hold over 1 MiB (hash chains and window:
// TestDeflateTakeoverHoldsNoWriter, and bench/README.md's idle memory
// with compression).

// windowSize is compress/flate's window: 32 KiB.
const windowSize = 1 << maxWindowBits

// primeSize is how much of the last message sent compressed the next one
// may refer to under context takeover: the writer compresses it again
// before each message, so it costs CPU as much as memory. The peer's
// window holds 32 KiB, but on JSON-like messages priming with the last
// 4 KiB compresses within 1% as well as with 32 (the same at 1 KiB, 1%
// larger at 16 KiB, 0.1% at 64 KiB), for at most 4 KiB compressed again
// per message instead of 32 (the wire/msg metric of the bench module's
// BenchmarkCompressedEcho, bench/README.md "Compression").
const primeSize = 4 << 10

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

	// Send side, with context takeover only: the end of the last message
	// sent compressed, at most primeSize of it, which is all the next one
	// may refer to. A pooled writer is primed with it for each message.
	last  []byte
	reset bool // last no longer matches the peer's window: drop it before use

	// Receive side.
	dict    []byte // with context takeover: the last 32 KiB inflated
	src     inflateSource
	lastLen int // the last message's inflated length: the next one's first guess
}

func newDeflater(n deflateNegotiated, o *Options) *deflater {
	return &deflater{deflateNegotiated: n, level: o.CompressionLevel, threshold: o.CompressionThreshold}
}

// flateWriter is a pooled flate.Writer and its output, redirected for
// each message; with no buffer, the output is dropped.
type flateWriter struct {
	fw  *flate.Writer
	out *bytes.Buffer
}

func (w *flateWriter) Write(p []byte) (int, error) {
	if w.out == nil {
		return len(p), nil
	}
	return w.out.Write(p)
}

// flateWriters pools the writers, one pool per level (-2 to 9), for
// connections with context takeover and without: a writer keeps nothing
// of a message once Reset.
var flateWriters [12]sync.Pool

// getFlateWriter returns a pooled writer at level, Reset, its output
// dropped.
func getFlateWriter(level int) *flateWriter {
	w, _ := flateWriters[level+2].Get().(*flateWriter)
	if w == nil {
		w = new(flateWriter)
		w.fw, _ = flate.NewWriter(w, level)
	} else {
		w.fw.Reset(w)
	}
	return w
}

func putFlateWriter(w *flateWriter, level int) {
	w.out = nil
	flateWriters[level+2].Put(w)
}

// compresses reports whether a message of n bytes is sent compressed.
// One longer than a window under 32 KiB is not: compress/flate may reach
// back 32 KiB, but within one message never further than its length, so
// a message no longer than the window, compressed on its own, keeps to it.
func (d *deflater) compresses(n int) bool {
	return n >= d.threshold && (d.sendWindow >= maxWindowBits || n <= 1<<d.sendWindow)
}

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
	w := getFlateWriter(level)
	w.out = out
	writeFlate(w.fw, p)
	putFlateWriter(w, level)
	out.Truncate(out.Len() - 4)
	return out
}

// compress compresses p for this connection: under context takeover
// after last, the end of the previous message, else on its own. The
// caller holds the Conn's wmu.
//
// Under context takeover the peer's window ends with last, so the
// message may refer back into it. The writer learns it by compressing it
// again, output dropped, and flushing: flate.NewWriterDict would not do,
// as it makes a new writer each time, and at BestSpeed (the default)
// ignores its dictionary. A Reset writer knows nothing before last, and
// reaches back at most 32 KiB, so every back-reference lands in last or
// in the message: bytes the peer's window holds, as it ends with last.
// NoCompression and HuffmanOnly never
// refer back, so they skip it. Only a 15-bit window may take over its
// context (see acceptDeflate); a smaller one compresses each message on
// its own.
func compress[P []byte | string](d *deflater, p P) *bytes.Buffer {
	if !d.sendContext {
		return deflateMessage(p, d.level)
	}
	if d.reset {
		d.last, d.reset = d.last[:0], false
	}
	out := compressBuffers.Get().(*bytes.Buffer)
	w := getFlateWriter(d.level)
	refersBack := d.level != flate.NoCompression && d.level != flate.HuffmanOnly
	if refersBack && len(d.last) > 0 {
		w.fw.Write(d.last)
		w.fw.Flush()
	}
	w.out = out
	writeFlate(w.fw, p)
	putFlateWriter(w, d.level)
	if refersBack {
		d.last = append(d.last[:0], p[max(0, len(p)-primeSize):]...)
	}
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
	defer src.releaseChunk()
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
	// A first guess at the size: the last message's length, else 4 times
	// the frame's, never more than a header alone may make the reader
	// allocate; it grows with what is inflated. A buffer given back with
	// Recycle serves if it fits the guess.
	guess := 4 * min(h.length, firstPayloadSize/4)
	if d.lastLen > 0 {
		guess = min(int64(d.lastLen), firstPayloadSize)
	}
	msg := c.free.get(guess)
	if msg == nil {
		msg = make([]byte, 0, min(max(guess, 512), limit+1))
	}
	// A stall anywhere in a compressed message is bounded, fragments
	// included: the inflater reads across them.
	c.inFrame = true
	for {
		start := len(msg)
		var n int
		var err error
		if len(msg) == cap(msg) {
			// Full: the message may have ended. Grow only for more.
			var one [1]byte
			n, err = fr.Read(one[:])
			if n > 0 {
				msg = append(growPayload(msg, limit+1), one[0])
			}
		} else {
			n, err = fr.Read(msg[len(msg):cap(msg)])
			msg = msg[:len(msg)+n]
		}
		if n > 0 {
			if isText && !text.write(msg[start:]) {
				return nil, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			}
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
	d.lastLen = len(msg)
	if cap(msg) > 2*len(msg)+512 {
		msg = append(make([]byte, 0, len(msg)), msg...) // give the guess back
	}
	return msg, nil
}

// appendWindow returns the last 32 KiB of dict followed by msg, in dict's
// memory.
func appendWindow(dict, msg []byte) []byte {
	need := min(len(dict)+len(msg), windowSize)
	if need > cap(dict) {
		// Grown as messages come, so that small ones keep a small window.
		dict = append(make([]byte, 0, min(windowSize, max(need, 2*cap(dict)))), dict...)
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

	chunk *[chunkSize]byte // borrowed from chunks for the message
	rest  []byte           // the end of chunk: unmasked payload not given yet
}

// chunkSize is how much payload the source unmasks at a time, so that
// the inflater's byte-at-a-time reads cost an index and a compare. The
// chunk is pooled: an idle connection holds none.
const chunkSize = 512

var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// releaseChunk gives the chunk back at the message's end; bytes left in
// it are the message's, read or failed by then.
func (s *inflateSource) releaseChunk() {
	if s.chunk != nil {
		chunks.Put(s.chunk)
		s.chunk, s.rest = nil, nil
	}
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

// ReadByte is what the inflater calls for nearly every compressed byte:
// a short path that serves the chunk, the rest out of line.
func (s *inflateSource) ReadByte() (byte, error) {
	if len(s.rest) > 0 {
		b := s.rest[0]
		s.rest = s.rest[1:]
		return b, nil
	}
	return s.readByteSlow()
}

func (s *inflateSource) readByteSlow() (byte, error) {
	if err := s.more(); err != nil {
		return 0, err
	}
	if s.remaining == 0 {
		s.tail++
		return deflateTail[s.tail-1], nil
	}
	if err := s.refill(); err != nil {
		return 0, err
	}
	b := s.rest[0]
	s.rest = s.rest[1:]
	return b, nil
}

// refill moves the current frame's next buffered payload bytes, at most
// a chunk, into the chunk, unmasked. s.remaining is not 0. The chunk
// never holds bytes of two frames.
func (s *inflateSource) refill() error {
	rb := &s.c.rb
	if err := rb.await(); err != nil {
		return unexpectedEOF(err)
	}
	if s.chunk == nil {
		s.chunk = chunks.Get().(*[chunkSize]byte)
	}
	k := copy(s.chunk[:min(int64(chunkSize), s.remaining)], rb.unread())
	if err := rb.discard(int64(k)); err != nil {
		return unexpectedEOF(err)
	}
	if !s.c.client {
		s.pos = maskBytes(s.chunk[:k], s.key, s.pos)
	}
	s.rest = s.chunk[:k]
	s.payloadRead(k)
	return nil
}

// Read serves what is left in the chunk first: the inflater reads stored
// blocks with Read after reading their headers with ReadByte.
func (s *inflateSource) Read(p []byte) (int, error) {
	if len(s.rest) > 0 {
		n := copy(p, s.rest)
		s.rest = s.rest[n:]
		return n, nil
	}
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
// data, left nothing of the message unread, in the chunk or on the
// socket: data after a final block is not deflate.
func (s *inflateSource) end() error {
	if len(s.rest) > 0 {
		return failWith(CloseInvalidFramePayloadData, "compressed message has data after its final block")
	}
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
