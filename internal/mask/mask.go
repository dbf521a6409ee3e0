// Package mask implements the XOR masking of WebSocket payloads described
// in RFC 6455 §5.3, with assembly kernels where the CPU has them.
package mask

import (
	"encoding/binary"
	"math/bits"
)

// Bytes XORs b in place with the masking key as described in RFC 6455
// §5.3: b[i] ^= key[(pos+i)%4]. pos is the offset (mod 4) of b[0] within
// the frame payload, and the returned value is the pos to pass for the
// bytes that follow b, so a payload can be masked in chunks. Masking and
// unmasking are the same operation.
//
// Bytes is small enough to be inlined, so that a call costs one call of
// the kernel.
func Bytes(b []byte, key [4]byte, pos int) int {
	return xorKey(b, binary.LittleEndian.Uint32(key[:]), pos)
}

// maskGeneric is the portable implementation of xorKey, which has the
// signature of Bytes with the key as a little-endian uint32.
func maskGeneric(b []byte, key uint32, pos int) int {
	generic(b, bits.RotateLeft32(key, -8*(pos&3)))
	return (pos + len(b)) & 3
}

// generic XORs b with k repeated, k being the little-endian key rotated so
// that its low byte is the one that applies to b[0]. Read as little-endian
// words, the masking pattern is then k repeated. It works a 64-bit word at a
// time (32 bytes per loop iteration) and finishes the last few bytes one at
// a time. The re-slicing is there so the compiler can prove every index in
// range and drop the bounds checks.
func generic(b []byte, k32 uint32) {
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
}
