package websocket

import (
	"context"
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

	resp := http.Header{}
	for k, v := range w.Header() {
		resp[k] = v
	}
	resp.Set("Upgrade", "websocket")
	resp.Set("Connection", "Upgrade")
	resp.Set("Sec-WebSocket-Accept", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
	resp.Del("Sec-WebSocket-Protocol")
	resp.Del("Sec-WebSocket-Extensions")
	if subprotocol != "" {
		resp.Set("Sec-WebSocket-Protocol", subprotocol)
	}
	// The server's read timeouts no longer apply; the handshake's own does.
	nc.SetDeadline(time.Time{})
	nc.SetWriteDeadline(time.Now().Add(o.HandshakeTimeout))
	bw := brw.Writer
	bw.Reset(nc)
	bw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	resp.Write(bw)
	bw.WriteString("\r\n")
	if err := bw.Flush(); err != nil {
		nc.Close()
		return nil, &HandshakeError{Reason: "writing the response: " + err.Error()}
	}
	nc.SetWriteDeadline(time.Time{})
	return newConn(nc, bufferedBytes(brw.Reader), false, o, subprotocol, r), nil
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
// for a plain HTTP request, and with w no longer usable when ws is set. An
// invalid upgrade gets its 4xx from Upgrade and h does not run. When h
// returns, the connection is closed with 1000 and everything released.
// opts may be nil.
func Accept(h func(w http.ResponseWriter, r *http.Request, ws *Conn), opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocket(r) {
			h(w, r, nil)
			return
		}
		ws, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer ws.Close()
		h(w, r, ws)
	})
}

// Require returns a handler that speaks only WebSocket, like dwebsocket's
// require_websocket: a request that is not a valid upgrade gets 400 Bad
// Request (426 for a wrong version, 403 for a refused Origin) and h does
// not run. When h returns, the connection is closed with 1000 and
// everything released. opts may be nil.
func Require(h func(ws *Conn, r *http.Request), opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer ws.Close()
		h(ws, r)
	})
}

type ctxKey struct{}

// Middleware upgrades every WebSocket request to any URL behind it, like
// dwebsocket's WebSocketMiddleware with WEBSOCKET_ACCEPT_ALL. next finds
// the connection with FromRequest, which is nil for plain HTTP requests.
// When next returns, the connection is closed with 1000. opts may be nil.
func Middleware(next http.Handler, opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		ws, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer ws.Close()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ws)))
	})
}

// FromRequest returns the connection Middleware made from r, or nil.
func FromRequest(r *http.Request) *Conn {
	ws, _ := r.Context().Value(ctxKey{}).(*Conn)
	return ws
}
