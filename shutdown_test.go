package websocket

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serveOn starts srv on a loopback port and returns its address; the test
// ends by checking that Serve returned http.ErrServerClosed.
func serveOn(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// answerClose reads frames until the close frame, checks its code, answers
// it, and reads the end of the connection.
func (p *rawPeer) answerClose(want CloseCode) error {
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		b0, payload, err := p.readFrame()
		if err != nil {
			return fmt.Errorf("waiting for close %d: %v", want, err)
		}
		if b0&0x0f != 0x8 {
			continue
		}
		if len(payload) < 2 || CloseCode(binary.BigEndian.Uint16(payload)) != want {
			return fmt.Errorf("close frame %q, want code %d", payload, want)
		}
		if _, err := p.nc.Write(clientFrame(0x88, string(payload[:2]))); err != nil {
			return err
		}
		if _, err := p.br.ReadByte(); err != io.EOF {
			return fmt.Errorf("after the closing handshake: %v, want EOF", err)
		}
		return nil
	}
}

// trackerOf returns srv's entry in the registry, or nil.
func trackerOf(srv *http.Server) *tracker {
	servers.Lock()
	defer servers.Unlock()
	return servers.m[srv]
}

func TestShutdownManyClients(t *testing.T) {
	const clients = 300
	var running, returned atomic.Int32
	allRunning := make(chan struct{})
	srv := NewServer("", Require(func(ws *Conn, r *http.Request) {
		if running.Add(1) == clients {
			close(allRunning)
		}
		for m := range ws.Messages() {
			ws.SendMessage(m)
		}
		returned.Add(1)
	}, nil))
	addr := serveOn(t, srv)
	peers := make([]*rawPeer, clients)
	for i := range peers {
		peers[i] = dialRaw(t, addr)
	}
	<-allRunning

	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.answerClose(CloseGoingAway); err != nil {
				t.Error(err)
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Shutdown(ctx, srv); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := returned.Load(); n != clients {
		t.Errorf("Shutdown returned with %d of %d handlers returned", n, clients)
	}
	wg.Wait()
}

// TestShutdownBoundedByContext: a handler that ignores the close keeps
// Shutdown waiting until ctx ends. Its request context is cancelled as soon
// as the close frame is out, before the closing handshake ends.
func TestShutdownBoundedByContext(t *testing.T) {
	openAtCancel, release, returned := make(chan bool, 1), make(chan struct{}), make(chan struct{})
	started := make(chan struct{})
	ts := httptest.NewServer(Require(func(ws *Conn, r *http.Request) {
		defer close(returned)
		close(started)
		<-r.Context().Done()
		select {
		case <-ws.Done():
			openAtCancel <- false
		default:
			openAtCancel <- true
		}
		<-release // ignores the close
	}, &Options{CloseTimeout: time.Minute}))
	defer ts.Close()
	p := dialRaw(t, ts.Listener.Addr().String())
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	shut := make(chan error, 1)
	go func() { shut <- Shutdown(ctx, ts.Config) }()
	if !<-openAtCancel {
		t.Error("the handler's context ended only with the connection")
	}
	if err := p.answerClose(CloseGoingAway); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-shut; !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	close(release)
	<-returned
}

// TestShutdownClosesUpgradeConns: a connection from Upgrade, served in the
// HTTP handler itself, gets 1001 as well, and Shutdown waits for its
// closing handshake.
func TestShutdownClosesUpgradeConns(t *testing.T) {
	upgraded := make(chan *Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := Upgrade(w, r, nil)
		if err != nil {
			return
		}
		upgraded <- ws
		for range ws.Messages() {
		}
	}))
	defer ts.Close()
	p := dialRaw(t, ts.Listener.Addr().String())
	ws := <-upgraded
	answered := make(chan error, 1)
	go func() { answered <- p.answerClose(CloseGoingAway) }()
	if err := Shutdown(context.Background(), ts.Config); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ws.Done():
	default:
		t.Error("Shutdown returned before the connection closed")
	}
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	if trackerOf(ts.Config) != nil {
		t.Error("the server is still in the registry after Shutdown")
	}
}

// TestShutdownUpgradeInFlight: a request that upgrades after Shutdown began
// gets 1001 at once, and Shutdown waits for its handler.
func TestShutdownUpgradeInFlight(t *testing.T) {
	inFlight, proceed := make(chan struct{}), make(chan struct{})
	var returned atomic.Bool
	wsHandler := Require(func(ws *Conn, r *http.Request) {
		for range ws.Messages() {
		}
		returned.Store(true)
	}, nil)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-proceed // Shutdown has begun
		wsHandler.ServeHTTP(w, r)
	}))
	shutdownBegun := make(chan struct{})
	ts.Config.RegisterOnShutdown(func() { close(shutdownBegun) })
	ts.Start()
	defer ts.Close()

	dialed := make(chan *rawPeer, 1)
	go func() {
		nc, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Error(err)
			close(dialed)
			return
		}
		io.WriteString(nc, validUpgrade+"\r\n")
		dialed <- &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc)}
	}()
	<-inFlight
	shut := make(chan error, 1)
	go func() { shut <- Shutdown(context.Background(), ts.Config) }()
	<-shutdownBegun
	close(proceed)
	p := <-dialed
	if p == nil {
		t.FailNow()
	}
	defer p.nc.Close()
	if resp, err := http.ReadResponse(p.br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if err := p.answerClose(CloseGoingAway); err != nil {
		t.Fatal(err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !returned.Load() {
		t.Error("Shutdown returned before the handler")
	}
}

// TestServerShutdownMethodReachesWebSockets: with NewServer, the plain
// srv.Shutdown method sends 1001 too.
func TestServerShutdownMethodReachesWebSockets(t *testing.T) {
	returned := make(chan struct{})
	srv := NewServer("", Require(func(ws *Conn, r *http.Request) {
		defer close(returned)
		for range ws.Messages() {
		}
	}, nil))
	p := dialRaw(t, serveOn(t, srv))
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.answerClose(CloseGoingAway); err != nil {
		t.Fatal(err)
	}
	<-returned
}

// TestBaseContextReachesHandler: cancelling the server's BaseContext
// cancels the handler's context, which keeps the base's values; with
// NewServer and with ConnContext on a server of one's own.
func TestBaseContextReachesHandler(t *testing.T) {
	type key struct{}
	for _, name := range []string{"NewServer", "ConnContext"} {
		t.Run(name, func(t *testing.T) {
			base, cancel := context.WithCancelCause(context.WithValue(context.Background(), key{}, "base value"))
			defer cancel(nil)
			ctxErr, value := make(chan error, 1), make(chan any, 1)
			h := Require(func(ws *Conn, r *http.Request) {
				value <- r.Context().Value(key{})
				<-r.Context().Done()
				ctxErr <- r.Context().Err()
			}, nil)
			srv := &http.Server{Handler: h, ConnContext: ConnContext}
			if name == "NewServer" {
				srv = NewServer("", h)
			}
			srv.BaseContext = func(net.Listener) context.Context { return base }
			p := dialRaw(t, serveOn(t, srv))
			if v := <-value; v != "base value" {
				t.Errorf("value = %v", v)
			}
			cancel(errors.New("stop"))
			if err := <-ctxErr; err != context.Canceled {
				t.Errorf("handler context: %v, want context.Canceled", err)
			}
			// The handler returned: the library closes with 1000.
			if err := p.answerClose(CloseNormalClosure); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestConnContextUncancellable: a base context that can never end is
// passed on as it is, with nothing added.
func TestConnContextUncancellable(t *testing.T) {
	ctx := context.WithValue(context.Background(), http.ServerContextKey, (*http.Server)(nil))
	if got := ConnContext(ctx, nil); got != ctx {
		t.Errorf("ConnContext wrapped a context that is never cancelled")
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if got := ConnContext(cctx, nil).Value(baseKey{}); got != cctx {
		t.Errorf("ConnContext kept %v, want the context it was given", got)
	}
}

// TestFromRequestOwnRequest: FromRequest finds the connection from the
// connection's own Request, under every wrapper.
func TestFromRequestOwnRequest(t *testing.T) {
	found := make(chan bool, 1)
	check := func(ws *Conn, r *http.Request) {
		found <- ws != nil && FromRequest(r) == ws && FromRequest(ws.Request()) == ws
	}
	for name, h := range map[string]http.Handler{
		"Middleware": Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { check(FromRequest(r), r) }), nil),
		"Require":    Require(check, nil),
		"Accept":     Accept(func(w http.ResponseWriter, r *http.Request, ws *Conn) { check(ws, r) }, nil),
	} {
		ts := httptest.NewServer(h)
		dialRaw(t, ts.Listener.Addr().String())
		if !<-found {
			t.Errorf("%s: FromRequest did not find the connection", name)
		}
		ts.Close()
	}
	if FromRequest(httptest.NewRequest("GET", "/", nil)) != nil {
		t.Error("FromRequest found a connection on a plain request")
	}
}

// TestTrackerGoesWhenEmpty: a server's entry goes with its last
// connection, without any shutdown.
func TestTrackerGoesWhenEmpty(t *testing.T) {
	open := make(chan struct{})
	ts := httptest.NewServer(Require(func(ws *Conn, r *http.Request) {
		open <- struct{}{}
		ws.Wait()
	}, nil))
	defer ts.Close()
	p := dialRaw(t, ts.Listener.Addr().String())
	<-open
	servers.Lock()
	tr := servers.m[ts.Config]
	if tr != nil {
		tr.pins++ // keeps tr from going while the test looks at it
	}
	servers.Unlock()
	if tr == nil {
		t.Fatal("an open connection is not tracked")
	}
	p.write(clientFrame(0x88, "\x03\xe8"))
	if err := tr.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	servers.Lock()
	tr.pins--
	tr.settleLocked()
	servers.Unlock()
	if trackerOf(ts.Config) != nil {
		t.Error("the server's entry outlived its connections")
	}
}
