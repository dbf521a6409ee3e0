//go:build !js

package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// maxResponseHeaderBytes bounds the response headers Dial reads, the
	// proxy's and the server's, so that a server cannot make it buffer
	// without end. Cookies make 1 MiB generous rather than tight.
	maxResponseHeaderBytes = 1 << 20
	// maxErrorBodyBytes is how much of a refusal's body Dial keeps for the
	// caller: enough for an error message, too little to matter.
	maxErrorBodyBytes = 1 << 10
)

// Dial opens a WebSocket connection to url, a ws:// or wss:// URL, with the
// opening handshake of RFC 6455 §4.1, and returns the connection and the
// server's response. opts may be nil.
//
// Dial connects with opts.DialContext (a net.Dialer when nil), through the
// HTTP or HTTPS proxy that opts.Proxy names (http.ProxyFromEnvironment when
// nil, which sees ws:// as http:// and wss:// as https://) by CONNECT, with
// Basic Proxy-Authorization when the proxy URL has user info. For wss:// it
// speaks TLS with a copy of opts.TLSConfig whose ServerName defaults to the
// URL's host and whose NextProtos is always "http/1.1" (an HTTPS proxy gets
// the same copy, with the proxy's name). The request carries opts.Header
// (Origin, Authorization, Cookie, …) and offers opts.Subprotocols in their
// order; see Options.Header for the fields it may not hold, and for
// Proxy-Authorization, which goes to the proxy alone. permessage-deflate
// is offered when opts.Compression asks for it; a server's answer that
// RFC 7692 does not allow (an extension not offered, a parameter unknown,
// repeated or out of range) fails Dial with a *HandshakeError saying so.
//
// Before anything is sent, Dial refuses a URL with user info, a fragment
// or a host that is not ASCII (an internationalized name must be given in
// its punycode "xn--" form), and an opts.Header field that Options.Header
// does not allow or whose name is not a token or whose value has a control
// character other than tab.
//
// The whole handshake, from dialing to the end of the response, is bounded
// by opts.HandshakeTimeout (10 s by default) and by ctx. If the timeout
// passes, the error satisfies errors.Is(err, context.DeadlineExceeded) and
// is a net.Error whose Timeout method reports true; if ctx ends first, the
// error wraps ctx.Err(). ctx does not matter once Dial has returned.
//
// When the server answers, but not with a valid upgrade, the error is a
// *HandshakeError whose Status is the response's status and whose Reason
// says what was wrong, and the response is returned too. For a status other
// than 101, its Body holds at most the first 1 KiB of the server's body, as
// much of it as came within the handshake's time. Interim 1xx responses are
// skipped. A proxy that refuses the tunnel also gives a *HandshakeError,
// with the proxy's status and no response. Other failures (dialing, TLS,
// the connection closing before a response, which is io.ErrUnexpectedEOF)
// are wrapped. In every failure the connection is closed.
//
// Error messages are safe to log: they name the URL without user info,
// query or fragment ("ws://host:port/path?…"), and what they quote of a
// server's or proxy's bytes (a body's first line, header values, a TLS
// certificate's names) is bounded and has control characters escaped as
// strconv.Quote does.
//
// On success the response's Body is http.NoBody, and any bytes the server
// sent after its response are the connection's first frames.
//
// Under GOOS=js GOARCH=wasm, Dial opens the connection with the JavaScript
// environment's WebSocket (a browser's, or Node.js's) and returns the same
// Conn; the options a page cannot apply (Header, TLSConfig, DialContext,
// Proxy, Compression, PingInterval) fail it, and Ping fails on its Conn.
// "GOOS=js GOARCH=wasm go doc Dial" tells the rest.
func Dial(ctx context.Context, url string, opts *Options) (*Conn, *http.Response, error) {
	o := opts.withDefaults()
	u, err := parseURL(url)
	if err != nil {
		return nil, nil, err
	}
	key := newChallengeKey()
	req, proxyAuth, err := newRequest(ctx, u, key, o)
	if err != nil {
		return nil, nil, &dialError{url: redactURL(u), err: err}
	}
	d := &dialer{ctx: ctx, o: o, u: u, proxyAuth: proxyAuth, deadline: time.Now().Add(o.HandshakeTimeout)}
	if cd, ok := ctx.Deadline(); ok && cd.Before(d.deadline) {
		d.deadline, d.ctxFirst = cd, true
	}
	return d.dial(req, key)
}

// handshakeHeaders are the request fields Dial sets itself, canonical.
var handshakeHeaders = []string{
	"Host", hdrUpgrade, hdrConnection, hdrKey, hdrVersion, hdrProtocol, hdrExtensions,
}

// refusedHeaders are the fields Options.Header may not hold, compared
// case-insensitively, each with the reason Dial gives. Each would either
// contradict what Dial sends, or change how the request is framed (RFC
// 9112 §6) or forwarded (hop-by-hop, RFC 9110 §7.6.1): better an error
// than a request that a server or proxy reads otherwise than Dial meant.
var refusedHeaders = []struct{ name, why string }{
	{"Host", "the URL names the host (to connect elsewhere, set Options.DialContext)"},
	{"Upgrade", "Dial sets it"},
	{"Connection", "Dial sets it"},
	{"Sec-WebSocket-Key", "Dial sets it"},
	{"Sec-WebSocket-Version", "Dial sets it"},
	{"Sec-WebSocket-Accept", "it is the server's"},
	{"Sec-WebSocket-Extensions", "Options.Compression sets it"},
	{"Sec-WebSocket-Protocol", "Options.Subprotocols sets it"},
	{"Content-Length", "the request has no body"},
	{"Transfer-Encoding", "the request has no body"},
	{"Trailer", "the request has no body"},
	{"TE", "it is hop-by-hop"},
	{"Keep-Alive", "it is hop-by-hop"},
	{"Proxy-Connection", "it is hop-by-hop"},
}

// hdrProxyAuthorization goes from Options.Header to the proxy only.
const hdrProxyAuthorization = "Proxy-Authorization"

// checkHeaderField returns an error if Options.Header may not hold the
// field name with these values: name must be a token (RFC 9110 §5.1), not
// one of refusedHeaders, and each value free of control characters but
// tab (RFC 9110 §5.5). It runs before anything is sent, so that a value
// can neither add a line to the request nor carry a control byte (ESC,
// DEL, …) to the server or a proxy.
func checkHeaderField(name string, values []string) error {
	if !isToken(name) {
		return errors.New("Options.Header has an invalid field name " + quoteText(name, maxQuoteBytes))
	}
	for _, r := range refusedHeaders {
		if strings.EqualFold(name, r.name) {
			return errors.New("Options.Header may not hold " + r.name + ": " + r.why)
		}
	}
	for _, v := range values {
		// The value is not shown: it may be a credential.
		if !validHeaderValue(v) {
			return errors.New("Options.Header has an invalid value for " + name + ": control characters other than tab are not allowed")
		}
	}
	if len(values) > 1 && strings.EqualFold(name, hdrProxyAuthorization) {
		return errors.New("Options.Header has more than one " + hdrProxyAuthorization)
	}
	return nil
}

// newRequest builds the upgrade request, with the ws URL mapped to http(s)
// so that proxy rules written for HTTP apply. Its Header holds every field
// Dial sends to the server but Host, under canonical names for the
// handshake's own. proxyAuth is Options.Header's Proxy-Authorization,
// which only a proxy gets.
func newRequest(ctx context.Context, u *neturl.URL, key string, o *Options) (req *http.Request, proxyAuth string, err error) {
	for i, p := range o.Subprotocols {
		if !isToken(p) || slices.Contains(o.Subprotocols[:i], p) {
			return nil, "", errors.New("invalid or repeated subprotocol " + quoteText(p, maxQuoteBytes))
		}
	}
	own := 4 // Upgrade, Connection, Sec-WebSocket-Key and -Version
	if len(o.Subprotocols) > 0 {
		own++
	}
	offer := deflateOffer(o.Compression)
	if offer != "" {
		own++
	}
	h := make(http.Header, len(o.Header)+own)
	for name, values := range o.Header {
		if err := checkHeaderField(name, values); err != nil {
			return nil, "", err
		}
		if strings.EqualFold(name, hdrProxyAuthorization) {
			if len(values) > 0 {
				proxyAuth = values[0]
			}
			continue
		}
		h[name] = slices.Clone(values)
	}

	// The handshake's values share one array, each slice capped at its
	// own element.
	v := make([]string, own)
	v[0], v[1], v[2], v[3] = "websocket", "Upgrade", key, "13"
	h[hdrUpgrade], h[hdrConnection], h[hdrKey], h[hdrVersion] = v[0:1:1], v[1:2:2], v[2:3:3], v[3:4:4]
	if len(o.Subprotocols) > 0 {
		v[4] = strings.Join(o.Subprotocols, ", ")
		h[hdrProtocol] = v[4:5:5]
	}
	if offer != "" {
		v[own-1] = offer
		h[hdrExtensions] = v[own-1 : own : own]
	}
	hu := *u
	hu.Scheme = "http"
	if u.Scheme == "wss" {
		hu.Scheme = "https"
	}
	r := &http.Request{
		Method:     http.MethodGet,
		URL:        &hu,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       strings.TrimSuffix(u.Host, ":"),
	}
	return r.WithContext(ctx), proxyAuth, nil
}

// appendRequest appends req, the opening handshake, to b: the request
// line, Host, the handshake's own fields, then the others sorted by name.
func appendRequest(b []byte, req *http.Request) []byte {
	b = append(b, "GET "...)
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.Host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, req.Header[hdrKey][0]...)
	b = append(b, "\r\nSec-WebSocket-Version: 13\r\n"...)
	for _, p := range req.Header[hdrProtocol] {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, p...)
		b = append(b, "\r\n"...)
	}
	for _, e := range req.Header[hdrExtensions] {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(b, e...)
		b = append(b, "\r\n"...)
	}
	var names []string
	for name := range req.Header {
		if !slices.Contains(handshakeHeaders, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range req.Header[name] {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// dialer holds one Dial's state.
type dialer struct {
	ctx      context.Context // the caller's
	deadline time.Time       // the handshake's end: the timeout's, or ctx's if earlier
	ctxFirst bool            // the deadline is ctx's
	o        *Options
	u        *neturl.URL
	// proxyAuth is Options.Header's Proxy-Authorization, for the proxy's
	// CONNECT request only: the server must never see it.
	proxyAuth string
	deflate   *deflater // what the server's response negotiated
}

func (d *dialer) dial(req *http.Request, key string) (*Conn, *http.Response, error) {
	proxy, err := d.o.Proxy(req)
	if err != nil {
		return nil, nil, d.fail("finding the proxy", err)
	}
	addr := hostPort(d.u.Hostname(), d.u.Port(), d.u.Scheme == "wss")
	dialAddr, step := addr, "dialing"
	if proxy != nil {
		if dialAddr, err = d.proxyAddr(proxy); err != nil {
			return nil, nil, err
		}
		step = "dialing the proxy"
	}

	nc, err := d.dialTCP(dialAddr)
	if err != nil {
		return nil, nil, d.fail(step, err)
	}
	if nc == nil {
		return nil, nil, d.fail(step, errors.New("DialContext returned no connection to "+dialAddr))
	}
	w := d.watch(nc)
	buf := getHandshakeBuffer()
	defer putHandshakeBuffer(buf)
	conn, resp, subprotocol, err := d.handshake(nc, buf, req, key, proxy, addr)
	if !w.stop() && err == nil {
		// The connection was closed under the finished handshake.
		err = d.fail("handshake", d.ctxErr())
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	return newConnDeflate(conn, bufferedBytes(buf.br), true, d.o, subprotocol, nil, d.deflate), resp, nil
}

// dialTCP opens the TCP connection with Options.DialContext, within the
// handshake's deadline.
func (d *dialer) dialTCP(addr string) (net.Conn, error) {
	dial := d.o.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	if d.ctxFirst {
		return dial(d.ctx, "tcp", addr)
	}
	ctx, cancel := context.WithDeadline(d.ctx, d.deadline)
	defer cancel()
	return dial(ctx, "tcp", addr)
}

// watchdog bounds the handshake's steps on a connection: its deadline is
// the handshake's (or, for a connection without deadlines, a timer closes
// it then), and ctx ending closes it, which unblocks whatever step waits.
type watchdog struct {
	nc      net.Conn
	timer   *time.Timer // only for a connection without deadlines
	stopCtx func() bool // nil when ctx cannot end before its deadline
}

func (d *dialer) watch(nc net.Conn) watchdog {
	w := watchdog{nc: nc}
	if nc.SetDeadline(d.deadline) != nil {
		w.timer = time.AfterFunc(time.Until(d.deadline), func() { nc.Close() })
	}
	if d.ctx.Done() != nil {
		w.stopCtx = context.AfterFunc(d.ctx, func() { nc.Close() })
	}
	return w
}

// stop ends the watch and lifts the deadline. It reports false if the
// connection has been or is being closed by the watch.
func (w watchdog) stop() bool {
	open := true
	if w.stopCtx != nil && !w.stopCtx() {
		open = false
	}
	if w.timer != nil {
		open = w.timer.Stop() && open
	} else if open {
		w.nc.SetDeadline(time.Time{})
	}
	return open
}

// handshakeBuffer is the memory one handshake borrows from a pool: the
// reader of the response, and the request's bytes.
type handshakeBuffer struct {
	lr  limitedReader
	br  *bufio.Reader // reads lr
	req []byte
}

var handshakeBuffers = sync.Pool{New: func() any {
	b := &handshakeBuffer{req: make([]byte, 0, 512)}
	b.br = bufio.NewReaderSize(&b.lr, handshakeBufferSize)
	return b
}}

func getHandshakeBuffer() *handshakeBuffer { return handshakeBuffers.Get().(*handshakeBuffer) }

func putHandshakeBuffer(b *handshakeBuffer) {
	b.lr = limitedReader{}
	b.br.Reset(&b.lr)
	if cap(b.req) <= 8<<10 {
		handshakeBuffers.Put(b)
	}
}

// handshake runs everything after the TCP connection: the proxy's CONNECT,
// TLS, and the opening handshake. It returns the connection to speak
// WebSocket on; buf.br holds what the server sent after its response.
func (d *dialer) handshake(nc net.Conn, buf *handshakeBuffer, req *http.Request, key string, proxy *neturl.URL, addr string) (net.Conn, *http.Response, string, error) {
	conn := nc
	if proxy != nil {
		var err error
		if conn, err = d.tunnel(conn, proxy, addr); err != nil {
			return nil, nil, "", err
		}
	}
	var state *tls.ConnectionState
	if d.u.Scheme == "wss" {
		tc, err := d.startTLS(conn)
		if err != nil {
			return nil, nil, "", err
		}
		cs := tc.ConnectionState()
		state = &cs
		conn = tc
	}

	buf.req = appendRequest(buf.req[:0], req)
	if _, err := conn.Write(buf.req); err != nil {
		return nil, nil, "", d.fail("writing the request", err)
	}
	buf.lr = limitedReader{r: conn, n: maxResponseHeaderBytes}
	resp, err := readResponse(buf.br, req)
	if err != nil {
		return nil, nil, "", d.readFailed(&buf.lr, "reading the response", "", err)
	}
	buf.lr.n = -1 // the rest is the connection's
	resp.TLS = state

	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, "", &HandshakeError{resp.StatusCode, "the server did not switch protocols" + bodyExcerpt(body)}
	}
	resp.Body = http.NoBody
	subprotocol, herr := checkResponse(resp, key, d.o.Subprotocols)
	if herr != nil {
		return nil, resp, "", herr
	}
	negotiated, compress, err := checkDeflateResponse(resp.Header[hdrExtensions], d.o.Compression)
	if err != nil {
		return nil, resp, "", &HandshakeError{resp.StatusCode, err.Error()}
	}
	if compress {
		d.deflate = newDeflater(negotiated, d.o)
	}
	return conn, resp, subprotocol, nil
}

// checkResponse applies the client's rules of RFC 6455 §4.1 to a 101
// response and returns the subprotocol it selects.
func checkResponse(resp *http.Response, key string, offered []string) (string, *HandshakeError) {
	fail := func(reason string) (string, *HandshakeError) {
		return "", &HandshakeError{resp.StatusCode, reason}
	}
	h := resp.Header // canonical: from http.ReadResponse or readSwitching
	if !headerHasToken(h[hdrUpgrade], "websocket") {
		return fail(`Upgrade header lacks the "websocket" token`)
	}
	if !headerHasToken(h[hdrConnection], "upgrade") {
		return fail(`Connection header lacks the "upgrade" token`)
	}
	var want [acceptKeyLen]byte
	switch accept := h[hdrAccept]; {
	case len(accept) == 0:
		return fail("Sec-WebSocket-Accept header is missing")
	case len(accept) > 1 || accept[0] != string(appendAcceptKey(want[:0], key)):
		return fail("Sec-WebSocket-Accept " + quoteText(strings.Join(accept, ", "), maxQuoteBytes) + " does not match the key sent")
	}
	protocols := headerTokens(h[hdrProtocol])
	switch {
	case len(protocols) == 0:
		return "", nil
	case len(protocols) > 1:
		return fail("the server selected more than one subprotocol: " + quoteText(strings.Join(protocols, ", "), maxQuoteBytes))
	case !slices.Contains(offered, protocols[0]):
		return fail("the server selected subprotocol " + quoteText(protocols[0], maxQuoteBytes) + ", which was not offered")
	}
	return protocols[0], nil
}

// bodyExcerpt returns the first line of a refusal's body for its error.
func bodyExcerpt(body []byte) string {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return ""
	}
	return ": " + quoteText(string(line), maxQuoteBytes)
}

var errResponseTooLarge = errors.New("response too large")

// limitedReader is the reader under the handshake's bufio.Reader. While n
// is not negative it fails with errResponseTooLarge once n bytes are read;
// it remembers the first error of r, so that a failed read can be told from
// a response that does not parse.
type limitedReader struct {
	r   io.Reader
	n   int64 // bytes left; negative: no limit
	err error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		l.err = errResponseTooLarge
		return 0, l.err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if err != nil && l.err == nil {
		l.err = err
	}
	return n, err
}

// fail describes a failed step; if the handshake's time is up or its
// context has ended, that is the failure, whatever error it caused.
func (d *dialer) fail(step string, err error) error {
	if d.expired(err) {
		err = d.ctxErr()
	}
	return &dialError{url: redactURL(d.u), step: step, err: err}
}

// expired reports whether the handshake has ended by its deadline or its
// context, given err, the error of the step that failed.
func (d *dialer) expired(err error) bool {
	return d.ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(d.deadline)
}

// readFailed describes a response that could not be read: an I/O error
// (EOF becomes io.ErrUnexpectedEOF) or a malformed or oversized response,
// which is a *HandshakeError. from says whose response it was, if not the
// server's.
func (d *dialer) readFailed(lr *limitedReader, step, from string, err error) error {
	switch {
	case d.expired(lr.err):
		return d.fail(step, err)
	case lr.err == errResponseTooLarge:
		return &HandshakeError{Reason: "response headers" + from + " longer than " + strconv.Itoa(maxResponseHeaderBytes) + " bytes"}
	case lr.err == io.EOF:
		return d.fail(step, fmt.Errorf("connection closed before the response ended: %w", io.ErrUnexpectedEOF))
	case lr.err != nil:
		return d.fail(step, err)
	}
	// net/http's message may hold the malformed line as it came.
	return &HandshakeError{Reason: "malformed response" + from + ": " + quoteText(err.Error(), maxQuoteBytes)}
}

// ctxErr is the error of a handshake whose time is up or whose context
// ended: the context's error, or else the handshake timeout.
func (d *dialer) ctxErr() error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if d.ctxFirst {
		return context.DeadlineExceeded // the context's timer has yet to fire
	}
	return &timeoutError{d.o.HandshakeTimeout}
}
