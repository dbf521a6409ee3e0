package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WebSocket over HTTP/2 (RFC 8441). A client that has seen the server's
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) opens a WebSocket as an
// extended CONNECT request on a stream of the HTTP/2 connection, with
// ":protocol: websocket" (§4); the server answers 200 with no
// Sec-WebSocket-Accept (§5), and from then on the request body carries the
// client's frames and the response body the server's. Nothing is hijacked:
// the stream belongs to the HTTP handler, and ends when it returns.
//
// Go's HTTP/2 server (net/http; checked with Go 1.26) hands such a
// request to the handler with r.Method "CONNECT", r.Proto "HTTP/2.0" and
// the pseudo-header in r.Header[":protocol"], but only advertises the setting, and accepts ":protocol" at all, when the process
// starts with GODEBUG=http2xconnect=1 in its environment: net/http reads
// the variable once, when it is initialised, so os.Setenv in main is too
// late, and the go command refuses a "//go:debug http2xconnect=1" line as
// an unknown setting (Go 1.26). http.HTTP2Config has no field for it as of
// Go 1.26.

// hdrPseudoProtocol is the key under which net/http's HTTP/2 server puts
// the extended CONNECT's ":protocol" pseudo-header in Request.Header.
const hdrPseudoProtocol = ":protocol"

// isExtendedConnect reports whether r is an RFC 8441 extended CONNECT that
// asks for a WebSocket.
func isExtendedConnect(r *http.Request) bool {
	if r.ProtoMajor != 2 || r.Method != http.MethodConnect {
		return false
	}
	p := r.Header[hdrPseudoProtocol]
	return len(p) == 1 && strings.EqualFold(p[0], "websocket")
}

// checkExtendedConnect applies RFC 8441 §5 to an extended CONNECT that asks
// for a WebSocket: Sec-WebSocket-Version 13, no key (it has no use without
// Sec-WebSocket-Accept, and §5 says the client does not send one), and the
// origin policy as over HTTP/1.1.
func checkExtendedConnect(r *http.Request, o *Options) *HandshakeError {
	if v := r.Header[hdrVersion]; len(v) != 1 || v[0] != "13" {
		return &HandshakeError{http.StatusUpgradeRequired, "Sec-WebSocket-Version must be 13"}
	}
	return checkOrigin(r, o)
}

// upgradeStream answers an extended CONNECT (checked already) with 200 and
// makes the connection on its stream.
func upgradeStream(w http.ResponseWriter, r *http.Request, o *Options, subprotocol, extensions string, d *deflater) (*Conn, error) {
	if !canFlush(w) {
		// Nothing was sent: w can still answer.
		herr := &HandshakeError{http.StatusInternalServerError, fmt.Sprintf(
			"the stream cannot carry a WebSocket: the ResponseWriter (%T) has no Flush method, itself or through Unwrap", w)}
		reject(w, herr)
		return nil, herr
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	for k := range h {
		if isExcludedResponseHeader(k) {
			delete(h, k)
		}
	}
	if subprotocol != "" {
		h[hdrProtocol] = []string{subprotocol}
	}
	if extensions != "" {
		h[hdrExtensions] = []string{extensions}
	}
	// The server's ReadTimeout and WriteTimeout start timers on every
	// HTTP/2 stream that reset it when they fire; like the deadlines a
	// hijack clears, they must not cut a WebSocket short.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, &HandshakeError{Reason: "writing the response: " + err.Error()}
	}
	sc := newServerStream(r, w, rc, o.ReadBufferSize)
	return newConnDeflate(sc, nil, false, o, subprotocol, r, d), nil
}

// canFlush reports whether http.ResponseController can flush w: whether
// w, or what it unwraps to, has a Flush or FlushError method.
func canFlush(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Flusher, interface{ FlushError() error }:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

// errStreamGone is what reading and writing a stream return once it is
// no longer this side's: its HTTP handler returned, or the peer reset it.
var errStreamGone = errors.New("websocket: the HTTP/2 stream has ended: the peer reset it, or its HTTP handler returned (over HTTP/2, the handler must not return while the connection is in use)")

// closedErr is the error of a call on a closed stream.
func (s *h2Conn) closedErr() error {
	if s.gone.Load() {
		return errStreamGone
	}
	return net.ErrClosed
}

// h2Conn is a net.Conn over one HTTP/2 stream: on Go's server, reads come
// from the request body and writes go to the response, each flushed as it
// is written. It keeps the semantics the rest of Conn relies on:
//
//   - Deadlines are its own. net/http's (ResponseController's
//     SetReadDeadline and SetWriteDeadline) reset the stream when they
//     pass, where a net.Conn's only fail the calls under way; the stall
//     and write bounds re-arm after a timeout and go on.
//   - A write that times out is still under way inside net/http, which has
//     no way to take it back: it is reported as 0 bytes written, and the
//     retry of the same bytes that Conn makes waits for it instead of
//     writing them twice.
//   - Close ends reading at once; it resets the stream (RST_STREAM, as a
//     TCP reset, RFC 8441 §5) only when a write is stuck in it. Otherwise
//     the stream ends normally (END_STREAM, as a TCP FIN) when the handler
//     returns.
//
// Two goroutines, started on first use, do the blocking calls: one reads
// the body a chunk ahead (a chunk waits for Read before the next is read,
// so HTTP/2 flow control pushes back on the peer as TCP would), one writes.
type h2Conn struct {
	body          io.ReadCloser             // what the peer sends
	send          func([]byte) (int, error) // writes and flushes to the peer
	reset         func()                    // resets the stream
	local, remote net.Addr

	closed    chan struct{}
	closeOnce sync.Once
	gone      atomic.Bool // the stream is no longer this side's to use: touch nothing
	stopCtx   func() bool

	// Reading. readMu serialises Read.
	readMu    sync.Mutex
	readOnce  sync.Once
	chunkSize int
	filled    chan []byte   // a chunk read from the body; closed after the last
	empty     chan []byte   // the chunk buffer, given back for the next read
	readErr   error         // why the body ended; set before filled is closed
	rest      []byte        // what Read has not returned of the current chunk
	chunk     []byte        // the current chunk's whole buffer
	pumped    chan struct{} // closed when the body reader has returned
	rdl, wdl  deadline      // as a net.Conn's (see netconn.go)

	// Writing. writeMu serialises Write.
	writeMu   sync.Mutex
	writeOnce sync.Once
	writes    chan []byte
	results   chan writeResult
	inflight  []byte        // a write that timed out and is still under way
	busy      atomic.Bool   // the writer is inside send
	written   chan struct{} // closed when the writer has returned
}

type writeResult struct {
	n   int
	err error
}

// newH2Conn makes a connection of a stream whose peer's bytes come from
// body, to which send writes, and which reset resets. Once ctx ends the
// stream is no longer this side's: the connection closes without touching
// it. chunkSize is the size of the read-ahead buffer.
func newH2Conn(ctx context.Context, body io.ReadCloser, send func([]byte) (int, error), reset func(), local, remote net.Addr, chunkSize int) *h2Conn {
	s := &h2Conn{
		body:      body,
		send:      send,
		reset:     reset,
		local:     local,
		remote:    remote,
		closed:    make(chan struct{}),
		chunkSize: chunkSize,
		pumped:    make(chan struct{}),
		written:   make(chan struct{}),
	}
	s.rdl.init()
	s.wdl.init()
	made := make(chan struct{})
	s.stopCtx = context.AfterFunc(ctx, func() {
		<-made // s.stopCtx is set
		s.gone.Store(true)
		s.Close()
	})
	close(made)
	return s
}

// newServerStream makes the connection of an extended CONNECT's stream, as
// Go's HTTP/2 server hands it to the handler: the request body, and the
// response, flushed after each write. The request's context ends when the
// handler returns or the stream is reset: w is then net/http's again.
func newServerStream(r *http.Request, w http.ResponseWriter, rc *http.ResponseController, chunkSize int) *h2Conn {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		local = h2Addr("")
	}
	var remote net.Addr = h2Addr(r.RemoteAddr)
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		remote = net.TCPAddrFromAddrPort(ap)
	}
	send := func(p []byte) (int, error) {
		n, err := w.Write(p)
		if err == nil {
			err = rc.Flush()
		}
		return n, err
	}
	// A write deadline in the past makes net/http reset the stream at once
	// (RST_STREAM), which ends any write under way.
	reset := func() { rc.SetWriteDeadline(time.Unix(1, 0)) }
	return newH2Conn(r.Context(), r.Body, send, reset, local, remote, chunkSize)
}

// h2Addr is an address net/http gave as a string that does not parse
// as ip:port.
type h2Addr string

func (a h2Addr) Network() string { return "tcp" }
func (a h2Addr) String() string  { return string(a) }

func (s *h2Conn) LocalAddr() net.Addr  { return s.local }
func (s *h2Conn) RemoteAddr() net.Addr { return s.remote }

func (s *h2Conn) Read(p []byte) (int, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	s.readOnce.Do(s.startReading)
	if len(s.rest) == 0 {
		select {
		case <-s.closed:
			return 0, s.closedErr()
		default:
		}
		select {
		case b, ok := <-s.filled:
			if !ok {
				return 0, s.readErr
			}
			s.rest, s.chunk = b, b
		case <-s.rdl.context().Done():
			return 0, os.ErrDeadlineExceeded
		case <-s.closed:
			return 0, s.closedErr()
		}
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	if len(s.rest) == 0 {
		s.empty <- s.chunk[:cap(s.chunk)] // the reader waits for it: never blocks
		s.chunk = nil
	}
	return n, nil
}

func (s *h2Conn) startReading() {
	s.filled = make(chan []byte)
	s.empty = make(chan []byte, 1)
	s.empty <- make([]byte, s.chunkSize)
	go s.pump()
}

// pump reads the body a chunk at a time, each once Read has taken the one
// before.
func (s *h2Conn) pump() {
	defer close(s.pumped)
	for {
		var b []byte
		select {
		case b = <-s.empty:
		case <-s.closed:
			return
		}
		n, err := s.body.Read(b)
		if n > 0 {
			select {
			case s.filled <- b[:n]:
			case <-s.closed:
				return
			}
		} else if err == nil {
			s.empty <- b
		}
		if err != nil {
			s.readErr = err
			close(s.filled)
			return
		}
	}
}

func (s *h2Conn) Write(p []byte) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.writeOnce.Do(s.startWriting)
	if s.inflight != nil {
		// A write that timed out is still under way. It counts for this
		// one only if this one retries it: Conn retries a frame's bytes
		// with the very same slice.
		select {
		case r := <-s.results:
			retry := len(p) == len(s.inflight) && len(p) > 0 && &p[0] == &s.inflight[0]
			s.inflight = nil
			if r.err != nil || retry {
				return r.n, r.err
			}
		case <-s.wdl.context().Done():
			return 0, os.ErrDeadlineExceeded
		case <-s.closed:
			return 0, s.closedErr()
		}
	}
	select {
	case <-s.closed:
		return 0, s.closedErr()
	case <-s.wdl.context().Done():
		return 0, os.ErrDeadlineExceeded
	default:
	}
	s.writes <- p // the writer is idle: never blocks
	select {
	case r := <-s.results:
		return r.n, r.err
	case <-s.wdl.context().Done():
		s.inflight = p
		return 0, os.ErrDeadlineExceeded
	case <-s.closed:
		s.inflight = p
		return 0, s.closedErr()
	}
}

func (s *h2Conn) startWriting() {
	s.writes = make(chan []byte, 1)
	s.results = make(chan writeResult, 1)
	go s.writer()
}

// writer writes and flushes what Write hands it, until the connection is
// closed.
func (s *h2Conn) writer() {
	defer close(s.written)
	for {
		select {
		case p := <-s.writes:
			s.busy.Store(true)
			var r writeResult
			select {
			case <-s.closed: // Close may have seen busy false
				r.err = net.ErrClosed
			default:
				r = s.write(p)
			}
			s.busy.Store(false)
			s.results <- r
		case <-s.closed:
			return
		}
	}
}

// write sends p, unless the stream is gone.
func (s *h2Conn) write(p []byte) (r writeResult) {
	defer func() {
		// A handler that returned while this connection was in use (see
		// Upgrade) leaves w to net/http, whose ResponseWriter panics when
		// used after the handler: an error here, not a crash.
		if recover() != nil {
			r = writeResult{0, errStreamGone}
		}
	}()
	if s.gone.Load() {
		return writeResult{0, errStreamGone}
	}
	n, err := s.send(p)
	return writeResult{n, err}
}

// Close ends the connection: reads and writes fail at once, the body is
// closed, and a write stuck in net/http is ended by resetting the stream.
// It returns once neither goroutine will touch the stream again.
func (s *h2Conn) Close() error {
	first := false
	s.closeOnce.Do(func() {
		first = true
		close(s.closed)
		s.stopCtx()
		s.body.Close() // a body Read under way returns
		if s.busy.Load() && !s.gone.Load() {
			s.abort()
		}
	})
	s.readOnce.Do(func() { close(s.pumped) })
	s.writeOnce.Do(func() { close(s.written) })
	<-s.pumped
	<-s.written
	if !first {
		return net.ErrClosed
	}
	return nil
}

// abort resets the stream to end a write stuck in it.
func (s *h2Conn) abort() {
	defer func() { recover() }() // the handler returned meanwhile: the stream is gone
	s.reset()
}

// CloseWrite is how Conn, failing a connection, tells the peer that
// nothing more will come before it reads on until the peer closes: over
// TCP that keeps a reset from destroying the close frame (RFC 6455
// §7.1.1). A stream has nothing to wait for: HTTP/2 delivers what was
// written even when the stream is then reset with NO_ERROR after its
// END_STREAM (RFC 9113 §8.1), as net/http does when the handler returns
// while the peer still sends, and the stream cannot end before the handler
// returns. So CloseWrite stops reading, which lets the connection end, and
// the handler return, at once.
func (s *h2Conn) CloseWrite() error { return s.body.Close() }

func (s *h2Conn) SetDeadline(t time.Time) error {
	s.rdl.set(t)
	s.wdl.set(t)
	return nil
}

func (s *h2Conn) SetReadDeadline(t time.Time) error  { s.rdl.set(t); return nil }
func (s *h2Conn) SetWriteDeadline(t time.Time) error { s.wdl.set(t); return nil }

// overStream reports whether c runs on an HTTP/2 stream, which ends when
// the HTTP handler returns.
func (c *Conn) overStream() bool {
	_, ok := c.nc.(*h2Conn)
	return ok
}
