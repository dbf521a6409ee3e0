package websocket

import "unicode/utf8"

// utf8Validator checks text that arrives in pieces (fragments, and reads
// within a fragment) and fails on the first piece that cannot be part of
// valid UTF-8, not at the end of the message: RFC 6455 §8.1 asks to fail
// the connection as soon as the text is known to be invalid.
//
// unicode/utf8 cannot do this alone: utf8.Valid rejects a prefix that ends
// inside a character. So the validator hands complete characters to
// utf8.Valid, which is fast on ASCII, and keeps the last incomplete one,
// checking that it can still become a valid character.
type utf8Validator struct {
	partial [utf8.UTFMax]byte
	n       int // bytes held in partial
}

// write reports whether the text seen so far, p included, is a prefix of
// valid UTF-8.
func (v *utf8Validator) write(p []byte) bool {
	for v.n > 0 && len(p) > 0 {
		v.partial[v.n] = p[0]
		v.n++
		p = p[1:]
		if !validPrefix(v.partial[:v.n]) {
			return false
		}
		if v.n == seqLen(v.partial[0]) {
			v.n = 0
		}
	}
	if len(p) == 0 {
		return true
	}
	// Find where the last, possibly incomplete, character starts: a lead
	// byte among the last three.
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		if b := p[i]; b >= 0xc0 {
			if len(p)-i < seqLen(b) {
				cut = i
			}
			break
		} else if b < 0x80 {
			break
		}
	}
	if !utf8.Valid(p[:cut]) || !validPrefix(p[cut:]) {
		return false
	}
	v.n = copy(v.partial[:], p[cut:])
	return true
}

// complete reports whether the text written so far ends on a character
// boundary; together with write it means the whole text is valid.
func (v *utf8Validator) complete() bool { return v.n == 0 }

// reset prepares v for a new message.
func (v *utf8Validator) reset() { v.n = 0 }

// seqLen returns the length of the UTF-8 sequence that lead byte b starts,
// or 0 if b cannot start one.
func seqLen(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b >= 0xc2 && b <= 0xdf:
		return 2
	case b >= 0xe0 && b <= 0xef:
		return 3
	case b >= 0xf0 && b <= 0xf4:
		return 4
	}
	return 0
}

// validPrefix reports whether p, no longer than one character, can be
// completed into a valid character. The second byte's range depends on the
// lead byte (RFC 3629 §4), which rules out overlong forms, surrogates and
// code points above U+10FFFF as early as possible.
func validPrefix(p []byte) bool {
	if len(p) == 0 {
		return true
	}
	n := seqLen(p[0])
	if n == 0 || len(p) > n {
		return false
	}
	for i := 1; i < len(p); i++ {
		lo, hi := byte(0x80), byte(0xbf)
		if i == 1 {
			switch p[0] {
			case 0xe0:
				lo = 0xa0
			case 0xed:
				hi = 0x9f
			case 0xf0:
				lo = 0x90
			case 0xf4:
				hi = 0x8f
			}
		}
		if p[i] < lo || p[i] > hi {
			return false
		}
	}
	return true
}
