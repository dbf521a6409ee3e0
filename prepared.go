package websocket

import (
	"errors"
	"unicode/utf8"
)

// PreparedMessage is a message framed once and sent to many connections,
// for broadcast. Server connections write its frame bytes as they are;
// client connections, which must mask each frame with a fresh key, frame
// it again. A PreparedMessage is immutable and safe for concurrent use.
type PreparedMessage struct {
	op    opcode
	data  []byte
	frame []byte // the unmasked frame a server sends
	err   error
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
	if c.client {
		return writeFrame(c, pm.op, pm.data)
	}
	if err := c.lockWriter(); err != nil {
		return err
	}
	defer c.wmu.Unlock()
	return c.wrote(c.writeSocket(pm.frame))
}
