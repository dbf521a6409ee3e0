package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"

	"github.com/zerows/websocket"
)

// defaultMaxSize (16 MiB) is the largest message the echo example accepts,
// so that whatever it takes, it can send back to this client.
const defaultMaxSize = 16 << 20

// sizeFlag is a size in bytes, given as a number with an optional KiB,
// MiB or GiB suffix.
type sizeFlag int64

func (s *sizeFlag) String() string {
	switch n := int64(*s); {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(n, 10)
	}
}

func (s *sizeFlag) Set(v string) error {
	shift := 0
	for suffix, sh := range map[string]int{"KiB": 10, "MiB": 20, "GiB": 30} {
		if len(v) > len(suffix) && strings.EqualFold(v[len(v)-len(suffix):], suffix) {
			v, shift = v[:len(v)-len(suffix)], sh
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > 1<<(62-shift) {
		return errors.New("want a positive number of bytes, e.g. 1048576, 64KiB or 16MiB")
	}
	*s = sizeFlag(n << shift)
	return nil
}

// checkURL returns s if it is a URL Dial can use, or an error that says
// what to type instead: the common mistakes are a bare host:port and an
// http:// URL.
func checkURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		suggestion := "ws://" + s
		if !strings.Contains(s, "/") {
			suggestion += "/"
		}
		return "", fmt.Errorf("%q is not a URL: did you mean %s ?", s, suggestion)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %v", s, errors.Unwrap(err))
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http", "https":
		ws := *u
		ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
		return "", fmt.Errorf("a WebSocket URL starts with ws:// (wss:// with TLS), not %s://: did you mean %s ?", u.Scheme, ws.String())
	default:
		return "", fmt.Errorf("URL scheme %q is not ws:// or wss:// (wss:// is ws:// with TLS)", u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("URL %q has no host: want ws://HOST:PORT/PATH", s)
	}
	return s, nil
}

// dialError says why Dial failed, in one line with one "dial" at most,
// and what to try when the mistake is a common one.
func dialError(rawURL string, err error) string {
	u, _ := url.Parse(rawURL) // checked by checkURL
	var (
		he  *websocket.HandshakeError
		rhe tls.RecordHeaderError
		op  *net.OpError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no WebSocket answer from %s within -timeout", u.Host)
	case errors.Is(err, context.Canceled):
		return "interrupted while connecting to " + u.Host
	case errors.As(err, &rhe):
		return fmt.Sprintf("%s does not speak TLS: try ws:// instead of wss://", u.Host)
	case errors.As(err, &he):
		msg := "the server refused the WebSocket handshake: " + strings.TrimPrefix(he.Error(), "websocket: handshake failed: ")
		if u.Scheme == "ws" && strings.Contains(he.Reason, "HTTPS server") {
			msg += "; it speaks TLS: try wss:// instead of ws://"
		}
		return msg
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("cannot connect to %s: connection refused (is the server running, and on this port?)", u.Host)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot connect to %s: %v", u.Host, op.Err)
	}
	return err.Error()
}

// describeClose says how the connection ended, and for 1009 (message too
// big) which side refused which message: the close reason names the limit,
// and this client knows its own and the longest line it sent.
func describeClose(ce *websocket.CloseError, maxSize, longestSent int64) string {
	s := fmt.Sprintf("closed: %d %v", uint16(ce.Code), ce.Code)
	if ce.Reason != "" {
		s += ": " + ce.Reason
	}
	var limit int64
	if ce.Code != websocket.CloseMessageTooBig {
		return s
	}
	if _, err := fmt.Sscanf(ce.Reason, "message longer than %d bytes", &limit); err != nil {
		return s
	}
	switch {
	case longestSent > limit:
		s += fmt.Sprintf("\nclient: the server refused a line of %d bytes: its limit is %d bytes", longestSent, limit)
	case limit == maxSize:
		s += fmt.Sprintf("\nclient: this client refused a message from the server longer than -max-size (%d bytes); raise -max-size", maxSize)
	}
	return s
}
