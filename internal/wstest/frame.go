// Package wstest is a deliberately naive WebSocket (RFC 6455) codec for
// tests. It shares no code with the library it tests: it encodes whatever it
// is told to, legal or not (reserved bits, reserved opcodes, fragmented or
// oversized control frames, unmasked client frames, masked server frames,
// non-minimal length encodings), and it decodes whatever the peer sends,
// reporting how the frame was encoded so a test can check it.
//
// Nothing here is tuned for speed; every frame is a fresh allocation.
package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes (RFC 6455 section 5.2). Every other value in 0..15 is reserved.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Length-field widths for Frame.LenForm.
const (
	LenMinimal = 0 // the shortest legal encoding
	Len7       = 1 // 7-bit length in the second byte (only up to 125)
	Len16      = 2 // 126 + 16-bit length
	Len64      = 8 // 127 + 64-bit length
)

// Frame is one WebSocket frame as it appears on the wire.
type Frame struct {
	Fin    bool
	Rsv    byte // the three RSV bits as a number 0..7: 4 = RSV1, 2 = RSV2, 1 = RSV3
	Opcode byte // 0..15, reserved values allowed
	Masked bool
	Key    [4]byte // masking key, used when Masked
	// Payload is the unmasked application data.
	Payload []byte
	// LenForm forces the width of the length field when encoding
	// (LenMinimal, Len7, Len16 or Len64); after decoding it tells which
	// width the sender used.
	LenForm int
	// Len64High, when encoding with Len64, is ORed into the most
	// significant byte of the 64-bit length (RFC 6455 requires its top bit
	// to be 0). After decoding it holds that byte.
	Len64High byte
}

// String describes the frame for test logs.
func (f Frame) String() string {
	return fmt.Sprintf("fin=%v rsv=%d op=%d masked=%v len=%d", f.Fin, f.Rsv, f.Opcode, f.Masked, len(f.Payload))
}

// IsControl reports whether the opcode is in the control range (8..15).
func (f Frame) IsControl() bool { return f.Opcode >= 8 }

// NewKey returns a random masking key that is never all zero, so a missing
// unmask on the other side cannot go unnoticed.
func NewKey() [4]byte {
	var k [4]byte
	for k == [4]byte{} {
		if _, err := rand.Read(k[:]); err != nil {
			panic(err)
		}
	}
	return k
}

// Encode returns the wire bytes of f. It never refuses: an impossible
// LenForm (Len7 with more than 125 bytes) writes a wrong length on purpose.
func (f Frame) Encode() []byte {
	n := len(f.Payload)
	form := f.LenForm
	if form == LenMinimal {
		switch {
		case n <= 125:
			form = Len7
		case n <= 0xFFFF:
			form = Len16
		default:
			form = Len64
		}
	}
	size := 2 + len(f.Payload)
	switch form {
	case Len16:
		size += 2
	case Len64:
		size += 8
	}
	if f.Masked {
		size += 4
	}
	b := make([]byte, 0, size)
	b0 := f.Opcode & 0x0F
	b0 |= (f.Rsv & 7) << 4
	if f.Fin {
		b0 |= 0x80
	}
	var b1 byte
	if f.Masked {
		b1 = 0x80
	}
	switch form {
	case Len7:
		b = append(b, b0, b1|byte(n&0x7F))
	case Len16:
		b = append(b, b0, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, b0, b1|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
		b[len(b)-8] |= f.Len64High
	}
	if f.Masked {
		b = append(b, f.Key[:]...)
		start := len(b)
		b = append(b, f.Payload...)
		MaskBytes(f.Key, 0, b[start:])
	} else {
		b = append(b, f.Payload...)
	}
	return b
}

// MaskBytes XORs p with key, p being at offset pos of the payload.
func MaskBytes(key [4]byte, pos int, p []byte) {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
}

// ErrTooLarge is returned by ReadFrame for a frame above its limit.
var ErrTooLarge = errors.New("wstest: frame larger than the read limit")

// ReadFrame decodes one frame, whatever it holds, and unmasks its payload.
// It returns ErrTooLarge for a payload above max bytes (max <= 0: no limit).
func ReadFrame(r *bufio.Reader, max int64) (Frame, error) {
	var f Frame
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return f, err
	}
	f.Fin = h[0]&0x80 != 0
	f.Rsv = (h[0] >> 4) & 7
	f.Opcode = h[0] & 0x0F
	f.Masked = h[1]&0x80 != 0
	var n uint64
	switch l := h[1] & 0x7F; l {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return f, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
		f.LenForm = Len16
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(r, e[:]); err != nil {
			return f, unexpected(err)
		}
		n = binary.BigEndian.Uint64(e[:])
		f.LenForm = Len64
		f.Len64High = e[0]
	default:
		n = uint64(l)
		f.LenForm = Len7
	}
	if f.Masked {
		if _, err := io.ReadFull(r, f.Key[:]); err != nil {
			return f, unexpected(err)
		}
	}
	if (max > 0 && n > uint64(max)) || n > 1<<40 {
		return f, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return f, unexpected(err)
	}
	if f.Masked {
		MaskBytes(f.Key, 0, f.Payload)
	}
	return f, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// MinimalLen reports whether the frame's length field used the shortest
// encoding, as RFC 6455 section 5.2 requires.
func (f Frame) MinimalLen() bool {
	n := len(f.Payload)
	switch f.LenForm {
	case Len7:
		return n <= 125
	case Len16:
		return n > 125 && n <= 0xFFFF
	case Len64:
		return n > 0xFFFF && f.Len64High&0x80 == 0
	}
	return false
}

// ClosePayload builds a close frame body: a big-endian code and the reason.
func ClosePayload(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}

// ParseClose splits a close body. ok is false for a 1-byte body; code is -1
// for an empty one.
func ParseClose(p []byte) (code int, reason []byte, ok bool) {
	switch len(p) {
	case 0:
		return -1, nil, true
	case 1:
		return -1, nil, false
	}
	return int(binary.BigEndian.Uint16(p)), p[2:], true
}
