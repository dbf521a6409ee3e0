package websocket

import (
	"math/rand"
	"testing"
	"unicode/utf8"
)

var utf8Samples = []string{
	"",
	"hello",
	"κόσμε",
	"Hello-µ@ßöäüàá-UTF-8!!",
	"\xf0\x90\x80\x80", // U+10000
	"\xf4\x8f\xbf\xbf", // U+10FFFF
	"\xef\xbf\xbf",     // U+FFFF
	"\xed\x9f\xbf",     // U+D7FF
	"\xee\x80\x80",     // U+E000
	"\xc2\x80",         // U+0080
	// Invalid.
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", // surrogate
	"\xf4\x90\x80\x80", // above U+10FFFF
	"\xc0\xaf",         // overlong '/'
	"\xe0\x80\xaf",     // overlong
	"\xf0\x80\x80\xaf", // overlong
	"\xed\xbf\xbf",     // surrogate
	"\x80",             // lone continuation
	"\xbf",
	"\xfe", "\xff",
	"\xc2",         // truncated
	"\xe2\x82",     // truncated
	"\xf0\x9f\x98", // truncated
	"a\xc2b",
	"\xf8\x88\x80\x80\x80",
	"κόσμε\xce",
}

// TestUTF8ValidatorEverySplit feeds each sample in two and three pieces at
// every split point and compares with utf8.Valid.
func TestUTF8ValidatorEverySplit(t *testing.T) {
	for _, s := range utf8Samples {
		want := utf8.ValidString(s)
		b := []byte(s)
		for i := 0; i <= len(b); i++ {
			for j := i; j <= len(b); j++ {
				var v utf8Validator
				got := v.write(b[:i]) && v.write(b[i:j]) && v.write(b[j:]) && v.complete()
				if got != want {
					t.Fatalf("%x split at %d,%d: valid = %v, want %v", b, i, j, got, want)
				}
			}
		}
	}
}

// TestUTF8ValidatorFailsFast checks that text fails on the first piece
// that cannot be completed into valid UTF-8, before the message ends.
func TestUTF8ValidatorFailsFast(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first string
	}{
		{"above U+10FFFF after two bytes", "κόσμε\xf4\x90"},
		{"surrogate after two bytes", "\xed\xa0"},
		{"overlong after two bytes", "\xe0\x80"},
		{"overlong 4-byte", "\xf0\x80"},
		{"invalid lead byte", "ab\xf5"},
		{"lone continuation", "ab\x80"},
		{"C0", "\xc0"},
	} {
		var v utf8Validator
		if v.write([]byte(tc.first)) {
			t.Errorf("%s: write(%x) = true, want false at once", tc.name, tc.first)
		}
	}
	var v utf8Validator
	if !v.write([]byte("κόσμε\xf4\x8f")) || v.complete() {
		t.Error("valid prefix ending inside a character: want write true, complete false")
	}
}

func TestUTF8ValidatorRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alphabet := []byte("a\x80\xbf\xc2\xdf\xe0\xed\xef\xf0\xf4\xf5\x90\x9f\xa0")
	for range 20000 {
		b := make([]byte, r.Intn(12))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		var v utf8Validator
		ok := true
		for i := 0; i < len(b) && ok; {
			n := 1 + r.Intn(4)
			n = min(n, len(b)-i)
			ok = v.write(b[i : i+n])
			i += n
		}
		if got, want := ok && v.complete(), utf8.Valid(b); got != want {
			t.Fatalf("%x: valid = %v, want %v", b, got, want)
		}
	}
}

func BenchmarkUTF8Validator(b *testing.B) {
	p := []byte("Hello, κόσμε! ")
	for len(p) < 16<<10 {
		p = append(p, p...)
	}
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for range b.N {
		var v utf8Validator
		if !v.write(p) {
			b.Fatal("invalid")
		}
	}
}
