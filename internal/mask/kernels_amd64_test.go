//go:build amd64 && !purego

package mask

import "testing"

// archKernels lists the assembly kernels, best first, with whether this
// CPU can run them.
var archKernels = []kernel{
	{"avx512", hasAVX512()},
	{"avx2", hasAVX2()},
}

// useKernel makes Bytes use the named kernel until restore is called.
func useKernel(name string) (restore func()) {
	old512, old2 := useAVX512, useAVX2
	// The AVX-512 kernel shares the AVX2 code outside 128 bytes to 48 KiB.
	useAVX512, useAVX2 = name == "avx512", name == "avx512" || name == "avx2"
	return func() { useAVX512, useAVX2 = old512, old2 }
}

// TestKernelChoice checks that Bytes uses the best kernel the CPU has.
func TestKernelChoice(t *testing.T) {
	if useAVX512 != hasAVX512() || useAVX2 != hasAVX2() {
		t.Fatalf("useAVX512 = %v, useAVX2 = %v; CPU has AVX-512: %v, AVX2: %v",
			useAVX512, useAVX2, hasAVX512(), hasAVX2())
	}
	t.Logf("AVX-512: %v, AVX2: %v", useAVX512, useAVX2)
}
