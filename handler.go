package websocket

import (
	"bufio"
	"context"
	"log"
	"net"
	"net/http"
	"runtime/debug"
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

// Accept returns a handler that serves plain HTTP and WebSocket on one URL,
// like dwebsocket's accept_websocket: h runs for every request, with ws nil
// for a plain HTTP request. An invalid upgrade gets its 4xx from Upgrade
// and h does not run. For a WebSocket, r is ws.Request(), whose context ends
// with the connection, and w only answers http.ErrHijacked. When h returns,
// the connection is closed with 1000 and everything released. opts may be
// nil.
func Accept(h func(w http.ResponseWriter, r *http.Request, ws *Conn), opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocket(r) {
			h(w, r, nil)
			return
		}
		if ws, err := Upgrade(w, r, opts); err == nil {
			go serve(ws, func() { h(hijacked{}, ws.Request(), ws) })
		}
	})
}

// Require returns a handler that speaks only WebSocket, like dwebsocket's
// require_websocket: a request that is not a valid upgrade gets 400 Bad
// Request (426 for a wrong version, 403 for a refused Origin) and h does
// not run. r is ws.Request(), whose context ends with the connection. When
// h returns, the connection is closed with 1000 and everything released.
// opts may be nil.
func Require(h func(ws *Conn, r *http.Request), opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ws, err := Upgrade(w, r, opts); err == nil {
			go serve(ws, func() { h(ws, ws.Request()) })
		}
	})
}

type ctxKey struct{}

// Middleware upgrades every WebSocket request to any URL behind it, like
// dwebsocket's WebSocketMiddleware with WEBSOCKET_ACCEPT_ALL. next finds
// the connection with FromRequest, which is nil for plain HTTP requests;
// for a WebSocket, w only answers http.ErrHijacked. When next returns, the
// connection is closed with 1000. opts may be nil.
func Middleware(next http.Handler, opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		if ws, err := Upgrade(w, r, opts); err == nil {
			r := ws.Request()
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ws))
			go serve(ws, func() { next.ServeHTTP(hijacked{}, r) })
		}
	})
}

// FromRequest returns the connection Middleware made from r, or nil.
func FromRequest(r *http.Request) *Conn {
	ws, _ := r.Context().Value(ctxKey{}).(*Conn)
	return ws
}

// serve runs a connection's handler on a goroutine of its own, so that the
// HTTP handler returns at once and net/http lets go of the request's
// buffers: an idle connection then costs what the Conn holds, not what a
// whole HTTP exchange does. A panic in h is logged as net/http logs one,
// and closes the connection with 1011.
func serve(ws *Conn, h func()) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				logf(ws.Request(), "websocket: panic serving %v: %v\n%s", ws.RemoteAddr(), p, debug.Stack())
			}
			ws.CloseWith(CloseInternalServerErr, "")
			return
		}
		ws.Close()
	}()
	h()
}

// logf logs to the http.Server's ErrorLog, or the standard logger.
func logf(r *http.Request, format string, args ...any) {
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ErrorLog != nil {
		srv.ErrorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// hijacked is the http.ResponseWriter a WebSocket handler gets: the
// connection belongs to the Conn now.
type hijacked struct{}

func (hijacked) Header() http.Header        { return http.Header{} }
func (hijacked) Write([]byte) (int, error)  { return 0, http.ErrHijacked }
func (hijacked) WriteHeader(statusCode int) {}
