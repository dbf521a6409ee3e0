package websocket

import (
	"io"
	"math"
	"strconv"
)

// readMessage reads frames until one whole message has come, acting on the
// control frames among them. It fails with the peer's close frame as a
// *CloseError, a violation as a *protocolError, or the I/O error that ended
// the connection. The caller holds c.readMu.
func (c *Conn) readMessage() (Message, error) {
	var (
		typ   MessageType
		msg   []byte
		open  bool // a fragmented message is open
		text  utf8Validator
		empty int // empty fragments so far
	)
	state := readState{server: !c.client}
	if c.deflate != nil {
		state.rsvOK = bitRsv1
	}
	for {
		h, err := c.readHeader()
		if err != nil {
			return Message{}, err
		}
		state.inMessage = open
		if err := checkHeader(h, state); err != nil {
			return Message{}, err
		}
		if h.op.isControl() {
			c.inFrame = true
			if err := c.readControl(h); err != nil {
				return Message{}, err
			}
			c.frameDone()
			continue
		}
		if h.op != opContinuation {
			typ, open, msg = MessageBinary, true, nil
			if h.op == opText {
				typ = MessageText
				text.reset()
			}
			if h.rsv&bitRsv1 != 0 { // compressed (RFC 7692 §6)
				msg, err := c.readCompressed(h, typ == MessageText, &text)
				if err != nil {
					return Message{}, err
				}
				if typ == MessageText && !text.complete() {
					return Message{}, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
				}
				return Message{Type: typ, Data: msg}, nil
			}
		}
		// Checked before anything is allocated, without overflow.
		if h.length > c.opts.MaxMessageSize-int64(len(msg)) {
			return Message{}, failWith(CloseMessageTooBig, "message longer than "+strconv.FormatInt(c.opts.MaxMessageSize, 10)+" bytes")
		}
		if h.length == 0 && !h.fin {
			if empty++; empty > maxEmptyFragments {
				return Message{}, failWith(ClosePolicyViolation, "more than "+strconv.Itoa(maxEmptyFragments)+" empty fragments in one message")
			}
		}
		if msg == nil {
			msg = c.free.get(h.length)
		}
		c.inFrame = true
		// A fragment's buffer may grow past the fragment: more may follow.
		upTo := int64(len(msg)) + h.length
		if !h.fin {
			upTo = c.opts.MaxMessageSize
		}
		msg, err = c.readPayload(msg, h.length, upTo, h.key, typ == MessageText, &text)
		if err != nil {
			return Message{}, err
		}
		c.frameDone()
		if h.fin {
			if typ == MessageText && !text.complete() {
				return Message{}, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			}
			return Message{Type: typ, Data: msg}, nil
		}
	}
}

// readHeader reads one frame header.
func (c *Conn) readHeader() (header, error) {
	// Mostly the whole header is buffered already.
	h, n, err := parseHeader(c.rb.unread())
	if err != errShortHeader {
		c.rb.discard(int64(n))
		return h, err
	}
	b, err := c.rb.peek(2)
	if err != nil {
		return header{}, err
	}
	n = headerLen(b[1])
	if b, err = c.rb.peek(n); err != nil {
		return header{}, unexpectedEOF(err)
	}
	h, _, err = parseHeader(b)
	c.rb.discard(int64(n))
	return h, err
}

// readPayload appends the n bytes of a frame's payload to msg, unmasking
// them and, for text, checking each piece as it arrives so that invalid
// UTF-8 fails the connection before the rest of a long frame is read.
//
// msg grows with the bytes that arrive, never ahead of them by more than
// a factor of payloadGrowth, and never past upTo bytes: a header declaring
// a large payload commits no memory until the payload comes.
func (c *Conn) readPayload(msg []byte, n, upTo int64, key [4]byte, isText bool, text *utf8Validator) ([]byte, error) {
	pos := 0
	for n > 0 {
		if len(msg) == cap(msg) {
			msg = growPayload(msg, upTo)
		}
		p := msg[len(msg):cap(msg)]
		if int64(len(p)) > n {
			p = p[:n]
		}
		k, err := c.rb.Read(p)
		if k > 0 {
			if !c.client {
				pos = maskBytes(p[:k], key, pos)
			}
			if isText && !text.write(p[:k]) {
				return msg, failWith(CloseInvalidFramePayloadData, "text message is not valid UTF-8")
			}
			msg = msg[:len(msg)+k]
			n -= int64(k)
		}
		if err != nil && n > 0 {
			return msg, unexpectedEOF(err)
		}
	}
	return msg, nil
}

const (
	// firstPayloadSize is the most a frame header alone makes the reader
	// allocate (16 KiB); the payload's own bytes pay for the rest.
	firstPayloadSize = 16 << 10
	// payloadGrowth is the factor by which a payload's buffer grows once
	// full: at most 4 bytes held per byte received, and 3 copies for 1 MiB.
	payloadGrowth = 4
	// maxEmptyFragments bounds the empty continuation frames of one
	// message: they carry nothing, so MaxMessageSize does not bound them,
	// and no sender needs more than a few.
	maxEmptyFragments = 1024
)

// growPayload returns msg with room for more bytes, its capacity at most
// upTo, which is more than len(msg).
func growPayload(msg []byte, upTo int64) []byte {
	size := max(int64(cap(msg))*payloadGrowth, firstPayloadSize)
	size = min(size, upTo, math.MaxInt)
	grown := make([]byte, len(msg), int(size))
	copy(grown, msg)
	return grown
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readControl reads a control frame's payload and acts on it. The payload,
// at most 125 bytes, is unmasked and used where it lies in the read buffer.
func (c *Conn) readControl(h header) error {
	p, err := c.rb.peek(int(h.length))
	if err != nil {
		return unexpectedEOF(err)
	}
	defer c.rb.discard(h.length)
	if !c.client {
		maskBytes(p, h.key, 0)
	}
	switch h.op {
	case opPing:
		c.queuePong(p)
		return nil
	case opPong:
		c.pongReceived(p)
		return nil
	default: // opClose
		code, reason, err := parseClosePayload(p)
		if err != nil {
			return err
		}
		return &CloseError{Code: code, Reason: reason}
	}
}
