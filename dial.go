package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
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
// order; entries of opts.Header for the handshake's own fields (Host,
// Upgrade, Connection, Sec-WebSocket-*) are ignored. No extension is
// offered.
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
// are wrapped with %w. In every failure the connection is closed.
//
// On success the response's Body is http.NoBody, and any bytes the server
// sent after its response are the connection's first frames.
func Dial(ctx context.Context, url string, opts *Options) (*Conn, *http.Response, error) {
	o := opts.withDefaults()
	u, err := parseURL(url)
	if err != nil {
		return nil, nil, err
	}
	key := newChallengeKey()
	req, err := newRequest(ctx, u, key, o)
	if err != nil {
		return nil, nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, o.HandshakeTimeout)
	defer cancel()
	d := &dialer{ctx: hctx, parent: ctx, o: o, u: u}
	return d.dial(req, key)
}

// parseURL checks that s is a WebSocket URI (RFC 6455 §3).
func parseURL(s string) (*neturl.URL, error) {
	u, err := neturl.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss":
		return nil, errors.New("websocket: URL scheme " + quote(u.Scheme) + " is not ws or wss")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("websocket: URL " + quote(s) + " has no host")
	case u.User != nil:
		// Browsers do not send it either; credentials go in Options.Header.
		return nil, errors.New("websocket: URL has user info; set an Authorization header instead")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, errors.New("websocket: URL has a fragment, which RFC 6455 §3 forbids")
	}
	return u, nil
}

// handshakeHeaders are the request fields Dial sets itself.
var handshakeHeaders = []string{
	"Host", "Upgrade", "Connection",
	"Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// newRequest builds the upgrade request, with the ws URL mapped to http(s)
// so that proxy rules written for HTTP apply. Its Header holds every field
// Dial sends but Host.
func newRequest(ctx context.Context, u *neturl.URL, key string, o *Options) (*http.Request, error) {
	hu := *u
	hu.Scheme = "http"
	if u.Scheme == "wss" {
		hu.Scheme = "https"
	}
	h := make(http.Header, len(o.Header)+5)
	for name, values := range o.Header {
		if slices.Contains(handshakeHeaders, http.CanonicalHeaderKey(name)) {
			continue
		}
		if !isToken(name) {
			return nil, errors.New("websocket: invalid header name " + quote(name))
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, errors.New("websocket: invalid value for header " + name)
			}
		}
		h[name] = slices.Clone(values)
	}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Key", key)
	h.Set("Sec-WebSocket-Version", "13")
	for i, p := range o.Subprotocols {
		if !isToken(p) || slices.Contains(o.Subprotocols[:i], p) {
			return nil, errors.New("websocket: invalid or repeated subprotocol " + quote(p))
		}
	}
	if len(o.Subprotocols) > 0 {
		h.Set("Sec-WebSocket-Protocol", strings.Join(o.Subprotocols, ", "))
	}
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        &hu,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       strings.TrimSuffix(u.Host, ":"),
	}
	return req.WithContext(ctx), nil
}

// isToken reports whether s is an RFC 9110 §5.6.2 token, as header names
// and subprotocols must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// writeRequest writes req as the opening handshake, in one write.
func writeRequest(w io.Writer, req *http.Request) error {
	var b bytes.Buffer
	b.WriteString("GET " + req.URL.RequestURI() + " HTTP/1.1\r\nHost: " + req.Host + "\r\n")
	for _, name := range []string{"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol"} {
		for _, v := range req.Header.Values(name) {
			b.WriteString(name + ": " + v + "\r\n")
		}
	}
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		if !slices.Contains(handshakeHeaders, http.CanonicalHeaderKey(name)) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range req.Header[name] {
			b.WriteString(name + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	_, err := w.Write(b.Bytes())
	return err
}

// dialer holds one Dial's state.
type dialer struct {
	ctx    context.Context // parent bounded by the handshake timeout
	parent context.Context
	o      *Options
	u      *neturl.URL
}

func (d *dialer) dial(req *http.Request, key string) (*Conn, *http.Response, error) {
	proxy, err := d.o.Proxy(req)
	if err != nil {
		return nil, nil, d.fail("finding the proxy", err)
	}
	addr := hostPort(d.u.Hostname(), d.u.Port(), d.u.Scheme == "wss")
	dialAddr, step := addr, "dialing"
	if proxy != nil {
		if proxy.Scheme != "" && proxy.Scheme != "http" && proxy.Scheme != "https" {
			return nil, nil, d.fail("proxy", errors.New("unsupported proxy scheme "+quote(proxy.Scheme)))
		}
		if proxy.Hostname() == "" {
			return nil, nil, d.fail("proxy", errors.New("proxy URL has no host"))
		}
		dialAddr, step = hostPort(proxy.Hostname(), proxy.Port(), proxy.Scheme == "https"), "dialing the proxy"
	}

	dial := d.o.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(d.ctx, "tcp", dialAddr)
	if err != nil {
		return nil, nil, d.fail(step, err)
	}
	if nc == nil {
		return nil, nil, d.fail(step, errors.New("DialContext returned no connection to "+dialAddr))
	}
	// From here on, ctx ending or the timeout closes the connection, which
	// unblocks whatever step is waiting on it.
	stop := context.AfterFunc(d.ctx, func() { nc.Close() })
	conn, br, resp, subprotocol, err := d.handshake(nc, req, key, proxy, addr)
	if err == nil && !stop() {
		// The connection was closed under the finished handshake.
		err = d.fail("handshake", d.ctxErr())
	}
	if err != nil {
		stop()
		nc.Close()
		return nil, resp, err
	}
	return newConn(conn, bufferedBytes(br), true, d.o, subprotocol, nil), resp, nil
}

// handshake runs everything after the TCP connection: the proxy's CONNECT,
// TLS, and the opening handshake. It returns the connection to speak
// WebSocket on and the reader holding what the server sent after its
// response.
func (d *dialer) handshake(nc net.Conn, req *http.Request, key string, proxy *neturl.URL, addr string) (net.Conn, *bufio.Reader, *http.Response, string, error) {
	conn := nc
	if proxy != nil {
		if proxy.Scheme == "https" {
			tc := tls.Client(conn, d.tlsConfig(proxy.Hostname()))
			if err := tc.Handshake(); err != nil {
				return nil, nil, nil, "", d.fail("TLS with the proxy", err)
			}
			conn = tc
		}
		if err := d.connect(conn, proxy, addr); err != nil {
			return nil, nil, nil, "", err
		}
	}
	var state *tls.ConnectionState
	if d.u.Scheme == "wss" {
		serverName := d.u.Hostname()
		if d.o.TLSConfig != nil && d.o.TLSConfig.ServerName != "" {
			serverName = d.o.TLSConfig.ServerName
		}
		tc := tls.Client(conn, d.tlsConfig(serverName))
		if err := tc.Handshake(); err != nil {
			return nil, nil, nil, "", d.fail("TLS", err)
		}
		cs := tc.ConnectionState()
		state = &cs
		conn = tc
	}

	if err := writeRequest(conn, req); err != nil {
		return nil, nil, nil, "", d.fail("writing the request", err)
	}
	lr := &limitedReader{r: conn, n: maxResponseHeaderBytes}
	br := bufio.NewReaderSize(lr, d.o.ReadBufferSize)
	resp, err := readFinalResponse(br, req)
	if err != nil {
		return nil, nil, nil, "", d.readFailed(lr, "reading the response", "", err)
	}
	lr.n = -1 // the rest is the connection's
	resp.TLS = state

	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, nil, resp, "", &HandshakeError{resp.StatusCode, "the server did not switch protocols" + bodyExcerpt(body)}
	}
	resp.Body = http.NoBody
	subprotocol, herr := checkResponse(resp, key, d.o.Subprotocols)
	if herr != nil {
		return nil, nil, resp, "", herr
	}
	return conn, br, resp, subprotocol, nil
}

// readFinalResponse reads the response to req, skipping interim 1xx
// responses other than 101 as HTTP asks (RFC 9110 §15.2).
func readFinalResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 != 1 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// connect opens a tunnel to addr through the proxy on conn, RFC 9110 §9.3.6.
func (d *dialer) connect(conn net.Conn, proxy *neturl.URL, addr string) error {
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &neturl.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{},
	}
	var b strings.Builder
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	if proxy.User != nil {
		password, _ := proxy.User.Password()
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+password))
		b.WriteString("Proxy-Authorization: " + auth + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return d.fail("writing the CONNECT request to the proxy", err)
	}
	lr := &limitedReader{r: conn, n: maxResponseHeaderBytes}
	br := bufio.NewReaderSize(lr, 4096)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return d.readFailed(lr, "reading the proxy's response", " from proxy "+proxy.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		return &HandshakeError{resp.StatusCode, "proxy " + proxy.Host + " refused the tunnel to " + addr}
	}
	if br.Buffered() > 0 {
		// The tunnel's first bytes are ours to send: a proxy that says
		// more is not one to trust with the connection.
		return &HandshakeError{resp.StatusCode, "proxy " + proxy.Host + " sent data after its response"}
	}
	return nil
}

// checkResponse applies the client's rules of RFC 6455 §4.1 to a 101
// response and returns the subprotocol it selects.
func checkResponse(resp *http.Response, key string, offered []string) (string, *HandshakeError) {
	fail := func(reason string) (string, *HandshakeError) {
		return "", &HandshakeError{resp.StatusCode, reason}
	}
	if !headerHasToken(resp.Header, "Upgrade", "websocket") {
		return fail(`Upgrade header lacks the "websocket" token`)
	}
	if !headerHasToken(resp.Header, "Connection", "upgrade") {
		return fail(`Connection header lacks the "upgrade" token`)
	}
	accept := resp.Header.Values("Sec-WebSocket-Accept")
	switch {
	case len(accept) == 0:
		return fail("Sec-WebSocket-Accept header is missing")
	case len(accept) > 1 || accept[0] != acceptKey(key):
		return fail("Sec-WebSocket-Accept " + quote(strings.Join(accept, ", ")) + " does not match the key sent")
	}
	if ext := resp.Header.Values("Sec-WebSocket-Extensions"); len(headerTokens(resp.Header, "Sec-WebSocket-Extensions")) > 0 {
		return fail("the server selected extensions " + quote(strings.Join(ext, ", ")) + ", but none were offered")
	}
	protocols := headerTokens(resp.Header, "Sec-WebSocket-Protocol")
	switch {
	case len(protocols) == 0:
		return "", nil
	case len(protocols) > 1:
		return fail("the server selected more than one subprotocol: " + quote(strings.Join(protocols, ", ")))
	case !slices.Contains(offered, protocols[0]):
		return fail("the server selected subprotocol " + quote(protocols[0]) + ", which was not offered")
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
	return ": " + quote(string(line))
}

// tlsConfig returns the TLS configuration for serverName: a copy of
// Options.TLSConfig that negotiates HTTP/1.1, the only protocol an upgrade
// works on (RFC 8441 is for HTTP/2).
func (d *dialer) tlsConfig(serverName string) *tls.Config {
	cfg := &tls.Config{}
	if d.o.TLSConfig != nil {
		cfg = d.o.TLSConfig.Clone()
	}
	cfg.ServerName = serverName
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// hostPort joins host and port, with the scheme's default port.
func hostPort(host, port string, secure bool) string {
	if port == "" {
		port = "80"
		if secure {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// fail describes a failed step; if the handshake's context has ended, that
// is the failure, whatever error it caused.
func (d *dialer) fail(step string, err error) error {
	if d.ctx.Err() != nil {
		err = d.ctxErr()
	}
	return fmt.Errorf("websocket: dial %s: %s: %w", d.u, step, err)
}

// readFailed describes a response that could not be read: an I/O error
// (EOF becomes io.ErrUnexpectedEOF) or a malformed or oversized response,
// which is a *HandshakeError. from says whose response it was, if not the
// server's.
func (d *dialer) readFailed(lr *limitedReader, step, from string, err error) error {
	switch {
	case d.ctx.Err() != nil:
		return d.fail(step, err)
	case lr.err == errResponseTooLarge:
		return &HandshakeError{Reason: "response headers" + from + " longer than " + strconv.Itoa(maxResponseHeaderBytes) + " bytes"}
	case lr.err == io.EOF:
		return d.fail(step, fmt.Errorf("connection closed before the response ended: %w", io.ErrUnexpectedEOF))
	case lr.err != nil:
		return d.fail(step, err)
	}
	return &HandshakeError{Reason: "malformed response" + from + ": " + err.Error()}
}

// ctxErr is the error of a handshake whose context ended: the caller's
// context's error, or else the handshake timeout.
func (d *dialer) ctxErr() error {
	if err := d.parent.Err(); err != nil {
		return err
	}
	return &timeoutError{d.o.HandshakeTimeout}
}

// timeoutError is a handshake that did not finish within HandshakeTimeout.
type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string   { return "handshake not done within " + e.d.String() }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// Is makes the error match context.DeadlineExceeded, as a deadline on the
// caller's context would.
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

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
