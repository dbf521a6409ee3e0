package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Upgrade answers the WebSocket opening handshake in r (RFC 6455 §4.2) and
// returns the connection. If the request is not a valid upgrade, or its
// Origin is not allowed, Upgrade writes the HTTP error itself (400, 403,
// 405, or 426 with "Sec-WebSocket-Version: 13"; 500 when w cannot hand
// over the connection, neither itself nor through an Unwrap method, or,
// over HTTP/2, cannot flush) with a one-line reason, and returns a
// *HandshakeError. Headers already set on w, such as Set-Cookie, are sent
// with the 101 response (200 over HTTP/2), except those of the
// handshake itself and those that frame a body (Content-Length,
// Transfer-Encoding, Trailer). After a successful Upgrade, w must not be
// used, and the caller must Close the connection.
//
// Over HTTP/2, Upgrade also serves WebSocket as RFC 8441 defines it: an
// extended CONNECT request with ":protocol: websocket" gets 200 (no
// Sec-WebSocket-Key or Accept; Sec-WebSocket-Version 13, Origin,
// subprotocols and permessage-deflate as over HTTP/1.1), and the
// connection runs on the request's stream, which nothing can hijack: the
// request body brings the peer's frames and the flushed response carries
// this side's. The stream ends when the HTTP handler returns, so a handler
// that calls Upgrade itself must not return while it uses the connection
// (Accept, Require and Middleware see to it): once it has, reading and
// writing fail with an error and the connection ends as dropped (1006).
// Ending the connection normally ends the stream with END_STREAM when the
// handler returns, like the TCP FIN it stands for (RFC 8441 §5); one
// failed in the middle of a write resets it (RST_STREAM).
//
// Go's HTTP/2 server offers extended CONNECT only when the process starts
// with GODEBUG=http2xconnect=1 in its environment (checked with Go 1.26;
// net/http reads it once, at initialisation, so setting it from main is
// too late). Browsers then open wss:// WebSockets on the page's
// HTTP/2 connection; without it they fall back to HTTP/1.1 upgrades, which
// Upgrade serves as always.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *Options) (*Conn, error) {
	o := opts.withDefaults()
	if herr := checkRequest(r, o); herr != nil {
		reject(w, herr)
		return nil, herr
	}
	subprotocol := selectSubprotocol(r, o.Subprotocols)
	extensions, negotiated, compress := acceptDeflate(r.Header[hdrExtensions], o.Compression)
	if isExtendedConnect(r) {
		var d *deflater
		if compress {
			d = newDeflater(negotiated, o)
		}
		return upgradeStream(w, r, o, subprotocol, extensions, d)
	}
	// The ResponseController finds Hijack through middleware that wraps w
	// and offers Unwrap, as well as on w itself.
	nc, brw, err := http.NewResponseController(w).Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		// Nothing was taken over: w can still answer.
		herr := &HandshakeError{http.StatusInternalServerError, fmt.Sprintf(
			"the connection cannot be taken over: the ResponseWriter (%T) has no Hijack method, itself or through Unwrap", w)}
		reject(w, herr)
		return nil, herr
	}
	if err != nil {
		return nil, &HandshakeError{Reason: "hijack: " + err.Error()}
	}

	// The server's timeouts no longer apply; the handshake's own bounds
	// the write (nothing reads meanwhile), and then none.
	nc.SetDeadline(time.Now().Add(o.HandshakeTimeout))
	if err := writeSwitching(nc, brw.Writer, r.Header[hdrKey][0], subprotocol, extensions, w.Header()); err != nil {
		nc.Close()
		return nil, &HandshakeError{Reason: "writing the response: " + err.Error()}
	}
	nc.SetDeadline(time.Time{})
	var d *deflater
	if compress {
		d = newDeflater(negotiated, o)
	}
	return newConnDeflate(nc, bufferedBytes(brw.Reader), false, o, subprotocol, r, d), nil
}

// writeSwitching writes the 101 response to nc through bw, the hijacked
// connection's writer, whose buffer it reuses: the status line and the
// handshake's headers in one append, then any headers the handler set
// (such as Set-Cookie), never the handshake's own nor framing headers.
func writeSwitching(nc net.Conn, bw *bufio.Writer, key, subprotocol, extensions string, extra http.Header) error {
	bw.Reset(nc)
	b := bw.AvailableBuffer()
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = appendAcceptKey(b, key)
	if subprotocol != "" {
		b = append(b, "\r\nSec-WebSocket-Protocol: "...)
		b = append(b, subprotocol...)
	}
	if extensions != "" {
		b = append(b, "\r\nSec-WebSocket-Extensions: "...)
		b = append(b, extensions...)
	}
	b = append(b, "\r\n"...)
	bw.Write(b)
	if len(extra) > 0 {
		extra.WriteSubset(bw, excludedResponseHeaders(extra))
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

// excludedResponseHeaders returns the keys of h that a 101 response must
// not carry from the handler: the handshake's own (Upgrade, Connection and
// every Sec-WebSocket-* field, which Upgrade writes itself or does not
// negotiate) and the framing ones (Content-Length, Transfer-Encoding,
// Trailer, and net/http's "Trailer:" keys), which make no sense on a
// response without a body and would tell a proxy to expect one. Keys
// compare case-insensitively: a handler may have set a lower-case key
// directly in the map, where Header.Set would have made it canonical.
// The usual header, with no such key, costs no allocation.
func excludedResponseHeaders(h http.Header) map[string]bool {
	var exclude map[string]bool
	for k := range h {
		if !isExcludedResponseHeader(k) {
			continue
		}
		if exclude == nil {
			exclude = make(map[string]bool)
		}
		exclude[k] = true
	}
	return exclude
}

func isExcludedResponseHeader(k string) bool {
	const wsPrefix = "Sec-WebSocket-"
	if len(k) >= len(wsPrefix) && strings.EqualFold(k[:len(wsPrefix)], wsPrefix) {
		return true
	}
	if len(k) > len(http.TrailerPrefix) && strings.EqualFold(k[:len(http.TrailerPrefix)], http.TrailerPrefix) {
		return true
	}
	for _, name := range [...]string{"Upgrade", "Connection", "Content-Length", "Transfer-Encoding", "Trailer"} {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// reject writes a failed handshake's response.
func reject(w http.ResponseWriter, herr *HandshakeError) {
	if herr.Status == http.StatusUpgradeRequired {
		w.Header().Set("Sec-WebSocket-Version", "13")
	}
	if herr.Status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodGet)
	}
	http.Error(w, "websocket: "+herr.Reason, herr.Status)
}
