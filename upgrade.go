package websocket

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// Upgrade answers the WebSocket opening handshake in r (RFC 6455 §4.2) and
// returns the connection. If the request is not a valid upgrade, or its
// Origin is not allowed, Upgrade writes the HTTP error itself (400, 403,
// 405, or 426 with "Sec-WebSocket-Version: 13") with a one-line reason, and
// returns a *HandshakeError. Headers already set on w, such as Set-Cookie,
// are sent with the 101 response. After a successful Upgrade, w must not be
// used, and the caller must Close the connection.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *Options) (*Conn, error) {
	o := opts.withDefaults()
	if herr := checkRequest(r, o); herr != nil {
		reject(w, herr)
		return nil, herr
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		herr := &HandshakeError{http.StatusInternalServerError, "the connection cannot be taken over (HTTP/2?)"}
		reject(w, herr)
		return nil, herr
	}
	subprotocol := selectSubprotocol(r, o.Subprotocols)
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, &HandshakeError{Reason: "hijack: " + err.Error()}
	}

	// The server's timeouts no longer apply; the handshake's own bounds
	// the write (nothing reads meanwhile), and then none.
	nc.SetDeadline(time.Now().Add(o.HandshakeTimeout))
	if err := writeSwitching(nc, brw.Writer, r.Header[hdrKey][0], subprotocol, w.Header()); err != nil {
		nc.Close()
		return nil, &HandshakeError{Reason: "writing the response: " + err.Error()}
	}
	nc.SetDeadline(time.Time{})
	return newConn(nc, bufferedBytes(brw.Reader), false, o, subprotocol, r), nil
}

// writeSwitching writes the 101 response to nc through bw, the hijacked
// connection's writer, whose buffer it reuses: the status line and the
// handshake's headers in one append, then any headers the handler set
// (such as Set-Cookie), never the handshake's own.
func writeSwitching(nc net.Conn, bw *bufio.Writer, key, subprotocol string, extra http.Header) error {
	bw.Reset(nc)
	b := bw.AvailableBuffer()
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = appendAcceptKey(b, key)
	if subprotocol != "" {
		b = append(b, "\r\nSec-WebSocket-Protocol: "...)
		b = append(b, subprotocol...)
	}
	b = append(b, "\r\n"...)
	bw.Write(b)
	if len(extra) > 0 {
		extra.WriteSubset(bw, responseHandshakeHeaders)
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

// responseHandshakeHeaders are the response headers Upgrade writes itself.
var responseHandshakeHeaders = map[string]bool{
	"Upgrade":                  true,
	"Connection":               true,
	"Sec-Websocket-Accept":     true,
	"Sec-Websocket-Protocol":   true,
	"Sec-Websocket-Extensions": true,
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
