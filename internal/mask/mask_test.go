package mask

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// kernel names one implementation of Bytes's inner loop.
type kernel struct {
	name string
	ok   bool // the CPU and this build can run it
}

// kernels returns every kernel of this build, the portable one last,
// including ones the CPU cannot run (ok false).
func kernels() []kernel {
	return append(archKernels[:len(archKernels):len(archKernels)], kernel{"generic", true})
}

// maskFunc has the signature of Bytes.
type maskFunc func(b []byte, key [4]byte, pos int) int

// forEachKernel runs f as a subtest for every kernel, with Bytes switched
// to that kernel, skipping the ones the CPU lacks.
func forEachKernel(t *testing.T, f func(t *testing.T, name string, fn maskFunc)) {
	for _, k := range kernels() {
		t.Run(k.name, func(t *testing.T) {
			if !k.ok {
				t.Skipf("this CPU cannot run the %s kernel", k.name)
			}
			defer useKernel(k.name)()
			f(t, k.name, Bytes)
		})
	}
}

// maskBytewise is the reference: RFC 6455 §5.3 transcribed literally.
func maskBytewise(b []byte, key [4]byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// checkMask masks a copy of payload placed off bytes into a buffer with fn
// and with the reference and compares both the bytes and the returned pos.
// The buffer starts on a 64-byte boundary, so off sets the slice's
// alignment. Guard bytes either side of the slice catch writes out of
// bounds.
func checkMask(t testing.TB, name string, fn maskFunc, payload []byte, off int, key [4]byte, pos int) {
	t.Helper()
	const guard = 64
	buf := alignedBuf(guard + off + len(payload) + guard)
	for i := range buf {
		buf[i] = 0xA5
	}
	copy(buf[guard+off:], payload)
	b := buf[guard+off : guard+off+len(payload)]

	want := bytes.Clone(payload)
	wantPos := maskBytewise(want, key, pos)

	gotPos := fn(b, key, pos)
	if gotPos != wantPos {
		t.Fatalf("%s(len=%d, off=%d, pos=%d) returned pos %d, want %d", name, len(payload), off, pos, gotPos, wantPos)
	}
	if !bytes.Equal(b, want) {
		i := 0
		for i < len(b) && b[i] == want[i] {
			i++
		}
		t.Fatalf("%s(len=%d, off=%d, pos=%d, key=%x): first difference at byte %d: got %#x, want %#x",
			name, len(payload), off, pos, key, i, b[i], want[i])
	}
	for i := 0; i < guard+off; i++ {
		if buf[i] != 0xA5 {
			t.Fatalf("%s(len=%d, off=%d, pos=%d) wrote before the slice", name, len(payload), off, pos)
		}
	}
	for i := guard + off + len(payload); i < len(buf); i++ {
		if buf[i] != 0xA5 {
			t.Fatalf("%s(len=%d, off=%d, pos=%d) wrote after the slice", name, len(payload), off, pos)
		}
	}
}

// alignedBuf returns n bytes starting on a 64-byte boundary.
func alignedBuf(n int) []byte {
	b := make([]byte, n+63)
	i := 0
	for uintptr(unsafe.Pointer(&b[i]))%64 != 0 {
		i++
	}
	return b[i : i+n : i+n]
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestMaskSmallLengths covers every length up to 300, every key position
// and every alignment within a cache line, for each kernel.
func TestMaskSmallLengths(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78} // distinct bytes, so a wrong rotation shows
	forEachKernel(t, func(t *testing.T, name string, fn maskFunc) {
		r := rand.New(rand.NewPCG(1, 2))
		for n := 0; n <= 300; n++ {
			payload := randomBytes(r, n)
			for pos := 0; pos < 4; pos++ {
				for off := 0; off < 64; off++ {
					checkMask(t, name, fn, payload, off, key, pos)
				}
			}
		}
	})
}

// TestMaskKernelBoundaries covers the lengths where the amd64 code
// switches kernels: 128 bytes and 48 KiB.
func TestMaskKernelBoundaries(t *testing.T) {
	key := [4]byte{0x9a, 0xbc, 0xde, 0xf0}
	forEachKernel(t, func(t *testing.T, name string, fn maskFunc) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{127, 128, 129, 48<<10 - 1, 48 << 10, 48<<10 + 1} {
			payload := randomBytes(r, n)
			for pos := range 4 {
				for _, off := range []int{0, 1, 4, 31, 32, 63} {
					checkMask(t, name, fn, payload, off, key, pos)
				}
			}
		}
	})
}

func TestMaskRandomLengths(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 30
	}
	forEachKernel(t, func(t *testing.T, name string, fn maskFunc) {
		r := rand.New(rand.NewPCG(3, 4))
		for range iters {
			n := r.IntN(70 << 10)
			off := r.IntN(64)
			pos := r.IntN(4)
			key := [4]byte(randomBytes(r, 4))
			checkMask(t, name, fn, randomBytes(r, n), off, key, pos)
		}
	})
}

// TestMaskChunked checks that masking a payload in pieces, passing the
// returned pos along, gives the same bytes as masking it in one call. This
// is how frames are masked while being streamed.
func TestMaskChunked(t *testing.T) {
	forEachKernel(t, func(t *testing.T, name string, fn maskFunc) {
		r := rand.New(rand.NewPCG(5, 6))
		for range 200 {
			n := r.IntN(5000)
			payload := randomBytes(r, n)
			key := [4]byte(randomBytes(r, 4))
			start := r.IntN(4)

			want := bytes.Clone(payload)
			wantPos := maskBytewise(want, key, start)

			got := bytes.Clone(payload)
			pos := start
			for rest := got; len(rest) > 0; {
				k := r.IntN(min(len(rest), 300) + 1)
				pos = fn(rest[:k], key, pos)
				rest = rest[k:]
			}
			if pos != wantPos {
				t.Fatalf("chunked pos = %d, want %d", pos, wantPos)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("chunked masking of %d bytes from pos %d differs from one-shot", n, start)
			}
		}
	})
}

// TestMaskPos checks that only pos mod 4 matters, negative pos included.
func TestMaskPos(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	payload := []byte("0123456789")
	for _, pos := range []int{-9, -4, -1, 0, 5, 1 << 30, math.MinInt, math.MaxInt} {
		want := bytes.Clone(payload)
		wantPos := maskBytewise(want, key, pos)
		got := bytes.Clone(payload)
		if p := Bytes(got, key, pos); p != wantPos || !bytes.Equal(got, want) {
			t.Errorf("Bytes(pos=%d) = %d, %x; want %d, %x", pos, p, got, wantPos, want)
		}
	}
}

// TestMaskRoundTrip checks that masking twice restores the payload, which
// is how the server side unmasks.
func TestMaskRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	payload := randomBytes(r, 4099)
	b := bytes.Clone(payload)
	key := [4]byte{1, 2, 3, 4}
	Bytes(b, key, 3)
	if bytes.Equal(b, payload) {
		t.Fatal("masking left the payload unchanged")
	}
	Bytes(b, key, 3)
	if !bytes.Equal(b, payload) {
		t.Fatal("masking twice did not restore the payload")
	}
}

func TestMaskNoAllocs(t *testing.T) {
	b := make([]byte, 1000)
	if n := testing.AllocsPerRun(100, func() { Bytes(b, [4]byte{1, 2, 3, 4}, 1) }); n != 0 {
		t.Fatalf("Bytes allocates %v times per call", n)
	}
}

func FuzzMask(f *testing.F) {
	// Empty payload: nothing to mask, pos must pass through.
	f.Add([]byte{}, uint32(0x01020304), uint8(2), uint8(0))
	// Under 4 bytes from a non-zero pos: only the byte-at-a-time tail runs.
	f.Add([]byte{1, 2, 3}, uint32(0xdeadbeef), uint8(3), uint8(0))
	// 31 bytes: one short of the first 32-byte block, all small paths.
	f.Add(bytes.Repeat([]byte{0xff}, 31), uint32(0x80402010), uint8(1), uint8(5))
	// 33 bytes, unaligned: one full block plus an overlapping final block.
	f.Add(bytes.Repeat([]byte{0x55}, 33), uint32(0xa5a55a5a), uint8(2), uint8(7))
	// 129 bytes: the shortest that takes the AVX-512 kernel, with one
	// body block between overlapping ends.
	f.Add(bytes.Repeat([]byte{0x3c}, 129), uint32(0x0badf00d), uint8(3), uint8(63))
	// 300 bytes: the 128-byte loop, the 32-byte loop and the last block.
	f.Add(bytes.Repeat([]byte("websocket"), 34), uint32(0x00ff00ff), uint8(1), uint8(31))
	// 700 bytes, unaligned: body aligned to 64 bytes, 256-byte loop,
	// 64-byte loop and the last block.
	f.Add(bytes.Repeat([]byte("RFC 6455"), 88)[:700], uint32(0x13579bdf), uint8(2), uint8(17))
	// Zero key: masking must be the identity.
	f.Add([]byte("hello, world"), uint32(0), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, payload []byte, key uint32, pos, off uint8) {
		k := [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		for _, kern := range kernels() {
			if kern.ok {
				restore := useKernel(kern.name)
				checkMask(t, kern.name, Bytes, payload, int(off&63), k, int(pos&3))
				restore()
			}
		}
	})
}

var benchSizes = []struct {
	name string
	n    int
}{
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkMask compares Bytes, switched to each kernel in turn, with
// copy() of the same number of bytes, which stands for the memory bandwidth
// available.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	// Sizes outer, so the impls of one size run close together in time and
	// share the same background noise.
	for _, size := range benchSizes {
		for _, k := range append(kernels(), kernel{"copy", true}) {
			b.Run(fmt.Sprintf("impl=%s/size=%s", k.name, size.name), func(b *testing.B) {
				if !k.ok {
					b.Skipf("this CPU cannot run the %s kernel", k.name)
				}
				// Non-zero data: some CPUs skip storing zeros over zeros,
				// which would flatter copy.
				buf := randomBytes(rand.New(rand.NewPCG(9, 10)), size.n)
				src := bytes.Clone(buf)
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				if k.name == "copy" {
					b.ResetTimer()
					for range b.N {
						copy(buf, src)
					}
					return
				}
				defer useKernel(k.name)()
				b.ResetTimer()
				for range b.N {
					Bytes(buf, key, 1)
				}
			})
		}
	}
}
