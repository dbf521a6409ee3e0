package websocket

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The tests' side of the wire: frames and handshakes written and read byte
// by byte, without the package's codec or handshake code, so that a bug in
// those cannot hide itself; servers and connection pairs to test against;
// and the goroutine leak check.

// testWait bounds every wait in the tests; none should come close to it.
const testWait = 10 * time.Second

// Frames.

// rawFrame encodes one frame. b0 is the first byte as is (FIN, RSV, opcode);
// a non-nil key masks the payload.
func rawFrame(b0 byte, key []byte, payload []byte) []byte {
	b := []byte{b0, 0}
	if key != nil {
		b[1] = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b[1] |= byte(n)
	case n <= 0xffff:
		b[1] |= 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] |= 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, key...)
	for i, c := range payload {
		if key != nil {
			c ^= key[i%4]
		}
		b = append(b, c)
	}
	return b
}

var testKey = []byte{0x12, 0x34, 0x56, 0x78}

// clientFrame is a masked frame as a client sends it.
func clientFrame(b0 byte, payload string) []byte { return rawFrame(b0, testKey, []byte(payload)) }

// rawFrameIn is a frame read from the connection under test.
type rawFrameIn struct {
	b0      byte
	masked  bool
	key     [4]byte
	payload []byte // unmasked
}

// readRawFrame reads one frame, unmasking its payload if need be. A frame
// over 16 MiB is an error: no test sends one, and a bug must not make the
// test allocate what a corrupt length says.
func readRawFrame(r io.Reader) (rawFrameIn, error) {
	var f rawFrameIn
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return f, err
	}
	f.b0, f.masked = h[0], h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if f.masked {
		if _, err := io.ReadFull(r, f.key[:]); err != nil {
			return f, err
		}
	}
	if n > 1<<24 {
		return f, fmt.Errorf("frame of %d bytes", n)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= f.key[i%4]
		}
	}
	return f, nil
}

// The raw peer.

// rawPeer is the test's end of a connection.
type rawPeer struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func (p *rawPeer) write(frames ...[]byte) {
	p.t.Helper()
	for _, f := range frames {
		if _, err := p.nc.Write(f); err != nil {
			p.t.Fatalf("raw write: %v", err)
		}
	}
}

// readFrame reads one frame sent by the connection under test and returns
// its first byte and unmasked payload.
func (p *rawPeer) readFrame() (b0 byte, payload []byte, err error) {
	f, err := readRawFrame(p.br)
	return f.b0, f.payload, err
}

// expectClose reads frames until a close frame, checks its code, and then
// checks that the other side closes TCP.
func (p *rawPeer) expectClose(want CloseCode) {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		b0, payload, err := p.readFrame()
		if err != nil {
			p.t.Fatalf("waiting for close %d: %v", want, err)
		}
		if b0&0x0f != 0x8 {
			continue
		}
		var got CloseCode
		if len(payload) >= 2 {
			got = CloseCode(binary.BigEndian.Uint16(payload))
		}
		if got != want {
			p.t.Fatalf("close code = %d (%q), want %d", got, payload, want)
		}
		break
	}
	if _, err := p.br.ReadByte(); err != io.EOF {
		p.t.Fatalf("after close: read %v, want EOF", err)
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// validUpgrade is a valid upgrade request for host example.com without
// its final empty line, so that a test can add header lines.
const validUpgrade = "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"

// rawHandshake sends req to addr over TCP as it is and reads the HTTP
// response; the peer reads on from where the response ends. The
// connection is closed at the end of the test.
func rawHandshake(t testing.TB, addr string, req []byte) (*rawPeer, *http.Response) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write(req); err != nil {
		t.Fatal(err)
	}
	p := &rawPeer{t: t, nc: nc, br: bufio.NewReader(nc)}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, resp
}

// dialRaw opens a TCP connection to addr and does the opening handshake by
// hand; extra is written right behind the request.
func dialRaw(t testing.TB, addr string, extra ...byte) *rawPeer {
	t.Helper()
	p, resp := rawHandshake(t, addr, append([]byte(validUpgrade+"\r\n"), extra...))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake response %s %v", resp.Status, resp.Header)
	}
	return p
}

// handshake sends a raw request to srv and returns the response.
func handshake(t *testing.T, srv *httptest.Server, req string) *http.Response {
	t.Helper()
	_, resp := rawHandshake(t, srv.Listener.Addr().String(), []byte(req))
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The package's own server, and Dial.

// startEchoServer starts a Require server on 127.0.0.1, TLS or not, that
// echoes every message with its type.
func startEchoServer(t testing.TB, secure bool, opts *Options) *httptest.Server {
	t.Helper()
	h := Require(func(ws *Conn, r *http.Request) {
		for m := range ws.Messages() {
			if ws.SendMessage(m) != nil {
				return
			}
		}
	}, opts)
	var srv *httptest.Server
	if secure {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

// echoServer starts a plain echo server and returns its address.
func echoServer(t testing.TB, opts *Options) string {
	return startEchoServer(t, false, opts).Listener.Addr().String()
}

// wsURLOf returns the ws:// or wss:// URL of srv.
func wsURLOf(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// trustServer returns a TLS configuration that trusts srv's certificate.
func trustServer(srv *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// dialOK dials and fails the test on error; the connection is closed at
// cleanup.
func dialOK(t *testing.T, u string, opts *Options) (*Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	ws, resp, err := Dial(ctx, u, opts)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", u, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, resp
}

// Raw servers, for Dial.

// rawServer is a listener on 127.0.0.1 that runs serve for each
// connection. close shuts it down and waits for every serve to return; it
// also runs at cleanup.
type rawServer struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
	once  sync.Once
}

func startRawServer(t *testing.T, serve func(c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) addr() string { return s.ln.Addr().String() }

func (s *rawServer) close() {
	s.once.Do(func() {
		s.ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
}

// startUpgradeServer starts a raw server that reads each connection's
// upgrade request and hands it to answer, with the reader to read on
// from; a request it cannot read fails the test.
func startUpgradeServer(t *testing.T, answer func(c net.Conn, br *bufio.Reader, req *http.Request)) *rawServer {
	return startRawServer(t, func(c net.Conn) {
		br, req, err := readUpgradeRequest(c)
		if err != nil {
			t.Errorf("reading the upgrade request: %v", err)
			return
		}
		answer(c, br, req)
	})
}

// startSwitchingServer starts a raw server that sends each upgrade request
// it reads on reqs, answers it with a 101 holding the extra header lines,
// and then answers the client's close.
func startSwitchingServer(t *testing.T, reqs chan<- *http.Request, extra ...string) *rawServer {
	return startUpgradeServer(t, func(c net.Conn, br *bufio.Reader, req *http.Request) {
		reqs <- req
		io.WriteString(c, switching(req.Header.Get("Sec-WebSocket-Key"), extra...))
		answerClose(c, br)
	})
}

// readUpgradeRequest reads the client's request as a server would.
func readUpgradeRequest(c net.Conn) (*bufio.Reader, *http.Request, error) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	return br, req, err
}

// testAccept computes Sec-WebSocket-Accept for key, RFC 6455 §4.2.2,
// independently of acceptKey.
func testAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// switching is a 101 response to the request with key, with the extra
// header lines (each ending in CRLF).
func switching(key string, extra ...string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		testAccept(key) + "\r\n" + strings.Join(extra, "") + "\r\n"
}

// answerClose reads the client's frames until its close frame, and
// answers it, as a server does to end the connection cleanly.
func answerClose(c net.Conn, br *bufio.Reader) {
	for {
		f, err := readRawFrame(br)
		if err != nil {
			return
		}
		if f.b0&0x0f == 0x8 {
			c.Write(rawFrame(0x88, nil, f.payload))
			return
		}
	}
}

// waitClosed reads c until the peer closes it, and reports whether it did
// within testWait. A reset counts: the client may close with bytes unread.
func waitClosed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(testWait))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// Connection pairs, without a handshake.

// pipe returns the two ends of a connection over net.Pipe, with no
// handshake, closed at the end of the test. Both reader goroutines are
// started, as a write on a net.Pipe waits for the other end to read, so
// tests over pipe use the mailbox; tests over tcpPair let Wait read the
// socket itself.
func pipe(t testing.TB, opts *Options) (client, server *Conn) {
	a, b := net.Pipe()
	client, server = connPair(t, a, b, opts)
	client.startReader()
	server.startReader()
	return client, server
}

// tcpPair returns the two ends of a connection over 127.0.0.1 TCP, with no
// handshake and no reader goroutine started, closed at the end of the test.
func tcpPair(t testing.TB, opts *Options) (client, server *Conn) {
	a, b := tcpSockets(t)
	return connPair(t, a, b, opts)
}

// tcpSockets returns the two ends of a TCP connection over 127.0.0.1.
func tcpSockets(t testing.TB) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, _ := ln.Accept()
		accepted <- nc
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server = <-accepted; server == nil {
		t.Fatal("accept failed")
	}
	return client, server
}

// connPair makes a client Conn on a and a server Conn on b.
func connPair(t testing.TB, a, b net.Conn, opts *Options) (client, server *Conn) {
	o := opts.withDefaults()
	client = newConn(a, nil, true, o, "", nil)
	server = newConn(b, nil, false, o, "", nil)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-client.Done()
		<-server.Done()
	})
	return client, server
}

// transports runs f over net.Pipe and over TCP.
func transports(t *testing.T, opts *Options, f func(t *testing.T, client, server *Conn)) {
	for _, tr := range []struct {
		name string
		pair func(testing.TB, *Options) (*Conn, *Conn)
	}{{"pipe", pipe}, {"tcp", tcpPair}} {
		t.Run(tr.name, func(t *testing.T) {
			client, server := tr.pair(t, opts)
			f(t, client, server)
		})
	}
}

// Goroutine leaks.

// packageGoroutines returns the stacks of the goroutines, other than the
// caller's, that run this package's code or were started by it, keyed by
// their "goroutine N" line. Goroutine numbers are never reused, so a
// number tells a goroutine that ran before a test from one it started.
func packageGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	gs := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || !strings.Contains(g, "github.com/zerows/websocket.") {
			continue // the caller's own, or not ours
		}
		id, _, _ := strings.Cut(g, " [")
		gs[id] = g
	}
	return gs
}

// goroutinesLeftSince returns the stacks of this package's goroutines that
// are not in before, once they have had testWait to end; "" when none is
// left. It polls: a goroutine's end cannot be waited for from outside.
func goroutinesLeftSince(before map[string]string) string {
	deadline := time.Now().Add(testWait)
	for {
		var left []string
		for id, g := range packageGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			slices.Sort(left)
			return strings.Join(left, "\n\n")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkNoLeaks fails the test if goroutines of this package that it
// started outlive it and its cleanups registered after this call. A test
// that calls it must not be parallel, or it would see its neighbours'.
func checkNoLeaks(t *testing.T) {
	before := packageGoroutines()
	t.Cleanup(func() {
		if left := goroutinesLeftSince(before); left != "" {
			t.Errorf("goroutines left behind:\n%s", left)
		}
	})
}

// Small things.

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sizeName(n int) string { return fmt.Sprintf("size=%d", n) }

// logUnsafe returns the first thing in s that a log or terminal could take
// as a command, as a quoted string, or "" when there is none: invalid
// UTF-8, or a rune that is not printable (ESC, CR, BEL, DEL, C1 controls
// such as U+009B, which some terminals read as CSI).
func logUnsafe(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.QuoteRune(r)
		}
	}
	return ""
}

// hostile is what a hostile peer puts where an error may quote it:
// terminal escapes, a bell, a carriage return to overwrite the log line.
const hostile = "\x1b[2J\x1b[31mpwned\x07\rINFO all good\x9b31m\xc2\x9b"
