package fuzz

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/internal/wstest"
)

// bound bounds every wait: an answer, a Dial, a Conn's end, goroutines
// going away. Nothing legitimate comes close to it.
const bound = 5 * time.Second

// pipeConn is one end of a connection made of two net.Pipes, one per
// direction, so that either side can end the direction it writes, as TCP's
// FIN does, and still read the other, which net.Pipe alone cannot. Reads
// come from r; writes, addresses and write deadlines go to the embedded w.
type pipeConn struct {
	net.Conn // w
	r        net.Conn
}

func (c pipeConn) Read(p []byte) (int, error)        { return c.r.Read(p) }
func (c pipeConn) SetReadDeadline(t time.Time) error { return c.r.SetReadDeadline(t) }
func (c pipeConn) SetDeadline(t time.Time) error {
	c.r.SetReadDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}
func (c pipeConn) Close() error {
	c.r.Close()
	return c.Conn.Close()
}

// newPipe returns a connection's two ends: the library's, and the test's
// as separate write and read halves.
func newPipe() (lib pipeConn, testW, testR net.Conn) {
	testW, libR := net.Pipe()
	libW, testR := net.Pipe()
	return pipeConn{Conn: libW, r: libR}, testW, testR
}

// wantAccept is Sec-WebSocket-Accept for key, RFC 6455 §4.2.2, computed
// here rather than by the library.
func wantAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// tokens returns the elements of a comma-separated header list, over all
// its lines. strict trims only RFC 9110's OWS (space and tab); otherwise
// any Unicode white space is trimmed, as a lenient recipient may. Empty
// elements are dropped (RFC 9110 §5.6.1.2).
func tokens(h http.Header, name string, strict bool) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strict {
				t = strings.Trim(t, " \t")
			} else {
				t = strings.TrimSpace(t)
			}
			if t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// verdict is one rule's judgement of a request or response: met, broken,
// or "either" where the RFCs leave room for a lenient reading (a repeated
// Sec-WebSocket-Version field, white space other than OWS around a list
// element).
type verdict int

const (
	met verdict = iota
	broken
	either
)

func judge(strictOK, lenientOK bool) verdict {
	switch {
	case strictOK && lenientOK:
		return met
	case !strictOK && !lenientOK:
		return broken
	}
	return either
}

func hasToken(h http.Header, name, token string) verdict {
	has := func(strict bool) bool {
		return slices.ContainsFunc(tokens(h, name, strict), func(t string) bool { return strings.EqualFold(t, token) })
	}
	return judge(has(true), has(false))
}

// rule is one server-side rule with the status that breaking it earns.
type rule struct {
	name   string
	v      verdict
	status int
}

var (
	serverSubprotocols = []string{"superchat", "chat"} // in the server's order of preference
	originPatterns     = []string{"*.example.com"}
)

// upgradeRules are RFC 6455 §4.2.1's requirements on a client's opening
// handshake, with the statuses the library documents (405 for the method,
// 426 for the version, 400 otherwise), and its documented Origin policy
// (403): no Origin, or one Origin, see originAllowed.
func upgradeRules(r *http.Request) []rule {
	// One field (RFC 6455 §11.3.1: it MUST NOT appear more than once).
	key := met
	if keys := r.Header.Values("Sec-WebSocket-Key"); len(keys) != 1 || !validKey(keys[0]) {
		key = broken
	}
	// "13" (§4.2.1). A request should hold the field once; a server that
	// reads the first of several is common (and lenient), so a repeated
	// field that includes 13 may go either way.
	version := met
	switch vs := r.Header.Values("Sec-WebSocket-Version"); {
	case len(vs) == 1 && vs[0] == "13":
	case !slices.Contains(vs, "13"):
		version = broken
	default:
		version = either
	}
	origin := met
	if os := r.Header.Values("Origin"); len(os) > 1 {
		origin = broken
	} else if len(os) == 1 && os[0] != "" && !originAllowed(os[0], r) {
		origin = broken
	}
	method := met
	if r.Method != http.MethodGet {
		method = broken
	}
	proto := met
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		proto = broken
	}
	return []rule{
		{"method GET", method, http.StatusMethodNotAllowed},
		{"HTTP/1.1", proto, http.StatusBadRequest},
		{"Connection: upgrade", hasToken(r.Header, "Connection", "upgrade"), http.StatusBadRequest},
		{"Upgrade: websocket", hasToken(r.Header, "Upgrade", "websocket"), http.StatusBadRequest},
		{"Sec-WebSocket-Version: 13", version, http.StatusUpgradeRequired},
		{"Sec-WebSocket-Key of 16 bytes", key, http.StatusBadRequest},
		{"Origin allowed", origin, http.StatusForbidden},
	}
}

// originAllowed is the documented Origin policy for a plain (not TLS)
// server: the origin must be scheme://host[:port] and nothing else, its
// host ASCII letters, digits, '-', '.' and '_' or a bracketed IPv6
// address, its port digits; then its scheme is http or https, and its host
// and port (default ports left out) are the Host header's, or its
// host[:port] matches one of originPatterns.
func originAllowed(origin string, r *http.Request) bool {
	defaultPort := map[string]string{"http": "80", "ws": "80", "https": "443", "wss": "443"}
	_, rest, ok := strings.Cut(origin, "://")
	if !ok || strings.ContainsAny(rest, "/?#@%,") || strings.HasSuffix(rest, ":") {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != rest || u.Hostname() == "" {
		return false
	}
	host, port := u.Hostname(), u.Port()
	ipv6 := strings.HasPrefix(rest, "[")
	for _, c := range host {
		okChar := ipv6 && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') ||
			!ipv6 && (c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '.' || c == '_')
		if !okChar {
			return false
		}
	}
	if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return false
	}
	if port == defaultPort[u.Scheme] {
		port = ""
	}
	hostPort := strings.ToLower(host)
	if ipv6 {
		hostPort = "[" + hostPort + "]"
	}
	if port != "" {
		hostPort += ":" + port
	}
	// The request's own: Host split the same way.
	reqHost, reqPort := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		reqHost, reqPort = h, p
	}
	if len(reqHost) > 1 && reqHost[0] == '[' && reqHost[len(reqHost)-1] == ']' {
		reqHost = reqHost[1 : len(reqHost)-1]
	}
	if (u.Scheme == "http" || u.Scheme == "https") && asciiLower(reqHost) == asciiLower(host) {
		if reqPort == defaultPort[u.Scheme] {
			reqPort = ""
		}
		if reqPort == port {
			return true
		}
	}
	for _, p := range originPatterns {
		if m, _ := path.Match(strings.ToLower(p), hostPort); m {
			return true
		}
	}
	return false
}

// asciiLower lowers ASCII letters only, as the Host comparison does.
func asciiLower(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'A' && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}, s)
}

// validKey reports whether key is the base64 encoding of 16 bytes, in its
// one canonical form (RFC 4648 §3.5 lets a decoder refuse others).
func validKey(key string) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16 && base64.StdEncoding.EncodeToString(b) == key
}

// serverPick returns the subprotocols the server may select for r: the
// first of its own, in its order, that the client offered, with offers
// read strictly and leniently (one of each, possibly the same).
func serverPick(r *http.Request) []string {
	var picks []string
	for _, strict := range []bool{true, false} {
		offered := tokens(r.Header, "Sec-WebSocket-Protocol", strict)
		pick := ""
		for _, s := range serverSubprotocols {
			if slices.Contains(offered, s) {
				pick = s
				break
			}
		}
		picks = append(picks, pick)
	}
	return picks
}

// handlerCall is what the handler saw of one request.
type handlerCall struct {
	req         *http.Request
	upgraded    bool
	subprotocol string
	panicked    any
	stack       string
}

// lockedBuffer collects the http.Server's error log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var (
	stackMu  sync.Mutex
	stackBuf = make([]byte, 64<<10) // reused: a fresh megabyte per input would keep the GC busy
)

// settle waits until no goroutine but the caller and the fuzzing engine's
// runs code of the library, of this package or of net/http, and fails t if
// one still does after bound: each input must release everything it started. Goroutines
// are told apart by their stacks, not counted, because the fuzzing engine
// may still be ending the previous input's goroutine when the next input
// starts.
func settle(t *testing.T, what string) {
	stackMu.Lock()
	defer stackMu.Unlock()
	deadline := time.Now().Add(bound)
	for try := 0; ; try++ {
		n := runtime.Stack(stackBuf, true)
		if n == len(stackBuf) {
			stackBuf = make([]byte, 2*len(stackBuf))
			continue
		}
		all := string(stackBuf[:n])
		var busy []string
		for i, g := range strings.Split(all, "\n\n") {
			ours := strings.Contains(g, "github.com/zerows/websocket") || strings.Contains(g, "net/http.")
			if i > 0 && ours && !strings.Contains(g, "testing.(*F).Fuzz") {
				busy = append(busy, g)
			}
		}
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: goroutines still running after %v:\n%s", what, bound, strings.Join(busy, "\n\n"))
		}
		if try < 20 {
			runtime.Gosched() // most goroutines are a step from their end
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

const rfcRequest = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n"

// FuzzUpgradeRequest: see the package documentation.
func FuzzUpgradeRequest(f *testing.F) {
	// RFC 6455 §1.2's example request, whose Origin (example.com) differs
	// from its Host but matches no pattern: 403.
	f.Add([]byte(rfcRequest))
	// The same from a subdomain of example.com, which the pattern admits:
	// 101, with superchat chosen by the server's preference, not chat.
	f.Add([]byte(strings.Replace(rfcRequest, "http://example.com", "https://app.example.com", 1)))
	// Version 8: 426 with Sec-WebSocket-Version: 13.
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"))
	// POST with a body: 405.
	f.Add([]byte("POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 2\r\n\r\nhi"))
	// A valid upgrade followed at once by a masked text frame and a close:
	// bytes net/http reads ahead must reach the Conn.
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
		"\x81\x82\x00\x00\x00\x00hi\x88\x82\x00\x00\x00\x00\x03\xe8"))
	// A request cut inside its headers: net/http closes, the handler never runs.
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\nUpgr"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 1<<16 {
			return
		}
		lib, testW, testR := newPipe()

		var mu sync.Mutex
		var calls []*handlerCall
		require := websocket.Require(func(ws *websocket.Conn, r *http.Request) {
			mu.Lock()
			c := calls[len(calls)-1]
			c.upgraded, c.subprotocol = true, ws.Subprotocol()
			mu.Unlock()
			for range ws.Messages() {
			}
		}, &websocket.Options{Subprotocols: serverSubprotocols, OriginPatterns: originPatterns})
		var errorLog lockedBuffer
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c := &handlerCall{req: r}
				mu.Lock()
				calls = append(calls, c)
				mu.Unlock()
				defer func() {
					if p := recover(); p != nil {
						buf := make([]byte, 64<<10)
						mu.Lock()
						c.panicked, c.stack = p, string(buf[:runtime.Stack(buf, false)])
						mu.Unlock()
					}
				}()
				require.ServeHTTP(w, r)
			}),
			ErrorLog: log.New(&errorLog, "", 0),
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			srv.Serve(wstest.ListenOnce(lib))
		}()
		go func() {
			testW.Write(raw) // fails once the server has closed
			testW.Close()    // the request's end, as a FIN
		}()

		testR.SetReadDeadline(time.Now().Add(bound))
		resp, err := http.ReadResponse(bufio.NewReader(testR), nil)
		var ne net.Error
		hung := errors.As(err, &ne) && ne.Timeout()
		testR.Close()
		testW.Close()
		srv.Close()
		<-served
		settle(t, fmt.Sprintf("request %q", raw))

		mu.Lock()
		defer mu.Unlock()
		for _, c := range calls {
			if c.panicked != nil {
				t.Fatalf("request %q: the handler panicked: %v\n%s", raw, c.panicked, c.stack)
			}
		}
		if strings.Contains(errorLog.String(), "panic") {
			t.Fatalf("request %q: the server logged a panic:\n%s", raw, errorLog.String())
		}
		if hung {
			t.Fatalf("request %q: no answer and no close within %v", raw, bound)
		}
		if len(calls) == 0 {
			if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
				t.Fatalf("request %q: 101 without the handler", raw)
			}
			return // net/http's own answer, or none
		}
		if err != nil {
			t.Fatalf("request %q: the handler ran, but reading its answer failed: %v", raw, err)
		}
		// The first answer is the first handler's: net/http closes the
		// connection after its own error answers.
		c := calls[0]
		rules := upgradeRules(c.req)
		if resp.StatusCode == http.StatusSwitchingProtocols {
			for _, r := range rules {
				if r.v == broken {
					t.Fatalf("request %q: 101, but the rule %q is broken", raw, r.name)
				}
			}
			if !c.upgraded {
				t.Fatalf("request %q: 101, but the handler got no Conn", raw)
			}
			h := resp.Header
			if got, want := h.Values("Sec-WebSocket-Accept"), wantAccept(c.req.Header.Get("Sec-WebSocket-Key")); len(got) != 1 || got[0] != want {
				t.Fatalf("request %q: Sec-WebSocket-Accept %q, want %q", raw, got, want)
			}
			if hasToken(h, "Upgrade", "websocket") != met || hasToken(h, "Connection", "upgrade") != met {
				t.Fatalf("request %q: 101 with Upgrade %q, Connection %q", raw, h.Values("Upgrade"), h.Values("Connection"))
			}
			if len(h.Values("Sec-WebSocket-Extensions")) > 0 {
				t.Fatalf("request %q: 101 selects extensions %q, none of which the server has", raw, h.Values("Sec-WebSocket-Extensions"))
			}
			got := h.Values("Sec-WebSocket-Protocol")
			picks := serverPick(c.req)
			if !(len(got) == 0 && slices.Contains(picks, "") || len(got) == 1 && slices.Contains(picks, got[0])) || strings.Join(got, "") != c.subprotocol {
				t.Fatalf("request %q: subprotocol %q (Conn says %q), want one of %q", raw, got, c.subprotocol, picks)
			}
			return
		}
		if c.upgraded {
			t.Fatalf("request %q: the handler got a Conn, but the answer is %s", raw, resp.Status)
		}
		var cause *rule
		for i, r := range rules {
			if r.v != met && r.status == resp.StatusCode {
				cause = &rules[i]
			}
		}
		if cause == nil {
			t.Fatalf("request %q: %s, which no broken rule calls for (rules %+v)", raw, resp.Status, rules)
		}
		if resp.StatusCode == http.StatusUpgradeRequired && resp.Header.Get("Sec-WebSocket-Version") != "13" {
			t.Fatalf("request %q: 426 without Sec-WebSocket-Version: 13", raw)
		}
	})
}

// responseRules are RFC 6455 §4.1's requirements on the server's 101
// response to a client that sent key and offered the subprotocols offered,
// and no extension.
func responseRules(h http.Header, key string, offered []string) []rule {
	// Exactly the expected value (§4.1), in one field (§11.3.3): two fields
	// make a value that is not the expected one.
	accept := met
	if vs := h.Values("Sec-WebSocket-Accept"); len(vs) != 1 || vs[0] != wantAccept(key) {
		accept = broken
	}
	ext := met
	if strict, lenient := len(tokens(h, "Sec-WebSocket-Extensions", true)) > 0, len(tokens(h, "Sec-WebSocket-Extensions", false)) > 0; strict || lenient {
		ext = judge(!strict, !lenient)
	}
	proto := func(strict bool) bool {
		ps := tokens(h, "Sec-WebSocket-Protocol", strict)
		return len(ps) == 0 || len(ps) == 1 && slices.Contains(offered, ps[0])
	}
	return []rule{
		{"Upgrade: websocket", hasToken(h, "Upgrade", "websocket"), 0},
		{"Connection: upgrade", hasToken(h, "Connection", "upgrade"), 0},
		{"Sec-WebSocket-Accept", accept, 0},
		{"no extension", ext, 0},
		{"one offered subprotocol or none", judge(proto(true), proto(false)), 0},
	}
}

// clientFrame is one frame a client wrote, payload unmasked.
type clientFrame struct {
	b0      byte
	masked  bool
	payload []byte
}

// readFrames decodes the frames in b (RFC 6455 §5.2); a frame cut short by
// the end of b is reported by cut.
func readFrames(b []byte) (frames []clientFrame, cut bool) {
	for len(b) > 0 {
		if len(b) < 2 {
			return frames, true
		}
		f := clientFrame{b0: b[0], masked: b[1]&0x80 != 0}
		n, p := uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return frames, true
			}
			n, p = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return frames, true
			}
			n, p = binary.BigEndian.Uint64(b[2:]), 10
		}
		var key []byte
		if f.masked {
			if len(b) < p+4 {
				return frames, true
			}
			key, p = b[p:p+4], p+4
		}
		if uint64(len(b)-p) < n {
			return frames, true
		}
		f.payload = bytes.Clone(b[p : p+int(n)])
		for i := range f.payload {
			if key != nil {
				f.payload[i] ^= key[i%4]
			}
		}
		frames = append(frames, f)
		b = b[p+int(n):]
	}
	return frames, false
}

// acceptPlaceholder in FuzzDialResponse's input is replaced with the
// Sec-WebSocket-Accept value for the key of Dial's request.
const acceptPlaceholder = "{{accept}}"

// maxErrorText bounds the length of an error's text: a Dial error quotes
// at most a few excerpts of what the server sent, each cut short.
const maxErrorText = 8 << 10

// unsafeToLog says what in s must not reach a log or a terminal, or ""
// when nothing does: invalid UTF-8, a C0 control (tab included), DEL, a C1
// control such as U+009B (CSI to some terminals), or a length over
// maxErrorText.
func unsafeToLog(s string) string {
	if len(s) > maxErrorText {
		return fmt.Sprintf("%d bytes", len(s))
	}
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 || 0x7f <= r && r < 0xa0 {
			return fmt.Sprintf("%U", r)
		}
	}
	return ""
}

// FuzzDialResponse: see the package documentation.
func FuzzDialResponse(f *testing.F) {
	const ok101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptPlaceholder + "\r\n"
	// A valid upgrade: Dial returns a Conn, which sees the server's direction end.
	f.Add([]byte(ok101 + "\r\n"))
	// A valid upgrade with the offered subprotocol chat, then a text frame
	// and a close frame in the same write: the Conn's first frames.
	f.Add([]byte(ok101 + "Sec-WebSocket-Protocol: chat\r\n\r\n\x81\x02hi\x88\x02\x03\xe8"))
	// An accept value for another key: refused.
	f.Add([]byte(strings.Replace(ok101, acceptPlaceholder, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 1) + "\r\n"))
	// A subprotocol that was not offered: refused.
	f.Add([]byte(ok101 + "Sec-WebSocket-Protocol: soap\r\n\r\n"))
	// An interim 103 before the 101: skipped.
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + ok101 + "\r\n"))
	// A refusal with a body: a *HandshakeError with status 403.
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope\n"))
	// A response cut in its headers: io.ErrUnexpectedEOF.
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgr"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 1<<16 {
			return
		}
		lib, testW, testR := newPipe()

		var key string
		var reqErr error
		var received []byte
		served := make(chan struct{})
		go func() { // the server
			defer close(served)
			br := bufio.NewReader(testR)
			req, err := http.ReadRequest(br)
			if err != nil {
				reqErr = err
				testW.Close()
				testR.Close()
				return
			}
			key = req.Header.Get("Sec-WebSocket-Key")
			testW.Write(bytes.ReplaceAll(raw, []byte(acceptPlaceholder), []byte(wantAccept(key))))
			testW.Close() // the response's end, as a FIN
			received, _ = io.ReadAll(br)
			testR.Close()
		}()

		offered := []string{"chat", "superchat"}
		opts := &websocket.Options{
			Subprotocols: offered,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return lib, nil
			},
			Proxy: func(*http.Request) (*url.URL, error) { return nil, nil },
		}
		start := time.Now()
		ws, resp, err := websocket.Dial(context.Background(), "ws://server.example/chat?room=1", opts)
		if d := time.Since(start); d > bound {
			t.Fatalf("response %q: Dial took %v", raw, d)
		}
		sendErr := errors.New("not sent")
		if err == nil {
			sendErr = ws.SendText("hello")
			select {
			case <-ws.Done():
			case <-time.After(bound):
				t.Fatalf("response %q: the Conn is not done %v after the server's direction ended", raw, bound)
			}
		}
		select {
		case <-served:
		case <-time.After(bound):
			t.Fatalf("response %q: Dial returned %v, but the connection is still open", raw, err)
		}
		settle(t, fmt.Sprintf("response %q", raw))
		if reqErr != nil {
			t.Fatalf("Dial's request does not parse: %v", reqErr)
		}

		if err != nil {
			if ws != nil {
				t.Fatalf("response %q: Dial returned a Conn and the error %v", raw, err)
			}
			if bad := unsafeToLog(err.Error()); bad != "" {
				t.Fatalf("response %q: Dial's error %q holds %s", raw, err, bad)
			}
			if resp == nil {
				return
			}
			var herr *websocket.HandshakeError
			if !errors.As(err, &herr) || herr.Status != resp.StatusCode {
				t.Fatalf("response %q: Dial failed with %#v, want a *HandshakeError with status %d", raw, err, resp.StatusCode)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				if body, err := io.ReadAll(resp.Body); err != nil || len(body) > 1024 {
					t.Fatalf("response %q: body of %d bytes (%v), want at most 1 KiB", raw, len(body), err)
				}
				return
			}
			broke := false
			for _, r := range responseRules(resp.Header, key, offered) {
				broke = broke || r.v != met
			}
			if !broke {
				t.Fatalf("response %q: a valid 101 refused: %v", raw, err)
			}
			return
		}

		if resp == nil || resp.StatusCode != http.StatusSwitchingProtocols || resp.Body != http.NoBody {
			t.Fatalf("response %q: Dial succeeded with response %+v", raw, resp)
		}
		for _, r := range responseRules(resp.Header, key, offered) {
			if r.v == broken {
				t.Fatalf("response %q: Dial accepted a 101 that breaks %q", raw, r.name)
			}
		}
		if got := tokens(resp.Header, "Sec-WebSocket-Protocol", false); strings.Join(got, "") != ws.Subprotocol() {
			t.Fatalf("response %q: the server selected %q, the Conn says %q", raw, got, ws.Subprotocol())
		}
		var ce *websocket.CloseError
		if !errors.As(ws.Err(), &ce) {
			t.Fatalf("response %q: the Conn ended with %#v, want a *CloseError", raw, ws.Err())
		}
		frames, _ := readFrames(received) // a pong may be cut by the close
		sawHello, sawClose := false, false
		for _, fr := range frames {
			if !fr.masked || fr.b0&0xf0 != 0x80 || sawClose {
				t.Fatalf("response %q: the client wrote %#x (masked %v) after %d frames, close sent %v", raw, fr.b0, fr.masked, len(frames), sawClose)
			}
			switch fr.b0 & 0x0f {
			case 0x1:
				sawHello = sawHello || string(fr.payload) == "hello"
			case 0x8:
				sawClose = true
			case 0xa:
			default:
				t.Fatalf("response %q: the client wrote opcode %#x unasked", raw, fr.b0&0x0f)
			}
		}
		if sendErr == nil && !sawHello {
			t.Fatalf("response %q: SendText succeeded, but the server received %q", raw, received)
		}
	})
}
