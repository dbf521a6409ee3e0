package websocket

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// opcode is a frame's opcode, RFC 6455 §5.2 and §11.8.
type opcode byte

const (
	opContinuation opcode = 0x0
	opText         opcode = 0x1
	opBinary       opcode = 0x2
	// 0x3-0x7 are reserved for further non-control frames.
	opClose opcode = 0x8
	opPing  opcode = 0x9
	opPong  opcode = 0xA
	// 0xB-0xF are reserved for further control frames.
)

// isControl reports whether op is a control opcode (RFC 6455 §5.5).
func (op opcode) isControl() bool { return op&0x8 != 0 }

// Header bits of the first two bytes, RFC 6455 §5.2.
const (
	bitFin  = 0x80
	bitRsv1 = 0x40 // "compressed" under permessage-deflate, RFC 7692 §6
	bitRsv2 = 0x20
	bitRsv3 = 0x10
	bitMask = 0x80

	maxHeaderLen      = 14  // 2 + 8 (64-bit length) + 4 (masking key)
	maxControlPayload = 125 // RFC 6455 §5.5
	maxCloseReason    = maxControlPayload - 2
)

// header is a decoded frame header.
type header struct {
	fin    bool
	rsv    byte // the RSV1-3 bits in place: bitRsv1|bitRsv2|bitRsv3
	op     opcode
	masked bool
	key    [4]byte
	length int64
}

// errShortHeader means the bytes given to parseHeader end before the header.
var errShortHeader = errors.New("websocket: short frame header")

// headerLen returns the length of a header from its second byte.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&bitMask != 0 {
		n += 4
	}
	return n
}

// parseHeader decodes the frame header at the start of b and returns it with
// its length in bytes. It returns errShortHeader if b ends first, and a
// *protocolError (1002) for a length that is not in its minimal form or has
// the most significant bit set (RFC 6455 §5.2). The other rules are left to
// checkHeader.
func parseHeader(b []byte) (header, int, error) {
	if len(b) < 2 {
		return header{}, 0, errShortHeader
	}
	n := headerLen(b[1])
	if len(b) < n {
		return header{}, 0, errShortHeader
	}
	h := header{
		fin:    b[0]&bitFin != 0,
		rsv:    b[0] & (bitRsv1 | bitRsv2 | bitRsv3),
		op:     opcode(b[0] & 0x0f),
		masked: b[1]&bitMask != 0,
	}
	p := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:4]))
		if h.length < 126 {
			return header{}, 0, failWith(CloseProtocolError, "frame length not in minimal form")
		}
		p = 4
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		if u>>63 != 0 {
			return header{}, 0, failWith(CloseProtocolError, "frame length has its most significant bit set")
		}
		if u <= 0xffff {
			return header{}, 0, failWith(CloseProtocolError, "frame length not in minimal form")
		}
		h.length = int64(u)
		p = 10
	default:
		h.length = int64(l)
	}
	if h.masked {
		copy(h.key[:], b[p:p+4])
	}
	return h, n, nil
}

// appendHeader appends the encoding of h to dst, with the length in its
// minimal form.
func appendHeader(dst []byte, h header) []byte {
	b0 := h.rsv | byte(h.op)
	if h.fin {
		b0 |= bitFin
	}
	var b1 byte
	if h.masked {
		b1 = bitMask
	}
	switch {
	case h.length <= 125:
		dst = append(dst, b0, b1|byte(h.length))
	case h.length <= 0xffff:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(h.length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(h.length))
	}
	if h.masked {
		dst = append(dst, h.key[:]...)
	}
	return dst
}

// readState is what checkHeader needs to know about the reading side.
type readState struct {
	server    bool // frames must be masked (server) or unmasked (client)
	inMessage bool // a fragmented data message is open
	rsvOK     byte // the RSV bits negotiated extensions may set on data frames
}

// checkHeader applies the rules of RFC 6455 §5 to a parsed header and
// returns a *protocolError carrying the close code, 1002 for all of them.
func checkHeader(h header, s readState) error {
	switch {
	case h.masked != s.server:
		if s.server {
			return failWith(CloseProtocolError, "client frame is not masked")
		}
		return failWith(CloseProtocolError, "server frame is masked")
	case h.op > opBinary && h.op < opClose, h.op > opPong:
		return failWith(CloseProtocolError, "reserved opcode "+string("0123456789ABCDEF"[h.op]))
	case h.op.isControl():
		if !h.fin {
			return failWith(CloseProtocolError, "fragmented control frame")
		}
		if h.length > maxControlPayload {
			return failWith(CloseProtocolError, "control frame payload longer than 125 bytes")
		}
		if h.rsv != 0 {
			return failWith(CloseProtocolError, "reserved bits set on a control frame")
		}
	case h.op == opContinuation:
		if !s.inMessage {
			return failWith(CloseProtocolError, "continuation frame without a message to continue")
		}
		// Compression marks only a message's first frame (RFC 7692 §6).
		if h.rsv != 0 {
			return failWith(CloseProtocolError, "reserved bits set on a continuation frame")
		}
	default: // text or binary
		if s.inMessage {
			return failWith(CloseProtocolError, "new message started inside a fragmented message")
		}
		if h.rsv&^s.rsvOK != 0 {
			return failWith(CloseProtocolError, "reserved bits set without a negotiated extension")
		}
	}
	return nil
}

// appendClosePayload appends a close frame's payload (RFC 6455 §5.5.1):
// the code in network byte order, then the reason.
func appendClosePayload(dst []byte, code CloseCode, reason string) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// parseClosePayload decodes a received close frame's payload. An empty
// payload means no code (1005). A 1-byte payload or a code that may not be
// sent (RFC 6455 §7.4) is a protocol error (1002); a reason that is not
// UTF-8 is 1007 (RFC 6455 §5.5.1, §8.1).
func parseClosePayload(p []byte) (CloseCode, string, error) {
	switch {
	case len(p) == 0:
		return CloseNoStatusReceived, "", nil
	case len(p) == 1:
		return 0, "", failWith(CloseProtocolError, "close frame payload of 1 byte")
	}
	code := CloseCode(binary.BigEndian.Uint16(p))
	if !code.validOnWire() {
		return 0, "", failWith(CloseProtocolError, "invalid close code "+strconv.Itoa(int(code)))
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", failWith(CloseInvalidFramePayloadData, "close reason is not valid UTF-8")
	}
	return code, string(p[2:]), nil
}

// checkCloseArgs says whether this side may send code and reason.
func checkCloseArgs(code CloseCode, reason string) error {
	if !code.validOnWire() {
		return errors.New("websocket: close code " + strconv.Itoa(int(code)) + " may not be sent")
	}
	if len(reason) > maxCloseReason {
		return errors.New("websocket: close reason longer than 123 bytes")
	}
	if !utf8.ValidString(reason) {
		return errors.New("websocket: close reason is not valid UTF-8")
	}
	return nil
}
