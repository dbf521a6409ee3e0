package websocket

import (
	"io"
	"slices"
	"strconv"
)

// readMessage reads frames until one whole message has come, acting on the
// control frames among them. It fails with the peer's close frame as a
// *CloseError, a violation as a *protocolError, or the I/O error that ended
// the connection. The caller holds c.readMu.
func (c *Conn) readMessage() (Message, error) {
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
			return Message{}, err
		}
		state.inMessage = open
		if err := checkHeader(h, state); err != nil {
			return Message{}, err
		}
		if h.op.isControl() {
			if err := c.readControl(h); err != nil {
				return Message{}, err
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
			return Message{}, failWith(CloseMessageTooBig, "message longer than "+strconv.FormatInt(c.opts.MaxMessageSize, 10)+" bytes")
		}
		n := len(msg)
		if msg == nil && h.fin {
			msg = c.free.get(int(h.length))
		} else {
			msg = slices.Grow(msg, int(h.length))[:n+int(h.length)]
		}
		if err := c.readPayload(msg[n:], h.key, typ == MessageText, &text); err != nil {
			return Message{}, err
		}
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
