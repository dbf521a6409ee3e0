package websocket

import (
	"log"
	"net/http"
	"runtime/debug"
)

// Accept returns a handler that serves plain HTTP and WebSocket on one URL,
// like dwebsocket's accept_websocket: h runs for every request, with ws nil
// for a plain HTTP request. An invalid upgrade gets its 4xx from Upgrade
// and h does not run. For a WebSocket, r is ws.Request() (see Require for
// its context), and w only answers http.ErrHijacked (over HTTP/2 too: the
// stream belongs to ws). When h returns, the
// connection is closed with 1000 and everything released. opts may be nil.
func Accept(h func(w http.ResponseWriter, r *http.Request, ws *Conn), opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocket(r) {
			h(w, r, nil)
			return
		}
		t := enterHandler(r)
		if ws, err := Upgrade(w, r, opts); err == nil {
			start(ws, t, func() { h(hijacked{}, ws.Request(), ws) })
		} else {
			t.exitHandler()
		}
	})
}

// Require returns a handler that speaks only WebSocket, like dwebsocket's
// require_websocket: a request that is not a valid upgrade gets 400 Bad
// Request (426 for a wrong version, 403 for a refused Origin) and h does
// not run. When h returns, the connection is closed with 1000 and
// everything released. opts may be nil.
//
// r is ws.Request(). Its context keeps the values of the upgrade request's
// but not its end, which net/http brings about as soon as the HTTP handler
// returns (over HTTP/1.1 the wrappers return at once, to free net/http's
// per-request memory). It ends instead when the connection closes, when
// Shutdown closes it, or when the server's BaseContext is cancelled, if the
// server has ConnContext (as NewServer's does).
//
// Over HTTP/2 (RFC 8441, see Upgrade) the wrappers serve the same way, but
// h runs on the HTTP handler's goroutine, which returns when h has returned
// and the connection is closed: the stream ends with the HTTP handler.
func Require(h func(ws *Conn, r *http.Request), opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := enterHandler(r)
		if ws, err := Upgrade(w, r, opts); err == nil {
			start(ws, t, func() { h(ws, ws.Request()) })
		} else {
			t.exitHandler()
		}
	})
}

// Middleware upgrades every WebSocket request to any URL behind it, like
// dwebsocket's WebSocketMiddleware with WEBSOCKET_ACCEPT_ALL. next gets
// ws.Request(), and finds the connection with FromRequest, which is nil
// for plain HTTP requests; for a WebSocket, w only answers
// http.ErrHijacked. When next returns, the connection is closed with 1000.
// opts may be nil.
func Middleware(next http.Handler, opts *Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocket(r) {
			next.ServeHTTP(w, r)
			return
		}
		t := enterHandler(r)
		if ws, err := Upgrade(w, r, opts); err == nil {
			start(ws, t, func() { next.ServeHTTP(hijacked{}, ws.Request()) })
		} else {
			t.exitHandler()
		}
	})
}

// FromRequest returns the connection r was upgraded to, if r is the
// Request of a server-side Conn (as Middleware, Accept and Require pass
// on) or derives from it; otherwise nil.
func FromRequest(r *http.Request) *Conn {
	ws, _ := r.Context().Value(connKey{}).(*Conn)
	return ws
}

// start runs a connection's handler with serve: on a goroutine of its own
// over HTTP/1.1, whose connection was hijacked, and on the HTTP handler's
// own over HTTP/2, whose stream ends when the HTTP handler returns.
func start(ws *Conn, t *tracker, h func()) {
	if ws.overStream() {
		serve(ws, t, h)
		return
	}
	go serve(ws, t, h)
}

// serve runs a connection's handler; on a goroutine of its own over
// HTTP/1.1, so that the HTTP handler returns at once and net/http lets go
// of the request's buffers: an idle connection then costs what the Conn
// holds, not what a whole HTTP exchange does. A panic in h is logged as net/http logs one,
// and closes the connection with 1011. Once the connection is closed, t
// (from enterHandler) learns that the handler is done.
func serve(ws *Conn, t *tracker, h func()) {
	defer t.exitHandler()
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
