package websocket

import (
	"crypto/rand"
	"encoding/binary"
	mrand "math/rand/v2"
	"sync"

	"github.com/zerows/websocket/internal/mask"
)

// maskBytes XORs b in place with the masking key as described in
// RFC 6455 §5.3: b[i] ^= key[(pos+i)%4]. pos is the offset (mod 4) of
// b[0] within the frame payload, and the returned value is the pos to pass
// for the bytes that follow b, so a payload can be masked in chunks.
// Masking and unmasking are the same operation. The kernels, tests and
// benchmarks live in internal/mask.
func maskBytes(b []byte, key [4]byte, pos int) int { return mask.Bytes(b, key, pos) }

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
