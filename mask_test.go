package websocket

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// maskBytewise is the reference: RFC 6455 §5.3 transcribed literally.
func maskBytewise(b []byte, key [4]byte, pos int) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

type maskFunc func(b []byte, key [4]byte, pos int) int

// maskImpls lists the implementations under test. The assembly kernel is
// only present when the CPU can run it.
func maskImpls() []struct {
	name string
	fn   maskFunc
} {
	impls := []struct {
		name string
		fn   maskFunc
	}{
		{"maskBytes", maskBytes},
		{"generic", maskGeneric},
	}
	if useAVX2 {
		impls = append(impls, struct {
			name string
			fn   maskFunc
		}{"asm", maskAsm})
	}
	return impls
}

// checkMask masks a copy of buf[off:] with fn and with the reference and
// compares both the bytes and the returned pos. Guard bytes either side of
// the slice catch writes out of bounds.
func checkMask(t testing.TB, name string, fn maskFunc, payload []byte, off int, key [4]byte, pos int) {
	t.Helper()
	const guard = 40
	buf := make([]byte, guard+off+len(payload)+guard)
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

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestMaskSmallLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	key := [4]byte{0x12, 0x34, 0x56, 0x78} // distinct bytes, so a wrong rotation shows
	for _, impl := range maskImpls() {
		t.Run(impl.name, func(t *testing.T) {
			for n := 0; n <= 300; n++ {
				payload := randomBytes(r, n)
				for pos := 0; pos < 4; pos++ {
					for off := 0; off < 32; off++ {
						checkMask(t, impl.name, impl.fn, payload, off, key, pos)
					}
				}
			}
		})
	}
}

func TestMaskRandomLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	iters := 300
	if testing.Short() {
		iters = 30
	}
	for _, impl := range maskImpls() {
		t.Run(impl.name, func(t *testing.T) {
			for range iters {
				n := r.IntN(70 << 10)
				off := r.IntN(32)
				pos := r.IntN(4)
				key := [4]byte(randomBytes(r, 4))
				checkMask(t, impl.name, impl.fn, randomBytes(r, n), off, key, pos)
			}
		})
	}
}

// TestMaskChunked checks that masking a payload in pieces, passing the
// returned pos along, gives the same bytes as masking it in one call. This
// is how frames are masked while being streamed.
func TestMaskChunked(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, impl := range maskImpls() {
		t.Run(impl.name, func(t *testing.T) {
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
					pos = impl.fn(rest[:k], key, pos)
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
}

// TestMaskRoundTrip checks that masking twice restores the payload, which
// is how the server side unmasks.
func TestMaskRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	payload := randomBytes(r, 4099)
	b := bytes.Clone(payload)
	key := [4]byte{1, 2, 3, 4}
	maskBytes(b, key, 3)
	if bytes.Equal(b, payload) {
		t.Fatal("masking left the payload unchanged")
	}
	maskBytes(b, key, 3)
	if !bytes.Equal(b, payload) {
		t.Fatal("masking twice did not restore the payload")
	}
}

func TestMaskKeySourceDistinct(t *testing.T) {
	var s maskKeySource
	// 3000 keys span several 512-byte refills. Among n random 32-bit keys
	// about n²/2³³ (here ~0.001) collide, so more than 2 means a bug.
	const n = 3000
	seen := make(map[[4]byte]int, n)
	for range n {
		seen[s.next()]++
	}
	if dups := n - len(seen); dups > 2 {
		t.Fatalf("%d duplicate keys among %d", dups, n)
	}
}

// TestMaskKeySourceConcurrent is meant for go test -race: many goroutines
// share the package-level source, and no key may be handed out twice.
func TestMaskKeySourceConcurrent(t *testing.T) {
	const goroutines, perG = 32, 300
	keys := make([][][4]byte, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ks := make([][4]byte, perG)
			for i := range ks {
				ks[i] = maskKeys.next()
			}
			keys[g] = ks
		}()
	}
	wg.Wait()
	seen := make(map[[4]byte]bool)
	dups := 0
	for _, ks := range keys {
		for _, k := range ks {
			if seen[k] {
				dups++
			}
			seen[k] = true
		}
	}
	// 9600 random keys collide ~0.01 times on average.
	if dups > 2 {
		t.Fatalf("%d duplicate keys among %d", dups, goroutines*perG)
	}
}

func TestFillFallback(t *testing.T) {
	// Odd length to cover the partial last word.
	a, b := make([]byte, 45), make([]byte, 45)
	fillFallback(a)
	fillFallback(b)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 45)) {
		t.Fatalf("fillFallback gave repeated or zero output: %x %x", a, b)
	}
}

func TestMaskNoAllocs(t *testing.T) {
	b := make([]byte, 1000)
	if n := testing.AllocsPerRun(100, func() { maskBytes(b, [4]byte{1, 2, 3, 4}, 1) }); n != 0 {
		t.Fatalf("maskBytes allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { maskKeys.next() }); n != 0 {
		t.Fatalf("maskKeySource.next allocates %v times per call", n)
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
	// 300 bytes: the 128-byte loop, the 32-byte loop and the last block.
	f.Add(bytes.Repeat([]byte("websocket"), 34), uint32(0x00ff00ff), uint8(1), uint8(31))
	// Zero key: masking must be the identity.
	f.Add([]byte("hello, world"), uint32(0), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, payload []byte, key uint32, pos, off uint8) {
		k := [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		for _, impl := range maskImpls() {
			checkMask(t, impl.name, impl.fn, payload, int(off&31), k, int(pos&3))
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

// BenchmarkMask compares the kernels with copy() of the same number of
// bytes, which stands for the memory bandwidth available.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	// Sizes outer, so the three impls of one size run close together in
	// time and share the same background noise.
	for _, size := range benchSizes {
		for _, impl := range []string{"asm", "generic", "copy"} {
			b.Run(fmt.Sprintf("impl=%s/size=%s", impl, size.name), func(b *testing.B) {
				// Non-zero data: some CPUs skip storing zeros over zeros,
				// which would flatter copy.
				buf := randomBytes(rand.New(rand.NewPCG(9, 10)), size.n)
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				b.ResetTimer()
				switch impl {
				case "asm":
					if !useAVX2 {
						b.Skip("no assembly kernel on this CPU or build")
					}
					for range b.N {
						maskAsm(buf, key, 1)
					}
				case "generic":
					for range b.N {
						maskGeneric(buf, key, 1)
					}
				case "copy":
					src := bytes.Clone(buf)
					b.ResetTimer()
					for range b.N {
						copy(buf, src)
					}
				}
			})
		}
	}
}
