//go:build amd64 && !purego

package mask

// The kernel is chosen once, at package initialisation, from CPUID and
// XGETBV. The standard library's internal/cpu does the same detection, but
// it cannot be imported from outside the standard library. useAVX512
// implies useAVX2: the AVX-512 kernel shares the AVX2 code for buffers
// under 128 bytes and over 48 KiB.
var (
	useAVX2   = hasAVX2()
	useAVX512 = useAVX2 && hasAVX512()
)

// xorKey is Bytes with the key as a little-endian uint32. It is written
// in assembly and runs the AVX-512 or AVX2 kernel as useAVX512 and useAVX2
// say, reading them on every call; without either it jumps to maskGeneric.
//
//go:noescape
func xorKey(b []byte, key uint32, pos int) int

// cpuid executes the CPUID instruction for the given leaf and subleaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns XCR0, the set of register states the OS saves and
// restores on context switches.
func xgetbv0() (eax, edx uint32)

// CPUID and XCR0 bits, from the Intel 64 and IA-32 Architectures Software
// Developer's Manual, volume 2A (CPUID) and volume 1, chapters 14 and 15
// (detection of AVX and AVX-512 support).
const (
	cpuid1OSXSAVE = 1 << 27 // leaf 1, ECX: the OS uses XSAVE and XCR0
	cpuid1AVX     = 1 << 28 // leaf 1, ECX

	cpuid7AVX2    = 1 << 5  // leaf 7, EBX
	cpuid7AVX512F = 1 << 16 // leaf 7, EBX

	xcr0SSE    = 1 << 1 // XMM registers
	xcr0AVX    = 1 << 2 // upper halves of the YMM registers
	xcr0Opmask = 1 << 5 // K0-K7
	xcr0ZMMHi  = 1 << 6 // upper halves of ZMM0-ZMM15
	xcr0HiZMM  = 1 << 7 // ZMM16-ZMM31
)

// features returns CPUID leaf 7's EBX and XCR0, or zeros when the CPU or
// the OS cannot tell (no leaf 7, or no OSXSAVE, without which XGETBV
// faults).
func features() (ebx7, xcr0 uint32) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return 0, 0
	}
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(cpuid1OSXSAVE|cpuid1AVX) != cpuid1OSXSAVE|cpuid1AVX {
		return 0, 0
	}
	xcr0, _ = xgetbv0()
	_, ebx7, _, _ = cpuid(7, 0)
	return ebx7, xcr0
}

// hasAVX2 reports whether the CPU supports AVX2 and the OS saves the YMM
// register state.
func hasAVX2() bool {
	ebx7, xcr0 := features()
	const os = xcr0SSE | xcr0AVX
	return xcr0&os == os && ebx7&cpuid7AVX2 != 0
}

// hasAVX512 reports whether the CPU supports AVX-512 Foundation and the OS
// saves the opmask and full ZMM register state, which the SDM asks to check
// before any AVX-512 instruction. The kernel uses only Foundation
// instructions (broadcast, XOR, 64-byte moves), so no other AVX-512 subset
// is needed.
func hasAVX512() bool {
	ebx7, xcr0 := features()
	const os = xcr0SSE | xcr0AVX | xcr0Opmask | xcr0ZMMHi | xcr0HiZMM
	return xcr0&os == os && ebx7&cpuid7AVX512F != 0
}
