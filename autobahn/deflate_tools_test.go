package autobahn

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"strings"
	"testing"
)

// Tests of the peer's own compression tools: the checks in sections 12 and
// 13 are only as good as these.

// deflateRaw compresses msg as a permessage-deflate sender does (sync
// flush, 00 00 ff ff dropped), after dict with context takeover.
func deflateRaw(t *testing.T, level int, dict, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriterDict(&b, level, dict)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(msg)
	fw.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func TestInflateCheckedAgreesWithCompressFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 50_000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	inputs := map[string][]byte{
		"empty":  nil,
		"one":    []byte("x"),
		"text":   []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 3000)),
		"random": random, // stored blocks
		"mixed":  append(bytes.Repeat([]byte("abc"), 10_000), random[:20_000]...),
	}
	for name, in := range inputs {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			data := deflateRaw(t, level, nil, in)
			out, st, err := inflateChecked(nil, data, 1<<15)
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("%s at level %d: %d octets back, error %v; want the %d sent", name, level, len(out), err, len(in))
			}
			if st.maxDistance > 1<<15 {
				t.Errorf("%s at level %d: longest reference %d", name, level, st.maxDistance)
			}
		}
	}
}

func TestInflateCheckedWindow(t *testing.T) {
	// A 1000-octet block, then the same again: the second copy refers
	// 1000 octets back.
	r := rand.New(rand.NewPCG(3, 4))
	block := make([]byte, 1000)
	for i := range block {
		block[i] = byte(r.Uint32())
	}
	msg := append(bytes.Clone(block), block...)
	data := deflateRaw(t, flate.BestCompression, nil, msg)
	if out, st, err := inflateChecked(nil, data, 1<<10); err != nil || !bytes.Equal(out, msg) || st.maxDistance != 1000 {
		t.Errorf("window 1024: error %v, longest reference %d; want no error and 1000", err, st.maxDistance)
	}
	if _, _, err := inflateChecked(nil, data, 1<<9); err == nil || !strings.Contains(err.Error(), "beyond the negotiated window of 512") {
		t.Errorf("window 512: error %v, want a reference beyond the window", err)
	}
}

func TestInflateCheckedContext(t *testing.T) {
	first := []byte(strings.Repeat("context takeover keeps the window. ", 20))
	second := []byte("context takeover keeps the window. And more.")
	data := deflateRaw(t, flate.DefaultCompression, first, second)
	if out, _, err := inflateChecked(first, data, 1<<15); err != nil || !bytes.Equal(out, second) {
		t.Errorf("with the first message as history: %q, %v", out, err)
	}
	if _, _, err := inflateChecked(nil, data, 1<<15); err == nil || !strings.Contains(err.Error(), "may refer to 0 octets of earlier messages") {
		t.Errorf("without context takeover: error %v, want a reference before the message", err)
	}
}

func TestInflateCheckedCorrupt(t *testing.T) {
	data := deflateRaw(t, flate.DefaultCompression, nil, []byte(strings.Repeat("abcdef", 100)))
	for _, bad := range [][]byte{
		{0x07},                 // reserved block type 3
		{0x00, 5, 0, 5, 0},     // stored block with LEN == NLEN
		data[:len(data)/2],     // cut short
		{0x04, 0x80, 0x49, 92}, // dynamic block header, cut short
	} {
		if out, _, err := inflateChecked(nil, bad, 1<<15); err == nil {
			t.Errorf("% x: inflated to %q without an error", bad, out)
		}
	}
}

func TestCheckResponse(t *testing.T) {
	offer := autobahnOffer(true, 10) // server_no_context_takeover; server_max_window_bits=10
	for _, tc := range []struct {
		resp string
		ok   bool
	}{
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=10", true},
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover", true},
		{"permessage-deflate; server_max_window_bits=10", false},                                // no context takeover left out
		{"permessage-deflate; server_no_context_takeover", false},                               // window left out
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=11", false},    // above the offer
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; x", false}, // unknown parameter
		{"permessage-deflate; server_no_context_takeover; server_max_window_bits=10, permessage-deflate", false},
		{"", false}, // declined
	} {
		var values []string
		if tc.resp != "" {
			values = []string{tc.resp}
		}
		d, err := checkResponse(values, []deflateParams{offer})
		if (err == nil) != tc.ok {
			t.Errorf("%q: error %v, want ok %v", tc.resp, err, tc.ok)
		}
		if err == nil && (d.recvWindow > 10 || d.recvContext) {
			t.Errorf("%q: the testee's window %d, context %v", tc.resp, d.recvWindow, d.recvContext)
		}
	}
	// The window the testee may use is the one it answered.
	d, err := checkResponse([]string{"permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12"},
		[]deflateParams{autobahnOffer(true, 10)})
	if err != nil || d.recvWindow != 9 || d.sendWindow != 12 || !strings.Contains(d.ext, "client_max_window_bits=12") {
		t.Errorf("answer with windows 9 and 12: %+v, %v", d, err)
	}
}
