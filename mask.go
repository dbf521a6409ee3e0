package websocket

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
	mrand "math/rand/v2"
	"sync"
)

// maskBytes XORs b in place with the masking key as described in
// RFC 6455 §5.3: b[i] ^= key[(pos+i)%4]. pos is the offset (mod 4) of
// b[0] within the frame payload, and the returned value is the pos to pass
// for the bytes that follow b, so a payload can be masked in chunks.
// Masking and unmasking are the same operation.
func maskBytes(b []byte, key [4]byte, pos int) int {
	if useAVX2 {
		return maskAsm(b, key, pos)
	}
	return maskGeneric(b, key, pos)
}

// rotateKey returns key as a little-endian uint32 rotated so that its low
// byte is the key byte that applies to payload offset pos. Read as
// little-endian words, the masking pattern from pos on is this value
// repeated, which is what lets maskGeneric XOR whole words.
func rotateKey(key [4]byte, pos int) uint32 {
	return bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(pos&3))
}

// maskGeneric is the portable implementation of maskBytes. It works a
// 64-bit word at a time (32 bytes per loop iteration) and finishes the last
// few bytes one at a time. The re-slicing is there so the compiler can prove
// every index in range and drop the bounds checks.
func maskGeneric(b []byte, key [4]byte, pos int) int {
	next := (pos + len(b)) & 3
	k32 := rotateKey(key, pos)
	k := uint64(k32)<<32 | uint64(k32)
	for len(b) >= 32 {
		w := b[:32:32]
		binary.LittleEndian.PutUint64(w[0:8], binary.LittleEndian.Uint64(w[0:8])^k)
		binary.LittleEndian.PutUint64(w[8:16], binary.LittleEndian.Uint64(w[8:16])^k)
		binary.LittleEndian.PutUint64(w[16:24], binary.LittleEndian.Uint64(w[16:24])^k)
		binary.LittleEndian.PutUint64(w[24:32], binary.LittleEndian.Uint64(w[24:32])^k)
		b = b[32:]
	}
	for len(b) >= 8 {
		w := b[:8:8]
		binary.LittleEndian.PutUint64(w, binary.LittleEndian.Uint64(w)^k)
		b = b[8:]
	}
	if len(b) >= 4 {
		w := b[:4:4]
		binary.LittleEndian.PutUint32(w, binary.LittleEndian.Uint32(w)^k32)
		b = b[4:]
	}
	// Every step above consumed a multiple of 4 bytes, so k32's low byte
	// still belongs to b[0].
	for i := range b {
		b[i] ^= byte(k32)
		k32 >>= 8
	}
	return next
}

// maskKeySource hands out masking keys for client-to-server frames.
// RFC 6455 §5.3 and §10.3 require each frame's key to be freshly chosen and
// unpredictable to intermediaries, so keys come from crypto/rand. Reading
// the OS generator for every 4-byte key would cost a call per frame, so a
// block is read at once and handed out 4 bytes at a time. The zero value is
// ready to use and safe for concurrent use.
type maskKeySource struct {
	mu   sync.Mutex
	left int // unused bytes at the end of buf
	buf  [512]byte
}

// maskKeys is the process-wide source of client masking keys.
var maskKeys maskKeySource

// next returns a fresh masking key. It never fails and never panics.
func (s *maskKeySource) next() [4]byte {
	s.mu.Lock()
	if s.left < 4 {
		s.refill()
	}
	i := len(s.buf) - s.left
	key := [4]byte(s.buf[i : i+4])
	s.left -= 4
	s.mu.Unlock()
	return key
}

// refill reads a new block of key material. s.mu must be held.
//
// Since Go 1.24, crypto/rand.Read never returns an error: if the OS
// generator fails, the program crashes irrecoverably instead (go.dev/issue/66821),
// so with a current toolchain the fallback below is dead code. go.mod allows
// Go 1.23, whose Read could report an error; rather than panic in the
// middle of writing a frame, we then take bytes from the runtime's ChaCha8
// generator, which is seeded from OS randomness at start-up. That is weaker
// than crypto/rand but still unpredictable to an intermediary, which is what
// §10.3 asks of masking keys.
func (s *maskKeySource) refill() {
	if _, err := rand.Read(s.buf[:]); err != nil {
		fillFallback(s.buf[:])
	}
	s.left = len(s.buf)
}

// fillFallback fills b from math/rand/v2's runtime-seeded generator.
func fillFallback(b []byte) {
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, mrand.Uint64())
		b = b[8:]
	}
	if len(b) > 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], mrand.Uint64())
		copy(b, w[:])
	}
}
