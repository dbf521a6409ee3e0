package websocket

import (
	"context"
	"net"
	"net/http"
	"time"
)

// NewServer returns an http.Server for h on addr (h nil means
// http.DefaultServeMux) whose defaults are safe to expose to the internet,
// and whose Shutdown reaches its WebSockets too:
//
//   - ReadHeaderTimeout is 10 s: a client that sends its request line and
//     headers slowly (slowloris) is cut off instead of holding a goroutine
//     and a buffer for ever. net/http has no limit by default. 10 s is far
//     more than a real client needs, even over a slow mobile link.
//   - IdleTimeout is 2 min: a keep-alive connection that has gone quiet
//     between requests gives back its goroutine and buffers. net/http keeps
//     it for ever by default. 2 min leaves a page's next requests time to
//     reuse the connection, and a client that finds it closed opens another
//     (browsers and net/http retry idempotent requests).
//   - MaxHeaderBytes is 64 KiB: net/http's default, 1 MiB, lets each
//     connection that is still sending headers hold that much. 64 KiB is
//     well above what browsers send, cookies included (most servers refuse
//     beyond 8 to 32 KiB).
//   - ReadTimeout and WriteTimeout stay zero. net/http clears both deadlines
//     when a handler hijacks the connection, so they would not cut a
//     WebSocket short (the opening handshake has HandshakeTimeout), but they
//     would bound every plain HTTP exchange on the server, streamed
//     responses and large uploads included: that is the application's call.
//   - ConnContext is ConnContext, so that cancelling a BaseContext the
//     caller sets also cancels the contexts of WebSocket handlers.
//   - HTTP/2 is left as net/http sets it up: on for ListenAndServeTLS and
//     ServeTLS. WebSockets come over it (RFC 8441, see Upgrade) only when
//     the process starts with GODEBUG=http2xconnect=1; Shutdown reaches
//     them as it does the others.
//   - srv.Shutdown (the method) starts closing every WebSocket with 1001
//     (going away), through RegisterOnShutdown, but does not wait for them;
//     the Shutdown function does.
//
// The fields may be changed before the server starts.
func NewServer(addr string, h http.Handler) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ConnContext:       ConnContext,
	}
	srv.RegisterOnShutdown(func() { startGoingAway(srv) })
	return srv
}

// baseKey is the context key under which ConnContext keeps the context a
// connection was accepted with.
type baseKey struct{}

// ConnContext, set as an http.Server's ConnContext (NewServer does), lets
// cancelling the server's BaseContext reach WebSocket handlers: net/http
// ends a request's context when the HTTP handler returns, which the
// wrappers do at once, so a handler's context cannot derive from it and
// would otherwise never learn of the server's. A ConnContext of the
// caller's own can call this one.
func ConnContext(ctx context.Context, _ net.Conn) context.Context {
	if ctx.Done() == nil { // never cancelled: nothing to pass on
		return ctx
	}
	return context.WithValue(ctx, baseKey{}, ctx)
}

// connKey is the context key of the Conn a request was upgraded to.
type connKey struct{}

// setRequest makes c's copy of the upgrade request r, whose context keeps
// r's values and c, and ends when c does, when the context ConnContext kept
// is cancelled, or when Shutdown closes c; then it registers c with its
// server for Shutdown. c must be complete: Shutdown may close it at once.
func (c *Conn) setRequest(r *http.Request) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	stop := func() bool { return false }
	if base, ok := r.Context().Value(baseKey{}).(context.Context); ok {
		stop = context.AfterFunc(base, cancel)
	}
	c.req = r.WithContext(context.WithValue(ctx, connKey{}, c))
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	c.cancelReq = func() {
		stop() // frees the server context of a reference to this one
		cancel()
		untrack(srv, c)
	}
	track(srv, c, cancel) // last: Shutdown may close c from here on
}
