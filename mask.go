package websocket

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
)

// maskBytes XORs b in place with the masking key (RFC 6455 §5.3), starting
// at key byte pos, and returns the key position after b, so a payload can
// be masked in pieces.
func maskBytes(b []byte, key [4]byte, pos int) int {
	for len(b) > 0 && pos&3 != 0 {
		b[0] ^= key[pos&3]
		b = b[1:]
		pos++
	}
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		binary.LittleEndian.PutUint64(b, v^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}

// maskKeySource hands out client masking keys from crypto/rand (RFC 6455
// §5.3 asks for a strong source of entropy), read in blocks so that a frame
// costs no system call.
type maskKeySource struct {
	mu    sync.Mutex
	block [512]byte
	used  int
}

var maskKeys = maskKeySource{used: 512}

func (s *maskKeySource) next() [4]byte {
	s.mu.Lock()
	if s.used == len(s.block) {
		rand.Read(s.block[:])
		s.used = 0
	}
	var k [4]byte
	copy(k[:], s.block[s.used:])
	s.used += 4
	s.mu.Unlock()
	return k
}
