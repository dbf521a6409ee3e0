package bench

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/lxzan/gws"
)

// lxzan/gws: the ReadLoop with an OnMessage callback (its only read style),
// WriteMessage, and Broadcaster for broadcast. One Upgrader serves every
// connection; each connection finds its endpoint through a custom
// SessionStorage, so the hot path costs one type assertion.

func init() {
	register(peer{
		name:      "gws",
		server:    gwsServer,
		client:    gwsClient,
		broadcast: gwsBroadcast,
	})
}

// gwsSession is a SessionStorage that only carries the endpoint.
type gwsSession struct{ ep *gwsEP }

func (*gwsSession) Len() int                     { return 0 }
func (*gwsSession) Load(string) (any, bool)      { return nil, false }
func (*gwsSession) Delete(string)                {}
func (*gwsSession) Store(string, any)            {}
func (*gwsSession) Range(func(string, any) bool) {}

func newGWSSession() gws.SessionStorage { return new(gwsSession) }

// gwsHandler dispatches events to the connection's endpoint.
type gwsHandler struct{ gws.BuiltinEventHandler }

func epOf(s *gws.Conn) *gwsEP { return s.Session().(*gwsSession).ep }

func (gwsHandler) OnMessage(s *gws.Conn, m *gws.Message) { epOf(s).onMessage(m) }
func (gwsHandler) OnClose(s *gws.Conn, err error)        { epOf(s).onClose(err) }

var gwsUpgrader = gws.NewUpgrader(gwsHandler{}, &gws.ServerOption{
	ReadMaxPayloadSize: readLimit,
	NewSession:         newGWSSession,
})

type gwsEP struct {
	c       *gws.Conn
	echoing bool
	started bool
	fn      func([]byte)
	want    int
	got     int
	done    chan error // buffered: the end of recv
}

func newGWSEP(c *gws.Conn) *gwsEP {
	e := &gwsEP{c: c, done: make(chan error, 1)}
	c.Session().(*gwsSession).ep = e
	return e
}

func gwsServer(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	c, err := gwsUpgrader.Upgrade(w, r)
	if err != nil {
		return nil, err
	}
	return newGWSEP(c), nil
}

type gwsDialer struct{ dial dialFunc }

func (d gwsDialer) Dial(network, addr string) (net.Conn, error) {
	return d.dial(context.Background(), network, addr)
}

func gwsClient(_ context.Context, url string, dial dialFunc) (endpoint, error) {
	c, _, err := gws.NewClient(gwsHandler{}, &gws.ClientOption{
		Addr:               url,
		ReadMaxPayloadSize: readLimit,
		NewSession:         newGWSSession,
		NewDialer:          func() (gws.Dialer, error) { return gwsDialer{dial}, nil },
	})
	if err != nil {
		return nil, err
	}
	return newGWSEP(c), nil
}

func (e *gwsEP) onMessage(m *gws.Message) {
	if e.echoing {
		_ = e.c.WriteMessage(m.Opcode, m.Bytes())
		_ = m.Close()
		return
	}
	if e.fn != nil {
		e.fn(m.Bytes())
	}
	_ = m.Close()
	e.got++
	if e.got == e.want {
		e.done <- nil
	}
}

func (e *gwsEP) onClose(err error) {
	if err == nil {
		err = net.ErrClosed
	}
	select {
	case e.done <- err:
	default:
	}
}

// recv starts the ReadLoop, so it may only be called once per endpoint.
func (e *gwsEP) recv(n int, fn func([]byte)) error {
	if e.started {
		return errors.New("bench: gws recv called twice")
	}
	if n == 0 {
		return nil
	}
	e.started, e.fn, e.want = true, fn, n
	go e.c.ReadLoop()
	return <-e.done
}

func (e *gwsEP) send(p []byte) error { return e.c.WriteMessage(gws.OpcodeBinary, p) }

func (e *gwsEP) echo() error {
	e.started, e.echoing = true, true
	e.c.ReadLoop()
	return nil
}

func (e *gwsEP) close() error { return e.c.NetConn().Close() }

func gwsBroadcast(eps []endpoint, p []byte) error {
	b := gws.NewBroadcaster(gws.OpcodeBinary, p)
	for _, ep := range eps {
		if err := b.Broadcast(ep.(*gwsEP).c); err != nil {
			return err
		}
	}
	return b.Close()
}
