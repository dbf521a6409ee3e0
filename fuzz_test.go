package websocket

// Native Go fuzz targets (testing.F) for the package's unexported code: the
// frame header codec, the streaming UTF-8 validator, masking, close
// payloads, and whole connections fed arbitrary bytes. `go test` replays
// the f.Add seeds and the named seeds in testdata/fuzz/<Target>/; to fuzz
// one target (two cores: two workers):
//
//	go test -run='^$' -fuzz='^FuzzServerStream$' -fuzztime=60s -parallel=2 .
//
// Each target checks its code against an oracle written here from RFC 6455
// and RFC 3629, not against the package's own helpers.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// fzBound bounds every wait in the connection targets: a Conn whose peer has
// ended its direction must be done long before it.
const fzBound = 5 * time.Second

// ---------------------------------------------------------------------------
// FuzzParseHeader

// FuzzParseHeader decodes arbitrary bytes as a frame header. parseHeader
// must never panic; it reports errShortHeader exactly when b ends before
// the header does; it refuses (1002) exactly the lengths that are not in
// minimal form or have the most significant bit set; what it accepts
// decodes as an independent decoder says and encodes back, with
// appendHeader, to exactly b[:n] (the minimal-length rule makes the
// encoding canonical). checkHeader is then held to RFC 6455 §5's rules for
// every reading state.
func FuzzParseHeader(f *testing.F) {
	// RFC 6455 §5.7, masked "Hello": the common client header, 7-bit length.
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d})
	// RFC 6455 §5.7, unmasked 256-byte binary: 16-bit length.
	f.Add([]byte{0x82, 0x7e, 0x01, 0x00})
	// 16-bit length 125: not minimal, must be refused.
	f.Add([]byte{0x82, 0x7e, 0x00, 0x7d})
	// 64-bit length with the most significant bit set: refused.
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})
	// 64-bit length 65535: not minimal, refused.
	f.Add([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	// The longest header, 14 bytes: masked with a 64-bit length, plus a
	// trailing payload byte that n must leave out.
	f.Add([]byte{0x02, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4, 'x'})
	// Masked 16-bit header cut inside its key: errShortHeader.
	f.Add([]byte{0x81, 0xfe, 0x00, 0x80, 0x01})
	// One byte: errShortHeader before the second byte is known.
	f.Add([]byte{0x81})
	// Every bit of the first byte set: RSV bits and reserved opcode 0xF.
	f.Add([]byte{0xff, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHeader(b)

		// The header's length in bytes, computed here from RFC 6455 §5.2.
		want := -1
		if len(b) >= 2 {
			want = 2
			switch b[1] & 0x7f {
			case 126:
				want += 2
			case 127:
				want += 8
			}
			if b[1]&0x80 != 0 {
				want += 4
			}
		}
		short := want < 0 || len(b) < want
		if short != (err == errShortHeader) {
			t.Fatalf("parseHeader(%x): err = %v, but the header is %d bytes of %d", b, err, want, len(b))
		}
		if short {
			return
		}

		// The length field, decoded independently.
		var length uint64
		refuse := false
		switch l := b[1] & 0x7f; l {
		case 126:
			length = uint64(b[2])<<8 | uint64(b[3])
			refuse = length < 126
		case 127:
			for _, c := range b[2:10] {
				length = length<<8 | uint64(c)
			}
			refuse = length>>63 != 0 || length <= 0xffff
		default:
			length = uint64(l)
		}
		if refuse != (err != nil) {
			t.Fatalf("parseHeader(%x): err = %v, want refused = %v (length %d)", b, err, refuse, length)
		}
		if err != nil {
			var pe *protocolError
			if !errors.As(err, &pe) || pe.code != CloseProtocolError {
				t.Fatalf("parseHeader(%x): err = %#v, want a 1002 protocolError", b, err)
			}
			return
		}

		if n != want {
			t.Fatalf("parseHeader(%x): n = %d, want %d", b, n, want)
		}
		wantH := header{
			fin:    b[0]&0x80 != 0,
			rsv:    b[0] & 0x70,
			op:     opcode(b[0] & 0x0f),
			masked: b[1]&0x80 != 0,
			length: int64(length),
		}
		if wantH.masked {
			copy(wantH.key[:], b[n-4:n])
		}
		if h != wantH {
			t.Fatalf("parseHeader(%x) = %+v, want %+v", b, h, wantH)
		}
		prefix := []byte("prefix")
		if got := appendHeader(prefix, h); !bytes.Equal(got[:len(prefix)], []byte("prefix")) || !bytes.Equal(got[len(prefix):], b[:n]) {
			t.Fatalf("appendHeader(%q, parseHeader(%x)) = %x, want the prefix then %x", prefix, b, got, b[:n])
		}
		if n > maxHeaderLen {
			t.Fatalf("parseHeader(%x): n = %d > maxHeaderLen", b, n)
		}

		// checkHeader, against RFC 6455 §5.1-§5.5 for each reading state.
		for _, s := range []readState{
			{server: true}, {server: true, inMessage: true},
			{server: false}, {server: false, inMessage: true},
			{server: true, rsvOK: bitRsv1}, {server: false, inMessage: true, rsvOK: bitRsv1},
		} {
			err := checkHeader(h, s)
			if ok := fzHeaderAllowed(h, s); ok != (err == nil) {
				t.Fatalf("checkHeader(%+v, %+v) = %v, want allowed = %v", h, s, err, ok)
			}
			var pe *protocolError
			if err != nil && (!errors.As(err, &pe) || pe.code != CloseProtocolError) {
				t.Fatalf("checkHeader(%+v, %+v) = %#v, want a 1002 protocolError", h, s, err)
			}
		}
	})
}

// fzHeaderAllowed is RFC 6455 §5's verdict on a header, written from the
// RFC: masking by direction (§5.1, §5.3), RSV bits only as negotiated and
// only on a message's first frame (§5.2, RFC 7692 §6), no reserved opcode
// (§5.2), control frames whole and short (§5.5), continuation only inside
// a message and a new message only outside one (§5.4).
func fzHeaderAllowed(h header, s readState) bool {
	if h.masked != s.server {
		return false
	}
	switch h.op {
	case opContinuation:
		return s.inMessage && h.rsv == 0
	case opText, opBinary:
		return !s.inMessage && h.rsv&^s.rsvOK == 0
	case opClose, opPing, opPong:
		return h.fin && h.length <= 125 && h.rsv == 0
	}
	return false
}

// ---------------------------------------------------------------------------
// FuzzUTF8Validator

// fzExtendable reports whether p is a prefix of some valid UTF-8 text. It
// is exact, and cheap: p is a prefix of valid text if and only if p itself
// is valid or p followed by one of six completions of 1 to 3 bytes is. Only
// the last, unfinished character can need completing, by 1 to 3
// continuation bytes; the first of them may have to lie in a narrower range
// that depends on the lead byte (RFC 3629 §4: A0-BF after E0, 80-9F after
// ED, 90-BF after F0, 80-8F after F4, 80-BF otherwise), and either 0x80 or
// 0xA0 lies in every one of those ranges; later bytes may be any of 80-BF.
func fzExtendable(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	buf := make([]byte, len(p), len(p)+3)
	copy(buf, p)
	for _, first := range []byte{0x80, 0xa0} {
		b := append(buf, first)
		for k := 1; k <= 3; k++ {
			if utf8.Valid(b) {
				return true
			}
			b = append(b, 0x80)
		}
	}
	return false
}

// FuzzUTF8Validator writes s to a utf8Validator in three pieces, cut at two
// fuzzer-chosen points. Each write must report exactly whether the text so
// far can still become valid UTF-8 (fzExtendable): true keeps the
// validator honest against utf8.Valid, false must come no later than the
// first piece that makes every completion invalid (fail-fast, RFC 6455
// §8.1) and never earlier. After all three writes, complete must equal
// utf8.Valid(s); after reset the validator must judge s afresh.
func FuzzUTF8Validator(f *testing.F) {
	// A 4-byte character (U+1F600) split 1+2+1 across all three pieces.
	f.Add([]byte("a\xf0\x9f\x98\x80b"), uint16(2), uint16(4))
	// A surrogate (U+D800 as ED A0 80): invalid from its second byte on.
	f.Add([]byte("x\xed\xa0\x80"), uint16(2), uint16(3))
	// Overlong 3-byte NUL: E0 80 is dead at once, before the third byte.
	f.Add([]byte("\xe0\x80\x80"), uint16(1), uint16(2))
	// Above U+10FFFF (F4 90): dead at the second byte.
	f.Add([]byte("\xf4\x90\x80\x80"), uint16(1), uint16(1))
	// The largest code point, U+10FFFF, cut after its lead byte.
	f.Add([]byte("\xf4\x8f\xbf\xbf"), uint16(1), uint16(3))
	// A text ending in an unfinished character: every write true, complete false.
	f.Add([]byte("κόσμε\xce"), uint16(3), uint16(11))
	// A lone continuation byte at a piece's start, after a finished character.
	f.Add([]byte("\xc2\xa9\x80"), uint16(2), uint16(2))
	// Bytes that never occur in UTF-8.
	f.Add([]byte("ok\xff"), uint16(0), uint16(0))
	// Long ASCII, which utf8.Valid takes eight bytes at a time, then an
	// unfinished character in the middle piece.
	f.Add([]byte("0123456789abcdef0123456789abcdef\xe2\x82\xac\xe2\x82"), uint16(33), uint16(35))
	f.Fuzz(func(t *testing.T, s []byte, i, j uint16) {
		a, b := int(i)%(len(s)+1), int(j)%(len(s)+1)
		if a > b {
			a, b = b, a
		}
		var v utf8Validator
		end := 0
		for _, p := range [][]byte{s[:a], s[a:b], s[b:]} {
			end += len(p)
			got := v.write(p)
			if want := fzExtendable(s[:end]); got != want {
				t.Fatalf("write %x (of %x, cut at %d,%d) = %v, but %x can become valid UTF-8: %v", p, s, a, b, got, s[:end], want)
			}
			if !got {
				return // nothing may follow a failed write
			}
		}
		if got, want := v.complete(), utf8.Valid(s); got != want {
			t.Fatalf("%x cut at %d,%d: complete = %v, utf8.Valid = %v", s, a, b, got, want)
		}
		v.reset()
		if got, want := v.write(s) && v.complete(), utf8.Valid(s); got != want {
			t.Fatalf("%x after reset: valid = %v, utf8.Valid = %v", s, got, want)
		}
	})
}

// ---------------------------------------------------------------------------
// FuzzMaskChunked

// FuzzMaskChunked masks data in two pieces, cut at a fuzzer-chosen point, with a
// fuzzer-chosen key and starting key position, and compares with a
// bytewise reference (RFC 6455 §5.3: octet i is XORed with key octet
// (pos+i) mod 4). The returned positions must chain, and bytes around the
// slice must not be touched.
func FuzzMaskChunked(f *testing.F) {
	// RFC 6455 §5.7's masked "Hello", aligned: unmasks to the ASCII text.
	f.Add([]byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}, uint32(0x3d21fa37), 0, uint16(5))
	// 17 bytes from key position 3: one byte to align, two 8-byte words, a tail.
	f.Add(bytes.Repeat([]byte{0xaa}, 17), uint32(0x04030201), 3, uint16(0))
	// Cut inside the first 8-byte word, so the second piece starts unaligned.
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint32(0xdeadbeef), 1, uint16(5))
	// Fewer bytes than it takes to align the key: the word loop never runs.
	f.Add([]byte{1, 2}, uint32(0x01020304), 1, uint16(1))
	// A starting position past 3 and one that is negative: only pos mod 4 counts.
	f.Add([]byte("position"), uint32(0x11223344), 7, uint16(3))
	f.Add([]byte("negative"), uint32(0x11223344), -1, uint16(4))
	// Empty input: the position must come back unchanged (mod 4).
	f.Add([]byte{}, uint32(0), 2, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos int, cut uint16) {
		var key [4]byte
		binary.BigEndian.PutUint32(key[:], k)
		c := int(cut) % (len(data) + 1)

		const guard = 9
		buf := make([]byte, guard+len(data)+guard)
		for i := range buf {
			buf[i] = 0x5a
		}
		copy(buf[guard:], data)
		b := buf[guard : guard+len(data)]
		p1 := maskBytes(b[:c], key, pos)
		if p1 != (pos+c)&3 {
			t.Fatalf("maskBytes(%d bytes, pos %d) returned %d, want %d", c, pos, p1, (pos+c)&3)
		}
		p2 := maskBytes(b[c:], key, p1)
		if p2 != (pos+len(data))&3 {
			t.Fatalf("maskBytes(%d bytes, pos %d) returned %d, want %d", len(data)-c, p1, p2, (pos+len(data))&3)
		}
		for i, x := range data {
			if want := x ^ key[(pos+i)&3]; b[i] != want {
				t.Fatalf("key %x pos %d cut %d: byte %d = %#x, want %#x (input %x, got %x)", key, pos, c, i, b[i], want, data, b)
			}
		}
		for i := range guard {
			if buf[i] != 0x5a || buf[len(buf)-1-i] != 0x5a {
				t.Fatalf("maskBytes wrote outside its slice: %x", buf)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// FuzzClosePayload

// fzWireCode reports whether a close code may travel in a close frame,
// from RFC 6455 §7.4.1-§7.4.2 and the IANA registry: 1000-1003 and
// 1007-1011 (RFC 6455), 1012-1014 (registered since), 3000-4999 (for
// libraries, frameworks and applications). 1004 is reserved, 1005, 1006
// and 1015 must never be sent, and the rest of 0-2999 is unassigned.
func fzWireCode(c CloseCode) bool {
	return 1000 <= c && c <= 1003 || 1007 <= c && c <= 1014 || 3000 <= c && c <= 4999
}

// FuzzClosePayload decodes arbitrary bytes as a close frame's payload.
// parseClosePayload must never panic; it must accept exactly the payloads
// RFC 6455 §5.5.1 and §7.4 allow (empty, or a code valid on the wire and a
// UTF-8 reason), failing the others with 1002 (1-byte payload, bad code) or
// 1007 (reason not UTF-8); what it accepts must round-trip through
// appendClosePayload, and checkCloseArgs must let this side send exactly
// the accepted codes and reasons that fit a control frame.
func FuzzClosePayload(f *testing.F) {
	// Empty payload: no code, reported as 1005.
	f.Add([]byte{})
	// A 1-byte payload: a protocol error.
	f.Add([]byte{0x03})
	// 1000 with a reason.
	f.Add([]byte("\x03\xe8bye"))
	// 1005 may never be sent: a protocol error even though it is defined.
	f.Add([]byte{0x03, 0xed})
	// 1014 (bad gateway, IANA registry): valid on the wire.
	f.Add([]byte{0x03, 0xf6})
	// 1015 (TLS handshake): never sent.
	f.Add([]byte{0x03, 0xf7})
	// 4999, the last application code, with a UTF-8 reason.
	f.Add([]byte("\x13\x87κόσμε"))
	// 5000: past the application range.
	f.Add([]byte{0x13, 0x88})
	// A valid code whose reason is not UTF-8: 1007, not 1002.
	f.Add([]byte("\x03\xe8\xc0\xaf"))
	// 2 + 124 bytes: more than a control frame can carry, so not sendable.
	f.Add(append([]byte{0x0b, 0xb8}, bytes.Repeat([]byte("r"), 124)...))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := parseClosePayload(p)

		var wantErr CloseCode // 0: accepted
		switch {
		case len(p) == 1:
			wantErr = CloseProtocolError
		case len(p) >= 2 && !fzWireCode(CloseCode(binary.BigEndian.Uint16(p))):
			wantErr = CloseProtocolError
		case len(p) >= 2 && !utf8.Valid(p[2:]):
			wantErr = CloseInvalidFramePayloadData
		}
		if wantErr != 0 {
			var pe *protocolError
			if !errors.As(err, &pe) || pe.code != wantErr {
				t.Fatalf("parseClosePayload(%x) = %d, %q, %v; want a %d protocolError", p, code, reason, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("parseClosePayload(%x): %v, want it accepted", p, err)
		}
		if len(p) == 0 {
			if code != CloseNoStatusReceived || reason != "" {
				t.Fatalf("parseClosePayload(empty) = %d, %q; want 1005, \"\"", code, reason)
			}
			return
		}
		if !code.validOnWire() || !fzWireCode(code) {
			t.Fatalf("parseClosePayload(%x) accepted code %d, which may not be sent", p, code)
		}
		if got := appendClosePayload(nil, code, reason); !bytes.Equal(got, p) {
			t.Fatalf("appendClosePayload(parseClosePayload(%x)) = %x", p, got)
		}
		if sendable := len(p) <= maxControlPayload; (checkCloseArgs(code, reason) == nil) != sendable {
			t.Fatalf("checkCloseArgs(%d, %d-byte reason) = %v, want sendable = %v", code, len(reason), checkCloseArgs(code, reason), sendable)
		}
	})
}

// ---------------------------------------------------------------------------
// FuzzServerStream and FuzzClientStream

// fzPipeConn is one end of a connection made of two net.Pipes, one per
// direction, so that the peer can end the direction it writes, as TCP's
// FIN does, and still read everything the Conn writes, as net.Pipe alone
// cannot. Reads come from r; writes, addresses and write deadlines go to
// the embedded w.
type fzPipeConn struct {
	net.Conn // w
	r        net.Conn
}

func (c fzPipeConn) Read(p []byte) (int, error)        { return c.r.Read(p) }
func (c fzPipeConn) SetReadDeadline(t time.Time) error { return c.r.SetReadDeadline(t) }
func (c fzPipeConn) SetDeadline(t time.Time) error {
	c.r.SetReadDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}
func (c fzPipeConn) Close() error {
	c.r.Close()
	return c.Conn.Close()
}

// fzFrame is one frame as fzNextFrame decodes it, payload unmasked.
type fzFrame struct {
	b0      byte // FIN, RSV, opcode as sent
	masked  bool
	length  uint64
	payload []byte // what the stream holds of it, unmasked; short if cut
}

var errFzShort = errors.New("stream ends inside the frame header")

// fzNextFrame decodes the frame at the start of b by RFC 6455 §5.2 alone:
// no rule other than the length's minimal form is applied. It returns the
// frame and the bytes after it; a frame whose payload the stream cuts is
// returned with what there is of it and no rest. errFzShort means b ends
// inside the header; a non-minimal length or one with its top bit set is
// reported as 1002.
func fzNextFrame(b []byte) (fzFrame, []byte, error) {
	if len(b) < 2 {
		return fzFrame{}, nil, errFzShort
	}
	f := fzFrame{b0: b[0], masked: b[1]&0x80 != 0}
	p := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return fzFrame{}, nil, errFzShort
		}
		f.length, p = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return fzFrame{}, nil, errFzShort
		}
		f.length, p = binary.BigEndian.Uint64(b[2:]), 10
	default:
		f.length = uint64(l)
	}
	var key []byte
	if f.masked {
		if len(b) < p+4 {
			return fzFrame{}, nil, errFzShort
		}
		key, p = b[p:p+4], p+4
	}
	if b[1]&0x7f == 126 && f.length < 126 || b[1]&0x7f == 127 && (f.length <= 0xffff || f.length>>63 != 0) {
		return f, nil, failWith(CloseProtocolError, "length not minimal")
	}
	b = b[p:]
	n := uint64(len(b))
	if f.length < n {
		n = f.length
	}
	f.payload = bytes.Clone(b[:n])
	for i := range f.payload {
		if key != nil {
			f.payload[i] ^= key[i%4]
		}
	}
	return f, b[n:], nil
}

// fzOutcome is how a connection that read a given stream must end.
type fzOutcome struct {
	msgs      []Message
	pings     [][]byte  // payloads of the pings read, in order
	code      CloseCode // Err's code
	peerClose bool      // code and reason come from the peer's close frame
	reason    string
}

// fzExpect reads stream as RFC 6455 says the receiving side must, the
// server's side when server is set (frames masked, §5.1) and the client's
// otherwise, with messages bounded by maxSize, and says how the connection
// ends once the stream is exhausted. It is a second, deliberately plain
// implementation of what readMessages does, to compare with.
func fzExpect(stream []byte, server bool, maxSize uint64) fzOutcome {
	var (
		out  fzOutcome
		open bool
		typ  MessageType
		msg  []byte
	)
	end := func(code CloseCode) fzOutcome { out.code = code; return out }
	for {
		f, rest, err := fzNextFrame(stream)
		if err == errFzShort {
			return end(CloseAbnormalClosure) // EOF between frames or in a header
		}
		if err != nil {
			return end(CloseProtocolError)
		}
		stream = rest
		cut := uint64(len(f.payload)) < f.length
		fin, rsv, op := f.b0&0x80 != 0, f.b0&0x70, f.b0&0x0f
		if f.masked != server || rsv != 0 {
			return end(CloseProtocolError) // §5.1; §5.2 with no extension
		}
		switch op {
		case 0x8, 0x9, 0xa: // close, ping, pong (§5.5)
			if !fin || f.length > 125 {
				return end(CloseProtocolError)
			}
			if cut {
				return end(CloseAbnormalClosure)
			}
			switch op {
			case 0x9:
				out.pings = append(out.pings, f.payload)
			case 0x8:
				p := f.payload
				switch {
				case len(p) == 0:
					out.peerClose = true
					return end(CloseNoStatusReceived)
				case len(p) == 1 || !fzWireCode(CloseCode(binary.BigEndian.Uint16(p))):
					return end(CloseProtocolError)
				case !utf8.Valid(p[2:]):
					return end(CloseInvalidFramePayloadData)
				}
				out.peerClose, out.reason = true, string(p[2:])
				return end(CloseCode(binary.BigEndian.Uint16(p)))
			}
			continue
		case 0x0: // continuation (§5.4)
			if !open {
				return end(CloseProtocolError)
			}
		case 0x1, 0x2:
			if open {
				return end(CloseProtocolError)
			}
			open, typ, msg = true, MessageType(op), []byte{}
		default: // reserved opcodes
			return end(CloseProtocolError)
		}
		if uint64(len(msg))+f.length > maxSize { // refused before reading
			return end(CloseMessageTooBig)
		}
		msg = append(msg, f.payload...)
		// §8.1: invalid text fails the connection as soon as it is known.
		if typ == MessageText && !fzExtendable(msg) {
			return end(CloseInvalidFramePayloadData)
		}
		if cut {
			return end(CloseAbnormalClosure)
		}
		if fin {
			if typ == MessageText && !utf8.Valid(msg) {
				return end(CloseInvalidFramePayloadData)
			}
			out.msgs = append(out.msgs, Message{Type: typ, Data: msg})
			open, msg = false, nil
		}
	}
}

const fzMaxMessageSize = 1024

// fzStream runs one Conn, a client's or a server's, on a pipe. Before
// reading anything the Conn sends the stream's first bytes (up to 8 KiB)
// as a binary message, which takes the write path through its framing,
// masking and buffering. Then the peer writes stream in pieces of the
// fuzzer's chosen size, ends its direction, and reads all the Conn writes.
// shape picks the piece size (low byte, 0 for one write) and the Conn's
// read and write buffers (16 << (high byte mod 9) bytes each).
func fzStream(t *testing.T, stream []byte, shape uint16, client bool) {
	if len(stream) > 1<<16 {
		return // keeps the mailbox bounds out of play (see below)
	}
	toConn, connIn := net.Pipe()    // the peer writes, the Conn reads
	connOut, fromConn := net.Pipe() // the Conn writes, the peer reads
	bufSize := 16 << ((shape >> 8) % 9)
	o := (&Options{
		MaxMessageSize: fzMaxMessageSize,
		// Never full for a stream under 64 KiB, so the reader never
		// waits for room and every message read is delivered.
		MailboxMessages: 1 << 16,
		ReadBufferSize:  bufSize,
		WriteBufferSize: bufSize,
	}).withDefaults()
	c := newConn(fzPipeConn{Conn: connOut, r: connIn}, nil, client, o, "", nil)

	var wg sync.WaitGroup
	wg.Add(2)
	var written []byte
	go func() { // the peer's reader
		defer wg.Done()
		written, _ = io.ReadAll(fromConn)
	}()
	sent := bytes.Clone(stream[:min(len(stream), 8<<10)])
	if err := c.Send(sent); err != nil {
		t.Fatalf("Send of %d bytes on a new connection: %v", len(sent), err)
	}
	if !bytes.Equal(sent, stream[:len(sent)]) {
		t.Fatalf("Send changed the caller's bytes")
	}
	go func() { // the peer's writer
		defer wg.Done()
		defer toConn.Close() // ends the Conn's input, as a FIN would
		piece := int(shape & 0xff)
		if piece == 0 {
			piece = len(stream)
		}
		for b := stream; len(b) > 0; {
			n := min(piece, len(b))
			if _, err := toConn.Write(b[:n]); err != nil {
				return // the Conn has closed
			}
			b = b[n:]
		}
	}()

	timer := time.NewTimer(fzBound)
	defer timer.Stop()
	select {
	case <-c.Done():
	case <-timer.C:
		toConn.Close()
		fromConn.Close()
		t.Fatalf("stream %x: the Conn is not done %v after its input ended", stream, fzBound)
	}
	idle := make(chan struct{})
	go func() { wg.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-timer.C:
		toConn.Close()
		fromConn.Close()
		t.Fatalf("stream %x: the Conn is done but the pipe is still in use", stream)
	}

	var got []Message
	var err error
	for {
		var m Message
		if m, err = c.Wait(); err != nil {
			break
		}
		got = append(got, m)
	}
	var ce *CloseError
	if !errors.As(err, &ce) || c.Err() != err {
		t.Fatalf("stream %x: Wait ended with %#v, Err = %#v; want the same *CloseError", stream, err, c.Err())
	}
	for i, m := range got {
		if len(m.Data) > fzMaxMessageSize || m.Type == MessageText && !utf8.Valid(m.Data) || m.Type != MessageText && m.Type != MessageBinary {
			t.Fatalf("stream %x: message %d is %v of %d bytes %q, over the limit or not UTF-8", stream, i, m.Type, len(m.Data), m.Data)
		}
	}

	want := fzExpect(stream, !client, fzMaxMessageSize)
	if ce.Code != want.code {
		t.Fatalf("stream %x: the connection ended with %v, want code %d", stream, ce, want.code)
	}
	if want.peerClose && ce.Reason != want.reason {
		t.Fatalf("stream %x: close reason %q, want the peer's %q", stream, ce.Reason, want.reason)
	}
	if !want.peerClose && !(ce.Code == CloseAbnormalClosure || ce.Code == CloseProtocolError || ce.Code == CloseInvalidFramePayloadData || ce.Code == CloseMessageTooBig) {
		t.Fatalf("stream %x: the Conn failed with %v, a code it has no cause to use", stream, ce)
	}
	if len(got) != len(want.msgs) {
		t.Fatalf("stream %x: %d messages delivered, want %d", stream, len(got), len(want.msgs))
	}
	for i := range got {
		if got[i].Type != want.msgs[i].Type || !bytes.Equal(got[i].Data, want.msgs[i].Data) {
			t.Fatalf("stream %x: message %d = %v %q, want %v %q", stream, i, got[i].Type, got[i].Data, want.msgs[i].Type, want.msgs[i].Data)
		}
	}
	fzCheckWritten(t, stream, sent, written, client, want, ce)
}

// fzCheckWritten checks what the Conn wrote: whole, final, unreserved
// frames (the last may be cut when the Conn drops the connection, 1006),
// masked only by a client (§5.1); first the binary message sent, byte for
// byte; pongs echoing pings in order,
// some possibly skipped (§5.5.3 lets a pong answer only the latest ping,
// and pongs owed when the close goes out are dropped); then exactly one
// close frame, carrying the code Err reports, unless the connection just
// dropped (1006), when no close frame is sent.
func fzCheckWritten(t *testing.T, stream, sent, written []byte, client bool, want fzOutcome, ce *CloseError) {
	pings := want.pings
	closes := 0
	for i, b := 0, written; len(b) > 0; i++ {
		f, rest, err := fzNextFrame(b)
		if (err == errFzShort || err == nil && uint64(len(f.payload)) < f.length) && ce.Code == CloseAbnormalClosure {
			// A Conn that drops the connection closes the socket under
			// a pong being written, which may leave it cut: the peer
			// has gone anyway, and no close handshake is owed.
			break
		}
		if err != nil || uint64(len(f.payload)) != f.length {
			t.Fatalf("stream %x: the Conn wrote a bad frame at %x: %v", stream, b, err)
		}
		b = rest
		if f.b0&0xf0 != 0x80 || f.masked != client {
			t.Fatalf("stream %x: the Conn wrote a frame with first byte %#x, masked %v", stream, f.b0, f.masked)
		}
		if i == 0 {
			if f.b0 != 0x82 || !bytes.Equal(f.payload, sent) {
				t.Fatalf("stream %x: the message sent went out as %#x %x, want binary %x", stream, f.b0, f.payload, sent)
			}
			continue
		}
		if closes > 0 {
			t.Fatalf("stream %x: the Conn wrote a frame after its close frame: %#x %q", stream, f.b0, f.payload)
		}
		switch f.b0 & 0x0f {
		case 0xa:
			for len(pings) > 0 && !bytes.Equal(pings[0], f.payload) {
				pings = pings[1:]
			}
			if len(pings) == 0 {
				t.Fatalf("stream %x: pong %q answers no ping read (pings %q)", stream, f.payload, want.pings)
			}
			pings = pings[1:]
		case 0x8:
			closes++
			p := f.payload
			switch {
			case ce.Code == CloseNoStatusReceived:
				if len(p) != 0 {
					t.Fatalf("stream %x: the Conn answered a close without a code with %x", stream, p)
				}
			case len(p) < 2 || CloseCode(binary.BigEndian.Uint16(p)) != ce.Code || !utf8.Valid(p[2:]) || len(p) > maxControlPayload:
				t.Fatalf("stream %x: the Conn ended with %v but its close frame says %x", stream, ce, p)
			case want.peerClose && string(p[2:]) != want.reason:
				t.Fatalf("stream %x: the Conn echoed reason %q, want %q", stream, p[2:], want.reason)
			}
		default:
			t.Fatalf("stream %x: the Conn wrote a frame with opcode %#x unasked", stream, f.b0&0x0f)
		}
	}
	if wantCloses := map[bool]int{true: 0, false: 1}[ce.Code == CloseAbnormalClosure]; closes != wantCloses {
		t.Fatalf("stream %x: the Conn ended with %v and wrote %d close frames, want %d", stream, ce, closes, wantCloses)
	}
}

// FuzzServerStream feeds a server Conn (made by newConn, as Upgrade makes
// it) arbitrary bytes as a client would send them after the handshake, in
// pieces of a fuzzer-chosen size, then ends the client's direction. The
// Conn must not panic, must be done within fzBound, must report through
// Err and Wait a *CloseError with the code fzExpect says (1006 for a
// stream that just ends, 1002, 1007 or 1009 for one it fails, the peer's
// code for a close frame), must deliver exactly the messages fzExpect
// finds (so each is at most MaxMessageSize and text is UTF-8), and must
// write the message it was given to send, then only pongs and that close
// frame (fzCheckWritten).
func FuzzServerStream(f *testing.F) {
	ping := clientFrame(0x89, "p")
	// RFC 6455 §5.7's masked "Hello", then a close 1000: the plain case.
	f.Add(append(rawFrame(0x81, []byte{0x37, 0xfa, 0x21, 0x3d}, []byte("Hello")), clientFrame(0x88, "\x03\xe8")...), uint16(0))
	// A ping between two fragments of a text message, all sent a byte at a time.
	f.Add(slices.Concat(clientFrame(0x01, "Hel"), ping, clientFrame(0x80, "lo")), uint16(1))
	// An unmasked frame from a client: 1002.
	f.Add(rawFrame(0x82, nil, []byte("x")), uint16(0))
	// A 3-byte character whose last byte is in the next fragment, with a
	// 16-byte read buffer.
	f.Add(slices.Concat(clientFrame(0x01, "ab\xe2\x82"), clientFrame(0x80, "\xac")), uint16(0x0003))
	// Invalid UTF-8 in a frame the stream then cuts: 1007, not 1006.
	f.Add(clientFrame(0x81, "ok\xc0\xafmore")[:10], uint16(0))
	// One byte over MaxMessageSize across two fragments: 1009.
	f.Add(slices.Concat(clientFrame(0x02, string(make([]byte, 1000))), clientFrame(0x80, string(make([]byte, 25)))), uint16(0x0140))
	// A close frame with a 1-byte payload: 1002.
	f.Add(clientFrame(0x88, "\x03"), uint16(0))
	// A stream that ends inside a header: 1006, nothing written.
	f.Add([]byte{0x81, 0xfe, 0x00}, uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, shape uint16) {
		fzStream(t, stream, shape, false)
	})
}

// FuzzClientStream is FuzzServerStream for a client Conn (as Dial makes
// it): the stream is what a server sends, whose frames must not be
// masked, and the Conn's own frames must be.
func FuzzClientStream(f *testing.F) {
	// RFC 6455 §5.7's unmasked "Hello", then a close 1001 with a reason.
	f.Add(slices.Concat(rawFrame(0x81, nil, []byte("Hello")), rawFrame(0x88, nil, []byte("\x03\xe9bye"))), uint16(0))
	// A masked frame from a server: 1002.
	f.Add(clientFrame(0x81, "Hello"), uint16(0))
	// RFC 6455 §5.7's 256-byte binary (16-bit length), a byte at a time.
	f.Add(rawFrame(0x82, nil, make([]byte, 256)), uint16(1))
	// Two pings and a fragmented binary message around them.
	f.Add(slices.Concat(rawFrame(0x09, nil, []byte("a")), rawFrame(0x02, nil, []byte("x")), rawFrame(0x89, nil, []byte("b")), rawFrame(0x80, nil, []byte("y"))), uint16(0))
	// A close frame with code 1005, which may not be sent: 1002.
	f.Add(rawFrame(0x88, nil, []byte{0x03, 0xed}), uint16(0))
	// A 64-bit length of 2^63: 1002 before anything else.
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, uint16(0))
	// A text message cut inside a 4-byte character: 1006.
	f.Add(rawFrame(0x81, nil, []byte("\xf0\x9f\x98\x80"))[:4], uint16(0))
	// An empty close: no code, 1005, answered with an empty close.
	f.Add(rawFrame(0x88, nil, nil), uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, shape uint16) {
		fzStream(t, stream, shape, true)
	})
}
