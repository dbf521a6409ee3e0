package corpus

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"testing"
)

func TestJSON(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100, 1 << 10, 16 << 10, 1 << 20} {
		p := JSON(n, 1)
		if len(p) != n {
			t.Fatalf("JSON(%d) is %d bytes", n, len(p))
		}
		if n >= 2 && !json.Valid(p) {
			t.Errorf("JSON(%d) is not valid JSON", n)
		}
		if !bytes.Equal(p, JSON(n, 1)) {
			t.Errorf("JSON(%d, 1) differs between calls", n)
		}
	}
	if bytes.Equal(JSON(1<<10, 1), JSON(1<<10, 2)) {
		t.Error("seeds 1 and 2 give the same text")
	}
	// Realistic, not trivially compressible: between 15% and 50% at
	// BestSpeed.
	for _, n := range []int{1 << 10, 16 << 10, 1 << 20} {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		w.Write(JSON(n, 7))
		w.Close()
		if r := float64(b.Len()) / float64(n); r < 0.15 || r > 0.5 {
			t.Errorf("JSON(%d) compresses to %.2f of its size", n, r)
		}
	}
}
