package websocket

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// CloseCode is a close status code, RFC 6455 §7.4, as registered with IANA
// (https://www.iana.org/assignments/websocket/websocket.xml#close-code-number).
type CloseCode uint16

// Close codes from RFC 6455 §7.4.1 and the IANA registry. 1005, 1006 and 1015
// never travel on the wire: they describe a close that carried no code, a
// connection that dropped, and a failed TLS handshake.
const (
	CloseNormalClosure           CloseCode = 1000
	CloseGoingAway               CloseCode = 1001
	CloseProtocolError           CloseCode = 1002
	CloseUnsupportedData         CloseCode = 1003
	CloseNoStatusReceived        CloseCode = 1005
	CloseAbnormalClosure         CloseCode = 1006
	CloseInvalidFramePayloadData CloseCode = 1007
	ClosePolicyViolation         CloseCode = 1008
	CloseMessageTooBig           CloseCode = 1009
	CloseMandatoryExtension      CloseCode = 1010
	CloseInternalServerErr       CloseCode = 1011
	CloseServiceRestart          CloseCode = 1012
	CloseTryAgainLater           CloseCode = 1013
	CloseBadGateway              CloseCode = 1014
	CloseTLSHandshake            CloseCode = 1015
)

var closeCodeNames = map[CloseCode]string{
	CloseNormalClosure:           "normal closure",
	CloseGoingAway:               "going away",
	CloseProtocolError:           "protocol error",
	CloseUnsupportedData:         "unsupported data",
	CloseNoStatusReceived:        "no status received",
	CloseAbnormalClosure:         "abnormal closure",
	CloseInvalidFramePayloadData: "invalid frame payload data",
	ClosePolicyViolation:         "policy violation",
	CloseMessageTooBig:           "message too big",
	CloseMandatoryExtension:      "mandatory extension",
	CloseInternalServerErr:       "internal server error",
	CloseServiceRestart:          "service restart",
	CloseTryAgainLater:           "try again later",
	CloseBadGateway:              "bad gateway",
	CloseTLSHandshake:            "TLS handshake",
}

// String returns the registry name of the code, or its number.
func (c CloseCode) String() string {
	if s, ok := closeCodeNames[c]; ok {
		return s
	}
	return "close code " + strconv.Itoa(int(c))
}

// validOnWire reports whether c may appear in a close frame (RFC 6455 §7.4):
// the defined codes except 1004, 1005, 1006 and 1015, codes 1012-1014 from
// the registry, and the application range 3000-4999.
func (c CloseCode) validOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// CloseError says how a connection ended. Conn.Err returns one once the
// connection is closed, and Wait returns it after the last queued message.
//
// Code is the code of the peer's close frame when the peer closed first or
// answered ours, the code this side sent when it failed the connection
// (1002, 1007, 1009, …), CloseNoStatusReceived for a close frame without a
// code, and CloseAbnormalClosure when the TCP connection ended without a
// close handshake.
type CloseError struct {
	Code   CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("websocket: closed: %d %v", uint16(e.Code), e.Code)
	}
	return fmt.Sprintf("websocket: closed: %d %v: %s", uint16(e.Code), e.Code, printable(e.Reason))
}

// CloseStatus returns the code of the *CloseError in err's chain, or 0.
func CloseStatus(err error) CloseCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// ErrClosed is returned by Send, Ping, CloseWith and the writer of
// SendStream once the connection is closing or closed. errors.Is(ErrClosed, net.ErrClosed) holds.
var ErrClosed = fmt.Errorf("websocket: connection closed: %w", net.ErrClosed)

// errInvalidUTF8 is returned by SendText for a string that is not UTF-8: a
// text message must be valid UTF-8 (RFC 6455 §5.6), so sending it would make
// the peer fail the connection with 1007.
var errInvalidUTF8 = errors.New("websocket: text message is not valid UTF-8")

// protocolError is a violation of RFC 6455 by the peer; it carries the close
// code with which this side fails the connection (RFC 6455 §7.1.7).
type protocolError struct {
	code CloseCode
	msg  string
}

func (e *protocolError) Error() string { return "websocket: " + e.msg }

func failWith(code CloseCode, msg string) *protocolError {
	return &protocolError{code: code, msg: msg}
}

// HandshakeError is an opening handshake that failed. On the server, Status
// is the HTTP status that was sent (400, 403, 405 or 426 for the request;
// 500 when the ResponseWriter cannot be hijacked; 0 when none was sent,
// as taking the connection over or writing the 101 failed) and Reason the
// one-line body; on the client, Status is the server's status (0 when the
// response never came) and Reason says what was wrong with it. A Reason
// quotes what the peer sent with control bytes escaped.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string {
	if e.Status == 0 {
		return "websocket: handshake failed: " + e.Reason
	}
	return fmt.Sprintf("websocket: handshake failed: %d %s: %s", e.Status, http.StatusText(e.Status), e.Reason)
}

// maxQuoteBytes bounds a quoted excerpt of what a peer sent (a body's
// first line, a header's value): enough to recognise it.
const maxQuoteBytes = 128

// quoteText returns s as a Go string literal, as strconv.Quote does, cut
// to at most max bytes of s (marked with "…" after the quote). Every error
// that repeats what a peer sent quotes it so, on both sides: the text may
// reach a log, a terminal or a browser, and control bytes (ESC, CR, BEL,
// C1) or invalid UTF-8 must not reach them raw.
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

// printable returns s as it is when it holds only printable text, and
// quoted otherwise: a close reason is the peer's choice, and may hold
// control bytes that must not reach a log or a terminal raw.
func printable(s string) string {
	if q := strconv.Quote(s); q[1:len(q)-1] != s {
		return q
	}
	return s
}

// runeStart returns the largest index not above n at which a rune of s
// starts, so that cutting there leaves whole runes.
func runeStart(s string, n int) int {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
