package autobahn

import (
	"fmt"
	"unicode/utf8"

	"github.com/zerows/websocket/internal/wstest"
)

// Section 6: UTF-8 Handling.
func cases6() []*kase {
	valid := func(c *kase, payload []byte) *kase {
		c.want = evs(msgTextB(payload))
		return c
	}
	invalid := func(c *kase) *kase {
		c.mode, c.codes = closeByTestee, codes(1007)
		return c
	}
	kosme := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
	hello := []byte("Hello-µ@ßöäüàá-UTF-8!!")
	bad := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")

	cs := []*kase{
		valid(&kase{id: "6.1.1", desc: "Send text message of length 0.", send: sendFrames(oneChop, textFrame(""))}, []byte{}),
		valid(&kase{id: "6.1.2", desc: "Send fragmented text message, 3 fragments each of length 0.",
			send: sendFrames(oneChop, frame(wstest.OpText, false, nil), frame(wstest.OpContinuation, false, nil), frame(wstest.OpContinuation, true, nil))},
			[]byte{}),
		valid(&kase{id: "6.1.3", desc: "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
			send: sendFrames(oneChop, frame(wstest.OpText, false, nil), frame(wstest.OpContinuation, false, []byte("middle frame payload")), frame(wstest.OpContinuation, true, nil))},
			[]byte("middle frame payload")),
		valid(&kase{id: "6.2.1", desc: "Send a valid UTF-8 text message in one fragment.", send: sendFrames(oneChop, frame(wstest.OpText, true, hello))}, hello),
		valid(&kase{id: "6.2.2", desc: "Send a valid UTF-8 text message in two fragments, fragmented on a code point boundary.",
			send: sendFrames(oneChop, frame(wstest.OpText, false, []byte("Hello-µ@ßöä")), frame(wstest.OpContinuation, true, []byte("üàá-UTF-8!!")))},
			hello),
		valid(&kase{id: "6.2.3", desc: "Send a valid UTF-8 text message in fragments of 1 octet, ending inside code points.",
			send: sendFrames(oneChop, fragments(wstest.OpText, hello, 1)...)}, hello),
		valid(&kase{id: "6.2.4", desc: "Send the valid UTF-8 text κόσμε in fragments of 1 octet, ending inside code points.",
			send: sendFrames(oneChop, fragments(wstest.OpText, kosme, 1)...)}, kosme),
		invalid(&kase{id: "6.3.1", desc: "Send invalid UTF-8 text message unfragmented.", send: sendFrames(oneChop, frame(wstest.OpText, true, bad))}),
		invalid(&kase{id: "6.3.2", desc: "Send invalid UTF-8 text message in fragments of 1 octet.",
			send: sendFrames(oneChop, fragments(wstest.OpText, bad, 1)...)}),
	}

	// Extra: valid text whose multi-octet code points are cut into three or
	// four fragments, so that some fragment holds only continuation octets.
	mixed := []byte("κόσμε€𤭢!")
	for n := 1; n <= 3; n++ {
		cs = append(cs, valid(&kase{id: fmt.Sprintf("x6.2.%d", n),
			desc: fmt.Sprintf("Send valid UTF-8 text % x in fragments of %d octets.", mixed, n),
			send: sendFrames(oneChop, fragments(wstest.OpText, mixed, n)...)}, mixed))
	}

	// 6.4.x: fail fast. PART1 is valid, PART2 makes the message invalid,
	// PART3 is the rest; the testee must fail after PART2, before PART3.
	a := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64")
	cs = append(cs,
		failFastFrames("6.4.1", "in 3 frames: PART2 is U+110000 in the UTF-8 integer encoding (F4 90 80 80)", a, 11, 15),
		failFastFrames("6.4.2", "in 3 frames: PART2 is only the octet that makes the payload invalid (90)", a, 12, 13),
		failFastChops("6.4.3", "in 3 chops of one frame: PART2 is F4 90 80 80", a, 11, 15),
		failFastChops("6.4.4", "in 3 chops of one frame: PART2 is only the octet 90", a, 12, 13),
	)
	// Every split point, for 6.4.1's payload and for one whose invalid
	// sequence is a UTF-16 surrogate (ED A0 80): the message is cut at k,
	// and again right after the first octet that makes it invalid.
	u := []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")
	for _, sp := range []struct {
		tag     string
		payload []byte
	}{{"s", a}, {"u", u}} {
		d := invalidAt(sp.payload)
		for k := 1; k < len(sp.payload); k++ {
			end := max(k, d)
			cs = append(cs,
				failFastFrames(fmt.Sprintf("6.4.1%s.%d", sp.tag, k), fmt.Sprintf("in frames cut at octet %d and %d", k, end), sp.payload, k, end),
				failFastChops(fmt.Sprintf("6.4.3%s.%d", sp.tag, k), fmt.Sprintf("in chops of one frame cut at octet %d and %d", k, end), sp.payload, k, end))
		}
	}

	// 6.5-6.23: the UTF-8 decoder test sequences, one text frame each.
	for i, group := range utf8Sequences() {
		for j, s := range group.seqs {
			id := fmt.Sprintf("6.%d.%d", i+5, j+1)
			payload := []byte(s)
			ok := utf8.Valid(payload)
			if group.validity != nil {
				ok = group.validity[j]
			}
			c := &kase{id: id, send: sendFrames(oneChop, frame(wstest.OpText, true, payload))}
			if ok {
				c.desc = fmt.Sprintf("%s: valid UTF-8 % x in one fragment.", group.name, payload)
				valid(c, payload)
			} else {
				c.desc = fmt.Sprintf("%s: invalid UTF-8 % x in one fragment.", group.name, payload)
				invalid(c)
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// fragments cuts payload into a message of n-octet frames.
func fragments(op byte, payload []byte, n int) []wstest.Frame {
	var fs []wstest.Frame
	for first := true; first || len(payload) > 0; first = false {
		k := min(n, len(payload))
		o := byte(wstest.OpContinuation)
		if first {
			o = op
		}
		fs = append(fs, frame(o, k == len(payload), payload[:k]))
		payload = payload[k:]
	}
	return fs
}

// invalidAt returns the length of the shortest prefix of p that no valid
// UTF-8 text can start with (len(p)+1 if there is none).
func invalidAt(p []byte) int {
	for n := 1; n <= len(p); n++ {
		if !validPrefix(p[:n]) {
			return n
		}
	}
	return len(p) + 1
}

// validPrefix reports whether some valid UTF-8 text starts with b.
func validPrefix(b []byte) bool {
	for len(b) > 0 {
		if !utf8.FullRune(b) {
			// unicode/utf8 reports an incomplete sequence as not full only
			// while its octets so far are a valid start.
			return true
		}
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			return false
		}
		b = b[n:]
	}
	return true
}

// failFastFrames sends payload as a text message in up to 3 frames cut at
// octets k and end (payload[:end] being the shortest invalid prefix, or k if
// later). After payload[:k] the testee must stay quiet if that part is still
// valid; once the invalid octet is in, it must fail with 1007 before the
// last frame is sent.
func failFastFrames(id, how string, payload []byte, k, end int) *kase {
	return &kase{
		id:   id,
		desc: "Send invalid UTF-8 text message " + how + "; the testee must fail fast, before the last part is sent.",
		send: func(p *peer) {
			var first, second, rest []byte
			op := byte(wstest.OpText)
			frameOf := func(b []byte, fin bool) []byte {
				f := frame(op, fin, b)
				op = wstest.OpContinuation
				if p.client {
					f.Masked, f.Key = true, wstest.NewKey()
				}
				return f.Encode()
			}
			if validPrefix(payload[:k]) {
				first = frameOf(payload[:k], false)
				second = frameOf(payload[k:end], false)
			} else {
				second = frameOf(payload[:k], false)
			}
			rest = frameOf(payload[max(k, end):], true)
			p.failFast(first, second, rest)
		},
		mode: closeByTestee, codes: codes(1007),
	}
}

// failFastChops is failFastFrames with one frame whose octets are written in
// up to 3 chops.
func failFastChops(id, how string, payload []byte, k, end int) *kase {
	return &kase{
		id:   id,
		desc: "Send invalid UTF-8 text message " + how + "; the testee must fail fast, before the last chop is sent.",
		send: func(p *peer) {
			f := frame(wstest.OpText, true, payload)
			if p.client {
				f.Masked, f.Key = true, wstest.NewKey()
			}
			raw := f.Encode()
			h := len(raw) - len(payload)
			if validPrefix(payload[:k]) {
				p.failFast(raw[:h+k], raw[h+k:h+end], raw[h+end:])
			} else {
				p.failFast(nil, raw[:h+k], raw[h+k:])
			}
		},
		mode: closeByTestee, codes: codes(1007),
	}
}

type utf8Group struct {
	name     string
	seqs     []string
	validity []bool // nil: valid exactly when utf8.Valid says so
}

// utf8Sequences lists Autobahn's cases 6.5 to 6.23 in order: Markus Kuhn's
// UTF-8 decoder test sequences, as the test suite's case6_x_x.py builds them.
func utf8Sequences() []utf8Group {
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	var prefixes []string
	var prefixValid []bool
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, kosme[:i])
		prefixValid = append(prefixValid, utf8.ValidString(kosme[:i]))
	}
	var cont []byte
	for c := 0x80; c < 0xbf; c++ { // 0x80..0xbe, as case6_x_x.py's xrange
		cont = append(cont, byte(c))
	}
	var lonely []string
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var s []byte
		for c := r[0]; c < r[1]; c++ {
			s = append(s, byte(c), 0x20)
		}
		lonely = append(lonely, string(s))
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	var concat string
	for _, m := range missing {
		concat += m
	}
	nonchars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"}
	for _, z1 := range []string{"\xf0", "\xf1", "\xf2", "\xf3", "\xf4"} {
		for _, z2 := range []string{"\x8f", "\x9f", "\xaf", "\xbf"} {
			if z1 == "\xf4" && z2 != "\x8f" {
				continue // above U+10FFFF
			}
			for _, z3 := range []string{"\xbe", "\xbf"} {
				zz := z1 + z2 + "\xbf" + z3
				if zz == "\xf0\x8f\xbf\xbe" || zz == "\xf0\x8f\xbf\xbf" {
					continue // overlong
				}
				nonchars = append(nonchars, zz)
			}
		}
	}
	return []utf8Group{
		{name: "Some valid UTF-8 sequences", seqs: []string{"hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme}},
		{name: "All prefixes of a valid UTF-8 string that contains multi-byte code points", seqs: prefixes, validity: prefixValid},
		{name: "First possible sequence of a certain length", seqs: []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{name: "First possible sequence length 5/6 (invalid codepoints)", seqs: []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{name: "Last possible sequence of a certain length", seqs: []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{name: "Last possible sequence length 4/5/6 (invalid codepoints)", seqs: []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{name: "Other boundary conditions", seqs: []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80"}},
		{name: "Unexpected continuation bytes", seqs: []string{"\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", string(cont)}},
		{name: "Lonely start characters", seqs: lonely},
		{name: "Sequences with last continuation byte missing", seqs: missing},
		{name: "Concatenation of incomplete sequences", seqs: []string{concat}},
		{name: "Impossible bytes", seqs: []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{name: "Examples of an overlong ASCII character", seqs: []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{name: "Maximum overlong sequences", seqs: []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{name: "Overlong representation of the NUL character", seqs: []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{name: "Single UTF-16 surrogates", seqs: []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{name: "Paired UTF-16 surrogates", seqs: []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{name: "Non-character code points (valid UTF-8)", seqs: nonchars},
		{name: "Unicode specials (i.e. replacement char)", seqs: []string{"\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"}},
	}
}
