package websocket

import (
	"context"
	"net/http"
	"sync"
)

// Shutdown shuts srv down gracefully, WebSockets included: it closes every
// WebSocket connection that srv upgraded with 1001 (going away), those
// upgraded while it runs too; calls srv.Shutdown(ctx), which stops
// listening and closes idle HTTP connections; and waits until every such
// connection has closed and every handler run by Accept, Require or
// Middleware has returned. It returns srv.Shutdown's error, or ctx.Err()
// if ctx ends first.
//
// A handler's request context is cancelled as soon as its close frame is
// out. A connection from Upgrade is closed and waited for like the others,
// but the goroutine the application serves it from is not: only the
// wrappers know when their handler returns. Closing waits for the peer's
// answer at most CloseTimeout; a connection whose closing handshake is
// cut short by the process exiting has still sent its 1001.
func Shutdown(ctx context.Context, srv *http.Server) error {
	t := startGoingAway(srv)
	defer t.unpin()
	if err := srv.Shutdown(ctx); err != nil {
		return err
	}
	// net/http has let go of every connection: any upgrade it served has
	// begun, so every wrapper handler to wait for is counted.
	return t.wait(ctx)
}

// servers tracks the WebSockets of each http.Server that has any, or is
// being shut down; an entry goes when it is empty, so a server leaves
// nothing behind. One mutex for all: it is taken a few times per
// connection, for a map operation each time.
var servers struct {
	sync.Mutex
	m map[*http.Server]*tracker
}

// tracker is one server's entry in servers. Its fields are guarded by
// servers' mutex.
type tracker struct {
	srv       *http.Server
	conns     map[*Conn]context.CancelFunc // open connections and their request contexts' cancel
	handlers  int                          // wrapper handlers running, or about to
	pins      int                          // shutdowns running
	goingAway bool                         // new connections are closed at once
	idle      chan struct{}                // closed when conns and handlers are none; nil if nobody waits
}

// trackerLocked returns srv's tracker, adding it if it has none. The
// caller holds servers' mutex.
func trackerLocked(srv *http.Server) *tracker {
	t := servers.m[srv]
	if t == nil {
		if servers.m == nil {
			servers.m = make(map[*http.Server]*tracker)
		}
		t = &tracker{srv: srv, conns: make(map[*Conn]context.CancelFunc)}
		servers.m[srv] = t
	}
	return t
}

// settleLocked wakes the waiters once t is idle, and drops t when nothing
// holds it. The caller holds servers' mutex.
func (t *tracker) settleLocked() {
	if len(t.conns) > 0 || t.handlers > 0 {
		return
	}
	if t.idle != nil {
		close(t.idle)
		t.idle = nil
	}
	if t.pins == 0 && servers.m[t.srv] == t {
		delete(servers.m, t.srv)
	}
}

// track registers c, upgraded by srv (if not nil), whose request context
// cancel ends. If srv is shutting down, c is closed at once.
func track(srv *http.Server, c *Conn, cancel context.CancelFunc) {
	if srv == nil {
		return
	}
	servers.Lock()
	t := trackerLocked(srv)
	t.conns[c] = cancel
	if t.goingAway {
		go goAway(c, cancel)
	}
	servers.Unlock()
}

// untrack forgets c, upgraded by srv. It may be called more than once.
func untrack(srv *http.Server, c *Conn) {
	if srv == nil {
		return
	}
	servers.Lock()
	if t := servers.m[srv]; t != nil {
		if _, ok := t.conns[c]; ok {
			delete(t.conns, c)
			t.settleLocked()
		}
	}
	servers.Unlock()
}

// enterHandler counts a wrapper handler about to run for r, before the
// upgrade: net/http stops tracking the connection when it is hijacked, so
// counting later could let Shutdown see none after srv.Shutdown returns
// while one is about to start. It returns nil if r came from no
// http.Server; exitHandler accepts nil.
func enterHandler(r *http.Request) *tracker {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	servers.Lock()
	t := trackerLocked(srv)
	t.handlers++
	servers.Unlock()
	return t
}

// exitHandler records that a handler counted by enterHandler returned, or
// will not run.
func (t *tracker) exitHandler() {
	if t == nil {
		return
	}
	servers.Lock()
	t.handlers--
	t.settleLocked()
	servers.Unlock()
}

// startGoingAway closes every WebSocket srv upgraded with 1001, and every
// one it upgrades until the returned tracker is unpinned.
func startGoingAway(srv *http.Server) *tracker {
	servers.Lock()
	defer servers.Unlock()
	t := trackerLocked(srv)
	t.pins++
	if !t.goingAway {
		t.goingAway = true
		for c, cancel := range t.conns {
			go goAway(c, cancel)
		}
	}
	return t
}

// unpin ends what startGoingAway began. The tracker goes once empty: an
// upgrade that completes afterwards is not closed (only Shutdown, which
// unpins once net/http is done with every connection, rules that out).
func (t *tracker) unpin() {
	servers.Lock()
	t.pins--
	if t.pins == 0 {
		t.settleLocked()
	}
	servers.Unlock()
}

// wait returns once t has no connection and no handler, or ctx.Err() if
// ctx ends first.
func (t *tracker) wait(ctx context.Context) error {
	servers.Lock()
	if len(t.conns) == 0 && t.handlers == 0 {
		servers.Unlock()
		return nil
	}
	if t.idle == nil {
		t.idle = make(chan struct{})
	}
	idle := t.idle
	servers.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goAway closes c with 1001 for a server shutdown. The request context is
// cancelled once the close frame is going out, not before: the frame is
// written under the write lock, so a handler that returns on seeing the
// context end finds the connection closing already, and the peer gets
// 1001, never the 1000 of a handler that returned.
func goAway(c *Conn, cancelRequest context.CancelFunc) {
	go func() {
		<-c.closing
		cancelRequest()
	}()
	c.CloseWith(CloseGoingAway, "server shutting down")
}
