package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	// maxQuoteBytes bounds a quoted excerpt of what a peer sent (a body's
	// first line, a header's value): enough to recognise it.
	maxQuoteBytes = 128
)

// quoteText returns s as a Go string literal, as strconv.Quote does, cut
// to at most max bytes of s (marked with "…" after the quote).
func quoteText(s string, max int) string {
	cut := len(s) > max
	if cut {
		s = s[:runeStart(s, max)]
	}
	q := strconv.Quote(s)
	if cut {
		q += "…"
	}
	return q
}

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

// runeStart returns the largest index not above n at which a rune of s
// starts, so that cutting there leaves whole runes.
func runeStart(s string, n int) int {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// fail describes a failed step; if the handshake's time is up or its
// context has ended, that is the failure, whatever error it caused.
func (d *dialer) fail(step string, err error) error {
	if d.expired(err) {
		err = d.ctxErr()
	}
	return &dialError{url: redactURL(d.u), step: step, err: err}
}

// expired reports whether the handshake has ended by its deadline or its
// context, given err, the error of the step that failed.
func (d *dialer) expired(err error) bool {
	return d.ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(d.deadline)
}

// readFailed describes a response that could not be read: an I/O error
// (EOF becomes io.ErrUnexpectedEOF) or a malformed or oversized response,
// which is a *HandshakeError. from says whose response it was, if not the
// server's.
func (d *dialer) readFailed(lr *limitedReader, step, from string, err error) error {
	switch {
	case d.expired(lr.err):
		return d.fail(step, err)
	case lr.err == errResponseTooLarge:
		return &HandshakeError{Reason: "response headers" + from + " longer than " + strconv.Itoa(maxResponseHeaderBytes) + " bytes"}
	case lr.err == io.EOF:
		return d.fail(step, fmt.Errorf("connection closed before the response ended: %w", io.ErrUnexpectedEOF))
	case lr.err != nil:
		return d.fail(step, err)
	}
	// net/http's message may hold the malformed line as it came.
	return &HandshakeError{Reason: "malformed response" + from + ": " + quoteText(err.Error(), maxQuoteBytes)}
}

// ctxErr is the error of a handshake whose time is up or whose context
// ended: the context's error, or else the handshake timeout.
func (d *dialer) ctxErr() error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if d.ctxFirst {
		return context.DeadlineExceeded // the context's timer has yet to fire
	}
	return &timeoutError{d.o.HandshakeTimeout}
}

// timeoutError is a handshake that did not finish within HandshakeTimeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string   { return "handshake not done within " + e.d.String() }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// Is makes the error match context.DeadlineExceeded, as a deadline on the
// caller's context would.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
