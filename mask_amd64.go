//go:build amd64 && !purego

package websocket

import "encoding/binary"

// useAVX2 selects the AVX2 kernel. It is decided once, at package
// initialisation, from CPUID and XGETBV.
var useAVX2 = hasAVX2()

// maskAsm is maskBytes implemented in assembly with AVX2. Callers must
// check useAVX2 first.
func maskAsm(b []byte, key [4]byte, pos int) int {
	return maskAVX2(b, binary.LittleEndian.Uint32(key[:]), pos)
}

// maskAVX2 XORs b in place with key, a little-endian [4]byte, starting at
// key byte pos&3, and returns (pos+len(b))&3. It handles any length,
// including 0, and any pos. The key is passed as a uint32 because go vet
// allows no sized access to an array argument in assembly.
//
//go:noescape
func maskAVX2(b []byte, key uint32, pos int) int

// cpuid executes the CPUID instruction for the given leaf and subleaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns XCR0, the set of register states the OS saves and
// restores on context switches.
func xgetbv0() (eax, edx uint32)

// hasAVX2 reports whether the CPU supports AVX2 and the OS has enabled the
// YMM register state. The standard library's internal/cpu does this too,
// but it cannot be imported from outside the standard library.
func hasAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&(osxsave|avx) != osxsave|avx {
		return false
	}
	// XCR0 bit 1 is SSE (XMM) state, bit 2 is AVX (upper YMM) state.
	if xcr0, _ := xgetbv0(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}
