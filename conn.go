package websocket

import (
	"context"
	"log"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one WebSocket connection, server or client side. Whoever reads
// the socket answers pings, takes part in the closing handshake, and
// delivers whole messages.
//
// Wait reads the socket itself while no other goroutine does: the message
// goes from the socket straight to its caller, with no goroutine of the
// Conn's own and no hand-off between goroutines. The calls that need the
// socket read while the application is not waiting (Read, CountMessages,
// HasMessages, WaitContext, WaitTimeout, Ping, Done, Err, a keepalive pong
// not read in time, a second Wait at once) start a reader goroutine
// instead, which parks whole messages in a bounded mailbox for every Wait
// and Read that follows, and runs until the connection ends. CloseWith
// reads the peer's answer itself when nothing else reads. Send starts
// nothing: a connection that is only ever sent on notices its end when a
// write fails. WaitStream reads the socket itself as Wait does, and only
// until a reader goroutine has started.
//
// Every method of Conn is safe for concurrent use: any number of goroutines
// may send, wait, read, ping and close at once. Each message is written
// whole, never interleaved with another.
//
// Once the application has looked for messages (Wait, Read, CountMessages,
// HasMessages, Messages), the end of the connection, by the peer's close
// frame or a violation of the protocol, waits until the application has
// taken the messages that came before it and looked for another, at most
// CloseTimeout: it can answer them, as it could with a library that reads
// only when asked.
type Conn struct {
	nc          net.Conn
	rb          readBuffer
	client      bool
	opts        *Options
	subprotocol string
	req         *http.Request      // server side: the upgrade request
	cancelReq   context.CancelFunc // ends req's context

	mb   mailbox
	free freeList // buffers given back by Recycle

	deflate *deflater // permessage-deflate's state; nil when not negotiated

	wmu       writeLock     // guards the fields below and every write to nc
	wbufs     net.Buffers   // header and payload for one writev
	vec       [2][]byte     // wbufs' backing array
	closeSent bool          // a close frame was sent (or writing failed): only close may follow
	closing   chan struct{} // closed when closeSent becomes true
	closeCut  atomic.Bool   // the closing handshake's write deadline is set
	sending   chan struct{} // while a streamed message is sent: closed when it ends
	ctxCut    atomic.Bool   // SendContext's context ended during its write
	wdMu      sync.Mutex    // orders the cuts of the write deadline: a context's, the close's

	pingMu sync.Mutex
	pings  map[[8]byte]chan struct{}
	pingID uint64

	pongMu        sync.Mutex
	pongs         [][]byte    // payloads of pings not answered yet
	pongScheduled bool        // a goroutine will write them
	pongPending   atomic.Bool // len(pongs) > 0, read without pongMu

	keepalive  *time.Timer   // nil without keepalive
	kaPing     atomic.Uint64 // payload of the last keepalive ping
	kaPingSent atomic.Bool   // the keepalive ping has been written
	pongSeen   atomic.Bool   // its pong, or a Ping's, has come
	kaWaiting  bool          // a keepalive ping is out; touched by the timer func only
	kaGrace    bool          // the pong is given a second PongTimeout; timer func only

	readMu        sync.Mutex                    // held by whoever reads the socket: a Wait or the reader goroutine
	inFrame       bool                          // a frame's payload is being read; guarded by readMu
	stallArmed    bool                          // the read deadline is the stall bound; guarded by readMu
	dlMu          sync.Mutex                    // orders the setting of read deadlines
	closeDeadline bool                          // the closing handshake's read deadline is set; guarded by dlMu
	rstream       atomic.Pointer[messageReader] // a streamed message being read (WaitStream): it holds readMu
	readerOnce    sync.Once
	readerStarted atomic.Bool
	readMuFree    chan struct{}          // signalled on unlocking readMu once a reader goroutine waits for it
	cause         atomic.Pointer[string] // why this side dropped the connection, if it did
	err           atomic.Pointer[CloseError]
	done          chan struct{}
}

// newConn makes a connection on nc, whose handshake is complete. pending
// holds bytes already read from nc past the handshake. o must come from
// withDefaults.
func newConn(nc net.Conn, pending []byte, client bool, o *Options, subprotocol string, req *http.Request) *Conn {
	return newConnDeflate(nc, pending, client, o, subprotocol, req, nil)
}

// newConnDeflate is newConn with permessage-deflate's state, nil when it
// was not negotiated.
func newConnDeflate(nc net.Conn, pending []byte, client bool, o *Options, subprotocol string, req *http.Request, d *deflater) *Conn {
	c := &Conn{
		deflate:     d,
		nc:          nc,
		client:      client,
		opts:        o,
		subprotocol: subprotocol,
		closing:     make(chan struct{}),
		wmu:         newWriteLock(),
		done:        make(chan struct{}),
	}
	c.rb.init(socket{c}, o.ReadBufferSize, pending)
	armWrites(nc, o)
	c.mb.init(o.MailboxMessages, o.MailboxBytes)
	c.free.maxN, c.free.maxBytes = o.MailboxMessages, o.MailboxBytes
	if o.PingInterval > 0 {
		// Armed once assigned, so that the timer func sees c.keepalive.
		c.keepalive = time.AfterFunc(math.MaxInt64, c.keepaliveTick)
		c.keepalive.Reset(o.PingInterval)
	}
	if req != nil {
		// Last: from here on Shutdown may close c.
		c.setRequest(req)
	}
	return c
}

// startReader starts the reader goroutine, once. It takes the socket over
// as soon as a Wait reading it has its message.
func (c *Conn) startReader() {
	c.readerOnce.Do(func() {
		c.mb.open()
		c.readMuFree = make(chan struct{}, 1)
		c.readerStarted.Store(true)
		go c.run()
	})
}

// lockReadHere reports whether the caller may read the socket itself: no
// reader goroutine has started and no other Wait reads. On true, the
// caller holds c.readMu and must call unlockRead.
func (c *Conn) lockReadHere() bool {
	return !c.readerStarted.Load() && c.readMu.TryLock()
}

// unlockRead unlocks c.readMu, and wakes the reader goroutine if it waits
// for it.
func (c *Conn) unlockRead() {
	c.readMu.Unlock()
	if c.readerStarted.Load() {
		signal(c.readMuFree)
	}
}

// run is the reader goroutine: it queues messages until the connection
// ends.
func (c *Conn) run() {
	// Not readMu.Lock: a goroutine blocked on a channel is one that
	// testing/synctest knows to be waiting, so a fake clock can advance.
	for !c.readMu.TryLock() {
		// A streamed message holds readMu until it is read; one that a
		// later Wait gave up on is discarded here.
		if r := c.rstream.Load(); r != nil && r.abandoned.Load() {
			r.discard()
			continue
		}
		<-c.readMuFree
	}
	defer c.readMu.Unlock()
	defer c.recoverReader()
	c.readToEnd()
}

// recoverReader keeps a panic on the reader goroutine, which no caller
// could recover, from taking the process down: it is logged, as net/http
// logs a handler's, and fails the connection with 1011.
func (c *Conn) recoverReader() {
	p := recover()
	if p == nil {
		return
	}
	log.Printf("websocket: panic reading from %v: %v\n%s", c.nc.RemoteAddr(), p, debug.Stack())
	if !c.ended() { // the read state may be broken: read no more
		c.sendClose(CloseInternalServerErr, "internal error")
		c.finish(&CloseError{Code: CloseInternalServerErr, Reason: "internal error"})
	}
}

// readToEnd queues messages until the connection ends. The caller holds
// c.readMu.
func (c *Conn) readToEnd() {
	for !c.ended() {
		m, err := c.readMessage()
		if err != nil {
			c.end(err)
			return
		}
		c.mb.put(m, c.closing)
	}
}

// ended reports whether the connection has been released.
func (c *Conn) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Done returns a channel that is closed once the connection is closed and
// its resources released. It starts the reader goroutine, so that the end
// is seen even if the application never waits for a message.
func (c *Conn) Done() <-chan struct{} {
	c.startReader()
	c.mb.awaitEnd()
	return c.done
}

// Err returns nil while the connection is open, and then the *CloseError
// that says how it ended. Like Done, it starts the reader goroutine while
// the connection is open.
func (c *Conn) Err() error {
	if ce := c.err.Load(); ce != nil {
		return ce
	}
	c.startReader()
	return nil
}

// Subprotocol returns the negotiated subprotocol, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Request returns the upgrade request a server connection was made from,
// with a context that is cancelled when the connection closes, when
// Shutdown closes it, or when the server's BaseContext is cancelled (see
// ConnContext); nil on a client connection. FromRequest finds the
// connection from it.
func (c *Conn) Request() *http.Request { return c.req }

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns this side's network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }
