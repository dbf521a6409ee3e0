package bench

import (
	"encoding/binary"
	"math/rand/v2"
)

// A deliberately naive frame encoder (RFC 6455 section 5.2), independent of
// every library under test, so that no library decodes its own output.

const (
	opText   = 0x1
	opBinary = 0x2
)

// appendFrame appends one final frame with the given opcode and payload.
// A non-nil mask makes it a masked (client) frame.
func appendFrame(dst []byte, op byte, payload []byte, mask *[4]byte) []byte {
	return appendFrameBits(dst, 0x80|op, payload, mask)
}

// appendFrameBits is appendFrame with the whole first byte given: FIN,
// RSV1-3 and the opcode.
func appendFrameBits(dst []byte, first byte, payload []byte, mask *[4]byte) []byte {
	var maskBit byte
	if mask != nil {
		maskBit = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, first, maskBit|byte(n))
	case n <= 0xffff:
		dst = append(dst, first, maskBit|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, first, maskBit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if mask == nil {
		return append(dst, payload...)
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= mask[i%4]
	}
	return dst
}

// frameLen is the wire size of one unfragmented frame.
func frameLen(n int, masked bool) int {
	h := 2
	switch {
	case n >= 1<<16:
		h += 8
	case n >= 126:
		h += 2
	}
	if masked {
		h += 4
	}
	return h + n
}

// benchSize is one message size of the matrix.
type benchSize struct {
	name string
	n    int
}

var sizes = []benchSize{
	{"16B", 16},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"1MiB", 1 << 20},
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int) []byte {
	r := rand.NewChaCha8([32]byte{'z', 'e', 'r', 'o', 'w', 's'})
	p := make([]byte, n)
	_, _ = r.Read(p)
	return p
}

// clientStream returns a byte pattern of whole masked binary frames, each
// carrying p under a different mask key, and the number of frames in it.
// The pattern is at least 256 KiB long (or one frame) so that the reader
// does not see one mask key over and over.
func clientStream(p []byte) (pat []byte, frames int) {
	r := rand.New(rand.NewPCG(1, 2))
	fl := frameLen(len(p), true)
	frames = max(1, min(64, (256<<10)/fl))
	pat = make([]byte, 0, frames*fl)
	for range frames {
		var m [4]byte
		binary.LittleEndian.PutUint32(m[:], r.Uint32())
		pat = appendFrame(pat, opBinary, p, &m)
	}
	return pat, frames
}
