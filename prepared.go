package websocket

import (
	"errors"
	"sync"
	"unicode/utf8"
)

// PreparedMessage is a message framed once and sent to many connections,
// for broadcast. Server connections write its frame bytes as they are;
// client connections, which must mask each frame with a fresh key, frame
// it again. For connections that compress, it is compressed once per
// compression level, the first time one needs it, and that form is sent
// to all of them. A PreparedMessage is safe for concurrent use.
type PreparedMessage struct {
	op    opcode
	data  []byte
	frame []byte // the unmasked frame a server sends
	err   error

	mu       sync.Mutex
	deflated []*deflatedMessage // one per compression level used
}

// deflatedMessage is a PreparedMessage compressed at one level, on its
// own (no context), so that any connection may send it.
type deflatedMessage struct {
	level   int
	once    sync.Once
	smaller bool   // the compressed form is shorter: send it
	payload []byte // the compressed payload
	frame   []byte // the unmasked frame with RSV1 set, for servers
}

// deflatedAt returns pm compressed at level, compressing it if no
// connection has asked for that level before.
func (pm *PreparedMessage) deflatedAt(level int) *deflatedMessage {
	pm.mu.Lock()
	var dm *deflatedMessage
	for _, f := range pm.deflated {
		if f.level == level {
			dm = f
		}
	}
	if dm == nil {
		dm = &deflatedMessage{level: level}
		pm.deflated = append(pm.deflated, dm)
	}
	pm.mu.Unlock()
	dm.once.Do(func() {
		out := deflateMessage(pm.data, level)
		defer putCompressBuffer(out)
		if dm.smaller = out.Len() < len(pm.data); dm.smaller {
			h := header{fin: true, rsv: bitRsv1, op: pm.op, length: int64(out.Len())}
			dm.frame = append(appendHeader(make([]byte, 0, maxHeaderLen+out.Len()), h), out.Bytes()...)
			dm.payload = dm.frame[len(dm.frame)-out.Len():]
		}
	})
	return dm
}

// NewPreparedMessage frames data as one message of type typ. data is
// copied, so the caller may reuse it. A text message must be valid UTF-8;
// if it is not, or typ is unknown, SendPrepared returns the error.
func NewPreparedMessage(typ MessageType, data []byte) *PreparedMessage {
	pm := &PreparedMessage{op: opBinary}
	switch typ {
	case MessageText:
		pm.op = opText
		if !utf8.Valid(data) {
			pm.err = errInvalidUTF8
		}
	case MessageBinary:
	default:
		pm.err = errors.New("websocket: unknown message type " + typ.String())
	}
	h := header{fin: true, op: pm.op, length: int64(len(data))}
	pm.frame = append(appendHeader(make([]byte, 0, maxHeaderLen+len(data)), h), data...)
	pm.data = pm.frame[len(pm.frame)-len(data):]
	return pm
}

// SendPrepared sends pm.
func (c *Conn) SendPrepared(pm *PreparedMessage) error {
	if pm.err != nil {
		return pm.err
	}
	if d := c.deflate; d != nil && d.compresses(len(pm.data)) {
		if dm := pm.deflatedAt(d.level); dm.smaller {
			return c.sendDeflated(pm.op, dm)
		}
	}
	if c.client {
		return writeFrame(c, pm.op, pm.data)
	}
	if err := c.lockWriter(); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return c.wrote(c.writeSocket(pm.frame))
}

// sendDeflated sends a prepared message's compressed form. It was made
// without this connection's context, so a compressor that keeps one
// starts afresh after it: the peer's window now holds the message, which
// this side's compressor never saw.
func (c *Conn) sendDeflated(op opcode, dm *deflatedMessage) error {
	if err := c.lockWriter(); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	if c.deflate.sendContext {
		c.deflate.reset = true
	}
	if c.client {
		return writeFrameLocked(c, op, dm.payload, bitRsv1)
	}
	return c.wrote(c.writeSocket(dm.frame))
}
