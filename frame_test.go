package websocket

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// frameCases drives both parseHeader and appendHeader: each row is a header
// and its exact encoding, written as hex.
var frameCases = []struct {
	name string
	hex  string
	h    header
}{
	// RFC 6455 §5.7 examples.
	{"rfc5.7 unmasked hello", "8105", header{fin: true, op: opText, length: 5}},
	{"rfc5.7 masked hello", "818537fa213d", header{fin: true, op: opText, masked: true, key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, length: 5}},
	{"rfc5.7 first fragment", "0103", header{op: opText, length: 3}},
	{"rfc5.7 last fragment", "8002", header{fin: true, op: opContinuation, length: 2}},
	{"rfc5.7 unmasked ping", "8905", header{fin: true, op: opPing, length: 5}},
	{"rfc5.7 256-byte binary", "827e0100", header{fin: true, op: opBinary, length: 256}},
	{"rfc5.7 64KiB binary", "827f0000000000010000", header{fin: true, op: opBinary, length: 65536}},
	// Length boundaries.
	{"len 0", "8200", header{fin: true, op: opBinary}},
	{"len 125", "827d", header{fin: true, op: opBinary, length: 125}},
	{"len 126", "827e007e", header{fin: true, op: opBinary, length: 126}},
	{"len 127", "827e007f", header{fin: true, op: opBinary, length: 127}},
	{"len 65535", "827effff", header{fin: true, op: opBinary, length: 65535}},
	{"len 65536 masked", "82ff000000000001000001020304", header{fin: true, op: opBinary, masked: true, key: [4]byte{1, 2, 3, 4}, length: 65536}},
	{"len 2^63-1", "827f7fffffffffffffff", header{fin: true, op: opBinary, length: 1<<63 - 1}},
	// Bits.
	{"rsv1", "c100", header{fin: true, rsv: bitRsv1, op: opText}},
	{"rsv2 rsv3", "b200", header{fin: true, rsv: bitRsv2 | bitRsv3, op: opBinary}},
	{"close", "8802", header{fin: true, op: opClose, length: 2}},
	{"pong masked", "8a80aabbccdd", header{fin: true, op: opPong, masked: true, key: [4]byte{0xaa, 0xbb, 0xcc, 0xdd}}},
}

func TestParseHeader(t *testing.T) {
	for _, tc := range frameCases {
		b, _ := hex.DecodeString(tc.hex)
		h, n, err := parseHeader(append(b, "payload"...))
		if err != nil || h != tc.h || n != len(b) {
			t.Errorf("%s: parseHeader(%x) = %+v, %d, %v; want %+v, %d, nil", tc.name, b, h, n, err, tc.h, len(b))
		}
		for i := range b {
			if _, _, err := parseHeader(b[:i]); err != errShortHeader {
				t.Errorf("%s: parseHeader(%x) error = %v, want errShortHeader", tc.name, b[:i], err)
			}
		}
	}
}

func TestAppendHeader(t *testing.T) {
	for _, tc := range frameCases {
		want, _ := hex.DecodeString(tc.hex)
		if got := appendHeader(nil, tc.h); !bytes.Equal(got, want) {
			t.Errorf("%s: appendHeader(%+v) = %x, want %x", tc.name, tc.h, got, want)
		}
	}
}

// TestRFCExampleFrames checks whole frames of RFC 6455 §5.7, payload and
// masking included.
func TestRFCExampleFrames(t *testing.T) {
	masked, _ := hex.DecodeString("818537fa213d7f9f4d5158")
	h, n, err := parseHeader(masked)
	if err != nil {
		t.Fatal(err)
	}
	p := append([]byte(nil), masked[n:]...)
	maskBytes(p, h.key, 0)
	if string(p) != "Hello" {
		t.Errorf("unmasked payload = %q, want Hello", p)
	}
	got := appendHeader(nil, header{fin: true, op: opText, length: 5})
	if want := "810548656c6c6f"; hex.EncodeToString(append(got, "Hello"...)) != want {
		t.Errorf("unmasked Hello frame = %x, want %s", got, want)
	}
}

func TestParseHeaderRejects(t *testing.T) {
	for _, tc := range []struct{ name, hex string }{
		{"64-bit length with top bit", "827f8000000000000000"},
		{"64-bit length all ones", "827fffffffffffffffff"},
		{"16-bit form for 125", "827e007d"},
		{"64-bit form for 65535", "827f000000000000ffff"},
		{"64-bit form for 0", "827f0000000000000000"},
	} {
		b, _ := hex.DecodeString(tc.hex)
		_, _, err := parseHeader(b)
		if code := closeCodeOf(err); code != CloseProtocolError {
			t.Errorf("%s: parseHeader(%x) = %v, want close code 1002", tc.name, b, err)
		}
	}
}

func closeCodeOf(err error) CloseCode {
	var pe *protocolError
	if errors.As(err, &pe) {
		return pe.code
	}
	return 0
}

// TestCheckHeader is the table of RFC 6455 §5 header rules: header bits →
// close code (0 for a valid header).
func TestCheckHeader(t *testing.T) {
	server := readState{server: true}
	client := readState{}
	inMsg := readState{server: true, inMessage: true}
	deflate := readState{server: true, rsvOK: bitRsv1}
	data := func(op opcode) header { return header{fin: true, op: op, masked: true, length: 3} }
	with := func(h header, f func(*header)) header { f(&h); return h }
	for _, tc := range []struct {
		name string
		h    header
		s    readState
		want CloseCode
	}{
		{"masked text to server", data(opText), server, 0},
		{"unmasked text to server", with(data(opText), func(h *header) { h.masked = false }), server, 1002},
		{"unmasked text to client", with(data(opText), func(h *header) { h.masked = false }), client, 0},
		{"masked text to client", data(opText), client, 1002},
		{"rsv1 without extension", with(data(opText), func(h *header) { h.rsv = bitRsv1 }), server, 1002},
		{"rsv2", with(data(opBinary), func(h *header) { h.rsv = bitRsv2 }), server, 1002},
		{"rsv3", with(data(opBinary), func(h *header) { h.rsv = bitRsv3 }), server, 1002},
		{"rsv1 with deflate", with(data(opText), func(h *header) { h.rsv = bitRsv1 }), deflate, 0},
		{"rsv2 with deflate", with(data(opText), func(h *header) { h.rsv = bitRsv2 }), deflate, 1002},
		{"rsv1 on continuation with deflate", with(data(opContinuation), func(h *header) { h.rsv = bitRsv1 }), readState{server: true, inMessage: true, rsvOK: bitRsv1}, 1002},
		{"rsv1 on ping with deflate", with(data(opPing), func(h *header) { h.rsv = bitRsv1 }), deflate, 1002},
		{"opcode 3", data(3), server, 1002},
		{"opcode 7", data(7), server, 1002},
		{"opcode B", data(0xB), server, 1002},
		{"opcode F", data(0xF), server, 1002},
		{"ping", data(opPing), server, 0},
		{"ping of 125", with(data(opPing), func(h *header) { h.length = 125 }), server, 0},
		{"ping of 126", with(data(opPing), func(h *header) { h.length = 126 }), server, 1002},
		{"close of 126", with(data(opClose), func(h *header) { h.length = 126 }), server, 1002},
		{"fragmented ping", with(data(opPing), func(h *header) { h.fin = false }), server, 1002},
		{"fragmented pong", with(data(opPong), func(h *header) { h.fin = false }), server, 1002},
		{"fragmented close", with(data(opClose), func(h *header) { h.fin = false }), server, 1002},
		{"ping inside a message", data(opPing), inMsg, 0},
		{"continuation without start", data(opContinuation), server, 1002},
		{"continuation inside a message", data(opContinuation), inMsg, 0},
		{"text inside a message", data(opText), inMsg, 1002},
		{"binary inside a message", with(data(opBinary), func(h *header) { h.fin = false }), inMsg, 1002},
	} {
		if got := closeCodeOf(checkHeader(tc.h, tc.s)); got != tc.want {
			t.Errorf("%s: checkHeader(%+v, %+v) code = %d, want %d", tc.name, tc.h, tc.s, got, tc.want)
		}
	}
}

func TestParseClosePayload(t *testing.T) {
	for _, tc := range []struct {
		name       string
		p          string
		wantCode   CloseCode
		wantReason string
		wantErr    CloseCode
	}{
		{"empty", "", CloseNoStatusReceived, "", 0},
		{"one byte", "\x03", 0, "", 1002},
		{"1000", "\x03\xe8", 1000, "", 0},
		{"1000 with reason", "\x03\xe8bye", 1000, "bye", 0},
		{"1003", "\x03\xeb", 1003, "", 0},
		{"1007", "\x03\xef", 1007, "", 0},
		{"1014", "\x03\xf6", 1014, "", 0},
		{"3000", "\x0b\xb8", 3000, "", 0},
		{"4999", "\x13\x87", 4999, "", 0},
		{"0", "\x00\x00", 0, "", 1002},
		{"999", "\x03\xe7", 0, "", 1002},
		{"1004", "\x03\xec", 0, "", 1002},
		{"1005", "\x03\xed", 0, "", 1002},
		{"1006", "\x03\xee", 0, "", 1002},
		{"1015", "\x03\xf7", 0, "", 1002},
		{"1016", "\x03\xf8", 0, "", 1002},
		{"2999", "\x0b\xb7", 0, "", 1002},
		{"5000", "\x13\x88", 0, "", 1002},
		{"65535", "\xff\xff", 0, "", 1002},
		{"invalid UTF-8 reason", "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", 0, "", 1007},
		{"truncated UTF-8 reason", "\x03\xe8ok\xe2\x82", 0, "", 1007},
	} {
		code, reason, err := parseClosePayload([]byte(tc.p))
		if got := closeCodeOf(err); got != tc.wantErr || code != tc.wantCode || reason != tc.wantReason {
			t.Errorf("%s: parseClosePayload(%x) = %d, %q, %v; want %d, %q, code %d", tc.name, tc.p, code, reason, err, tc.wantCode, tc.wantReason, tc.wantErr)
		}
	}
}

func TestAppendClosePayloadRoundTrip(t *testing.T) {
	p := appendClosePayload(nil, 4000, "κόσμε")
	code, reason, err := parseClosePayload(p)
	if err != nil || code != 4000 || reason != "κόσμε" {
		t.Errorf("round trip = %d, %q, %v", code, reason, err)
	}
}

func TestCheckCloseArgs(t *testing.T) {
	for _, tc := range []struct {
		code   CloseCode
		reason string
		ok     bool
	}{
		{1000, "", true},
		{4000, strings.Repeat("x", 123), true},
		{1000, strings.Repeat("x", 124), false},
		{1005, "", false},
		{1006, "", false},
		{999, "", false},
		{1000, "\xff", false},
	} {
		if err := checkCloseArgs(tc.code, tc.reason); (err == nil) != tc.ok {
			t.Errorf("checkCloseArgs(%d, %d bytes) = %v, want ok=%v", tc.code, len(tc.reason), err, tc.ok)
		}
	}
}

func TestCloseCodeString(t *testing.T) {
	if s := CloseMessageTooBig.String(); s != "message too big" {
		t.Errorf("CloseMessageTooBig.String() = %q", s)
	}
	if s := CloseCode(4321).String(); s != "close code 4321" {
		t.Errorf("CloseCode(4321).String() = %q", s)
	}
}
