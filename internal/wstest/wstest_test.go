package wstest

import (
	"bufio"
	"bytes"
	"testing"
)

// Golden bytes from RFC 6455 section 5.7 and 1.3.
func TestRFCExamples(t *testing.T) {
	hello := Frame{Fin: true, Opcode: OpText, Payload: []byte("Hello")}
	if got, want := hello.Encode(), []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}; !bytes.Equal(got, want) {
		t.Errorf("unmasked Hello: % x, want % x", got, want)
	}
	masked := hello
	masked.Masked, masked.Key = true, [4]byte{0x37, 0xfa, 0x21, 0x3d}
	if got, want := masked.Encode(), []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(got, want) {
		t.Errorf("masked Hello: % x, want % x", got, want)
	}
	frag := []Frame{{Opcode: OpText, Payload: []byte("Hel")}, {Fin: true, Opcode: OpContinuation, Payload: []byte("lo")}}
	if got, want := append(frag[0].Encode(), frag[1].Encode()...), []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}; !bytes.Equal(got, want) {
		t.Errorf("fragmented Hello: % x, want % x", got, want)
	}
	big := Frame{Fin: true, Opcode: OpBinary, Payload: make([]byte, 256)}
	if got := big.Encode()[:4]; !bytes.Equal(got, []byte{0x82, 0x7e, 0x01, 0x00}) {
		t.Errorf("256-byte binary header: % x", got)
	}
	big.Payload = make([]byte, 65536)
	if got := big.Encode()[:10]; !bytes.Equal(got, []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}) {
		t.Errorf("64 KiB binary header: % x", got)
	}
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey: %s", got)
	}
}

// TestRoundTrip encodes frames, legal and not, and decodes them back.
func TestRoundTrip(t *testing.T) {
	frames := []Frame{
		{Fin: true, Opcode: OpText, Payload: []byte("x"), Masked: true, Key: NewKey()},
		{Fin: false, Rsv: 5, Opcode: 3, Payload: bytes.Repeat([]byte{0xfe}, 126)},
		{Fin: true, Opcode: OpPing, Payload: []byte("ping"), LenForm: Len16},
		{Fin: true, Opcode: OpBinary, Payload: make([]byte, 200), LenForm: Len64, Masked: true, Key: NewKey()},
		{Fin: true, Opcode: OpClose, Payload: ClosePayload(1000, "bye")},
	}
	var wire []byte
	for _, f := range frames {
		wire = append(wire, f.Encode()...)
	}
	r := bufio.NewReader(bytes.NewReader(wire))
	for i, want := range frames {
		got, err := ReadFrame(r, 0)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Fin != want.Fin || got.Rsv != want.Rsv || got.Opcode != want.Opcode || got.Masked != want.Masked ||
			!bytes.Equal(got.Payload, want.Payload) || (want.Masked && got.Key != want.Key) {
			t.Errorf("frame %d: got %v, want %v", i, got, want)
		}
		if minimal := want.LenForm == LenMinimal; got.MinimalLen() != minimal {
			t.Errorf("frame %d: MinimalLen %v, want %v", i, got.MinimalLen(), minimal)
		}
	}
	if code, reason, ok := ParseClose(ClosePayload(4000, "r")); code != 4000 || string(reason) != "r" || !ok {
		t.Errorf("ParseClose: %d %q %v", code, reason, ok)
	}
	if _, _, ok := ParseClose([]byte{3}); ok {
		t.Error("ParseClose accepted a 1-byte payload")
	}
}
