package websocket

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestMaskBytes checks that maskBytes is wired to the kernels: one length
// per code path, every key position. internal/mask tests the kernels
// themselves.
func TestMaskBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, n := range []int{0, 3, 7, 15, 31, 63, 64, 100, 1000, 5000} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(r.Uint32())
		}
		for pos := range 4 {
			got := bytes.Clone(payload)
			gotPos := maskBytes(got, key, pos)
			for i := range payload {
				if want := payload[i] ^ key[(pos+i)&3]; got[i] != want {
					t.Fatalf("maskBytes(len=%d, pos=%d): byte %d = %#x, want %#x", n, pos, i, got[i], want)
				}
			}
			if want := (pos + n) & 3; gotPos != want {
				t.Fatalf("maskBytes(len=%d, pos=%d) returned %d, want %d", n, pos, gotPos, want)
			}
		}
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
