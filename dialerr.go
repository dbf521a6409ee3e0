package websocket

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"
)

// dialError is a failed step of Dial. Its message names the URL without
// the parts that may hold secrets (see redactURL) and shows the cause with
// control characters escaped: the cause may repeat what a server or proxy
// sent (a name in a TLS certificate, a malformed header line), and bytes
// such as ESC, CR or BEL must not reach a log or a terminal raw.
type dialError struct {
	url  string // redacted; "" when the URL did not parse
	step string // what failed; may be ""
	err  error
}

func (e *dialError) Error() string {
	b := []byte("websocket: dial")
	if e.url != "" {
		b = append(b, ' ')
		b = appendEscaped(b, e.url, maxErrorTextBytes)
	}
	b = append(b, ": "...)
	if e.step != "" {
		b = append(b, e.step...)
		b = append(b, ": "...)
	}
	return string(appendEscaped(b, e.err.Error(), maxErrorTextBytes))
}

func (e *dialError) Unwrap() error { return e.err }

const (
	// maxErrorTextBytes bounds each part of a dial error's message taken
	// from elsewhere (the URL, the cause): room for any honest one, such
	// as a TLS error naming a certificate's hosts.
	maxErrorTextBytes = 1024
)

// appendEscaped appends s to b with what strconv.Quote escapes escaped
// (control characters, invalid UTF-8, other non-printing runes), but not
// quotes or backslashes, so that ordinary text reads as it is; s is cut to
// at most max bytes, marked with "…".
func appendEscaped(b []byte, s string, max int) []byte {
	cut := len(s) > max
	if cut {
		s = s[:runeStart(s, max)]
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c >= ' ' && c < 0x7f {
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\x`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		case strconv.IsPrint(r):
			b = append(b, s[i:i+n]...)
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u009b'
			b = append(b, q[1:len(q)-1]...)
		}
		i += n
	}
	if cut {
		b = append(b, "…"...)
	}
	return b
}

// timeoutError is a handshake that did not finish within HandshakeTimeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string   { return "handshake not done within " + e.d.String() }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// Is makes the error match context.DeadlineExceeded, as a deadline on the
// caller's context would.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
