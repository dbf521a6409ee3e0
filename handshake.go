package websocket

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"path"
	"strings"
)

// keyGUID is appended to the client's key to compute the accept key,
// RFC 6455 §1.3.
const keyGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// acceptKeyLen is the length of a Sec-WebSocket-Accept value: a SHA-1 sum
// in base64.
const acceptKeyLen = 28

// appendAcceptKey appends the Sec-WebSocket-Accept value for a client key
// to dst: base64(SHA-1(key + GUID)), RFC 6455 §4.2.2.
func appendAcceptKey(dst []byte, key string) []byte {
	var b [64]byte // a valid key and the GUID fit
	sum := sha1.Sum(append(append(b[:0], key...), keyGUID...))
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// newChallengeKey returns a client's Sec-WebSocket-Key: 16 random bytes in
// base64, RFC 6455 §4.1.
func newChallengeKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// The handshake's header names, in the canonical form that http.Header
// keys have once net/http or Dial has parsed them. Indexing a header with
// them directly, rather than with Header.Get or Values, skips the
// canonicalization that costs an allocation for mixed-case names such as
// "Sec-WebSocket-Key".
const (
	hdrConnection = "Connection"
	hdrUpgrade    = "Upgrade"
	hdrOrigin     = "Origin"
	hdrKey        = "Sec-Websocket-Key"
	hdrVersion    = "Sec-Websocket-Version"
	hdrAccept     = "Sec-Websocket-Accept"
	hdrProtocol   = "Sec-Websocket-Protocol"
	hdrExtensions = "Sec-Websocket-Extensions"
)

// tokenList walks the comma-separated elements of a header's values (all
// its lines) once, left to right, each trimmed of the spaces and tabs
// around it (RFC 9110 §5.6.1); empty elements are skipped. Walking a
// header costs time linear in its size and allocates nothing.
type tokenList struct {
	values []string // lines not yet started
	line   string   // what is left of the current line
}

// next returns the next element, or false when there are no more.
func (l *tokenList) next() (string, bool) {
	for {
		for l.line == "" {
			if len(l.values) == 0 {
				return "", false
			}
			l.line, l.values = l.values[0], l.values[1:]
		}
		var t string
		t, l.line, _ = strings.Cut(l.line, ",")
		if t = strings.Trim(t, " \t"); t != "" {
			return t, true
		}
	}
}

// headerHasToken reports whether the values of a comma-separated header
// (all its lines) hold token, compared case-insensitively.
func headerHasToken(values []string, token string) bool {
	l := tokenList{values: values}
	for t, ok := l.next(); ok; t, ok = l.next() {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// headerTokens returns the comma-separated tokens of a header's values, in
// order.
func headerTokens(values []string) []string {
	var tokens []string
	l := tokenList{values: values}
	for t, ok := l.next(); ok; t, ok = l.next() {
		tokens = append(tokens, t)
	}
	return tokens
}

// IsWebSocket reports whether r asks to be upgraded to WebSocket: its
// Connection header holds the token "upgrade" and its Upgrade header the
// token "websocket", or, over HTTP/2, it is an extended CONNECT with
// ":protocol: websocket" (RFC 8441 §4). Whether the rest of the handshake
// is valid is for Upgrade to say.
func IsWebSocket(r *http.Request) bool {
	return headerHasToken(r.Header[hdrConnection], "upgrade") &&
		headerHasToken(r.Header[hdrUpgrade], "websocket") ||
		isExtendedConnect(r)
}

// checkRequest applies the server's rules of RFC 6455 §4.2.1, or of
// RFC 8441 §5 to an HTTP/2 extended CONNECT, and the origin policy to an
// upgrade request.
func checkRequest(r *http.Request, o *Options) *HandshakeError {
	if isExtendedConnect(r) {
		return checkExtendedConnect(r, o)
	}
	h := r.Header
	switch version := h[hdrVersion]; {
	case r.Method == http.MethodConnect && len(h[hdrPseudoProtocol]) > 0:
		return &HandshakeError{http.StatusBadRequest, "extended CONNECT for " + quoteText(strings.Join(h[hdrPseudoProtocol], ", "), maxQuoteBytes) + ", not websocket"}
	case r.Method != http.MethodGet:
		return &HandshakeError{http.StatusMethodNotAllowed, "method " + quoteText(r.Method, maxQuoteBytes) + " is not GET"}
	case !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1:
		return &HandshakeError{http.StatusBadRequest, quoteText(r.Proto, maxQuoteBytes) + " cannot be upgraded; HTTP/1.1 is required"}
	case len(h[hdrUpgrade]) == 0 && !headerHasToken(h[hdrConnection], "upgrade"):
		// Not a half-right upgrade but none at all: most likely a browser
		// or a probe that followed a link to a WebSocket endpoint.
		return &HandshakeError{http.StatusBadRequest, "this URL expects a WebSocket connection (missing Upgrade: websocket)"}
	case !headerHasToken(h[hdrConnection], "upgrade"):
		return &HandshakeError{http.StatusBadRequest, `Connection header lacks the "upgrade" token`}
	case !headerHasToken(h[hdrUpgrade], "websocket"):
		return &HandshakeError{http.StatusBadRequest, `Upgrade header lacks the "websocket" token`}
	case len(version) != 1 || version[0] != "13":
		return &HandshakeError{http.StatusUpgradeRequired, "Sec-WebSocket-Version must be 13"}
	}
	if keys := h[hdrKey]; len(keys) != 1 || !validKey(keys[0]) {
		return &HandshakeError{http.StatusBadRequest, "Sec-WebSocket-Key must be one base64 value of 16 bytes"}
	}
	return checkOrigin(r, o)
}

// strictBase64 is base64.StdEncoding refusing non-zero padding bits, made
// once: Strict returns a new *Encoding each time it is called.
var strictBase64 = base64.StdEncoding.Strict()

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var b [18]byte // base64.StdEncoding.DecodedLen(24)
	n, err := strictBase64.Decode(b[:], []byte(key))
	return err == nil && n == 16
}

// checkOrigin applies the origin policy described at Options.OriginPatterns.
// Browsers send an Origin on every WebSocket request and no page can forge
// or remove it; the rules below refuse anything a browser would never send,
// so that a lenient parse cannot turn into a match.
func checkOrigin(r *http.Request, o *Options) *HandshakeError {
	origins := r.Header[hdrOrigin]
	if len(origins) == 0 || o.InsecureSkipOriginCheck {
		return nil
	}
	if len(origins) > 1 {
		return &HandshakeError{http.StatusForbidden, "more than one Origin header"}
	}
	raw := origins[0]
	if raw == "" {
		return nil // as if absent: no browser sends an empty Origin
	}
	if strings.Contains(raw, ",") {
		return &HandshakeError{http.StatusForbidden, "Origin " + quoteText(raw, maxQuoteBytes) + " is a list; one origin is allowed"}
	}
	origin, problem := parseOrigin(raw)
	if problem != "" {
		return &HandshakeError{http.StatusForbidden, "Origin " + quoteText(raw, maxQuoteBytes) + " " + problem}
	}
	if origin.sameAs(r) {
		return nil
	}
	if len(o.OriginPatterns) > 0 {
		hostPort := strings.ToLower(origin.hostPort())
		for _, pattern := range o.OriginPatterns {
			if matchOriginPattern(pattern, origin.scheme, hostPort) {
				return nil
			}
		}
	}
	return &HandshakeError{http.StatusForbidden, "Origin " + quoteText(raw, maxQuoteBytes) + " is not allowed"}
}

// origin is a serialized origin, RFC 6454 §6.2: scheme "://" host, and
// ":" port when the port is not the scheme's default.
type origin struct {
	scheme, host, port string // port is "" for the scheme's default
}

// parseOrigin parses an Origin header's value as browsers write it, and
// says what is wrong with it otherwise: "null" (sent by sandboxed and
// file:// pages), an opaque URI, user info, a path, query or fragment, a
// host that is not ASCII (browsers send IDN hosts in punycode) or one
// written with percent-escapes, an empty or non-numeric port.
func parseOrigin(s string) (origin, string) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return origin{}, "is not a scheme://host[:port] origin"
	}
	if strings.Contains(rest, "@") {
		return origin{}, "has user info"
	}
	if strings.ContainsAny(rest, "/?#") {
		return origin{}, "has a path, query or fragment"
	}
	host, port, hasColon := splitHostPort(rest)
	switch {
	case !validOriginHost(host):
		return origin{}, "has a host that is not ASCII letters, digits, '-', '.' and '_', or an IP address"
	case hasColon && !validPort(port):
		return origin{}, "has an empty or non-numeric port"
	}
	return origin{scheme, host, withoutDefaultPort(scheme, port)}, ""
}

// sameAs reports whether o is r's own origin. A request that came over TLS
// has origin https://Host: an http:// page of the same host is another
// origin, and one an attacker on the network can write. A request without
// TLS may have come through a proxy that terminated TLS, so both
// http://Host and https://Host are its own; a network attacker who can
// write the http:// page can read that plain connection anyway. Default
// ports count as absent on both sides.
func (o origin) sameAs(r *http.Request) bool {
	host, port, _ := splitHostPort(r.Host)
	if !equalFoldASCII(o.host, host) {
		return false
	}
	switch {
	case strings.EqualFold(o.scheme, "https"):
		return o.port == withoutDefaultPort("https", port)
	case strings.EqualFold(o.scheme, "http"):
		return r.TLS == nil && o.port == withoutDefaultPort("http", port)
	}
	return false
}

// hostPort returns the origin's host and, when not the default, its port,
// as OriginPatterns see them.
func (o origin) hostPort() string {
	if o.port == "" {
		return o.host
	}
	return o.host + ":" + o.port
}

// matchOriginPattern reports whether one of Options.OriginPatterns allows
// an origin with this scheme and lower-case host[:port]. A pattern with
// "scheme://" in front only matches that scheme; the rest is a path.Match
// pattern over host[:port], compared case-insensitively. A malformed
// pattern matches nothing.
func matchOriginPattern(pattern, scheme, hostPort string) bool {
	if s, rest, ok := strings.Cut(pattern, "://"); ok {
		if !strings.EqualFold(s, scheme) {
			return false
		}
		pattern = rest
	}
	ok, err := path.Match(strings.ToLower(pattern), hostPort)
	return ok && err == nil
}

// splitHostPort splits host[:port], where host may be a bracketed IPv6
// address, and reports whether there was a colon for a port.
func splitHostPort(s string) (host, port string, hasColon bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.IndexByte(s[i:], ']') >= 0 {
		return s, "", false // no port, or the colon was inside [...]
	}
	return s[:i], s[i+1:], true
}

// withoutDefaultPort returns port, or "" when it is the scheme's default.
func withoutDefaultPort(scheme, port string) string {
	switch {
	case port == "80" && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "ws")),
		port == "443" && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "wss")):
		return ""
	}
	return port
}

// validScheme reports whether s is a URI scheme: a letter, then letters,
// digits, '+', '-' and '.' (RFC 3986 §3.1).
func validScheme(s string) bool {
	if s == "" || !isASCIILetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isASCIILetter(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// validOriginHost reports whether s is a host as a browser serializes it:
// an ASCII name of letters, digits, '-', '.' and '_', or an IP address
// (IPv6 in brackets). Anything else, percent-escapes and non-ASCII
// included, is refused rather than decoded: decoding is where two parsers
// start to disagree about which host they saw.
func validOriginHost(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '[' {
		if len(s) < 3 || s[len(s)-1] != ']' {
			return false
		}
		for _, c := range []byte(s[1 : len(s)-1]) {
			if !isHexDigit(c) && c != ':' && c != '.' {
				return false
			}
		}
		return true
	}
	for _, c := range []byte(s) {
		if !isASCIILetter(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' {
			return false
		}
	}
	return true
}

// validPort reports whether s is 1 to 5 decimal digits.
func validPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range []byte(s) {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether a and b are equal ignoring ASCII case
// only: strings.EqualFold would also equate the Kelvin sign with "k".
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && (a[i]|0x20 != b[i]|0x20 || !isASCIILetter(a[i])) {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool       { return '0' <= c && c <= '9' }
func isHexDigit(c byte) bool    { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

// selectSubprotocol returns the first of the server's subprotocols that the
// client offered: the server's preference order decides, not the client's.
// Subprotocols compare exactly, case included.
func selectSubprotocol(r *http.Request, server []string) string {
	p, _ := chooseSubprotocol(r.Header[hdrProtocol], server)
	return p
}

// linearSubprotocols is the longest server list that chooseSubprotocol
// searches by comparing each offered token with each entry; a longer one
// is indexed in a map first, so that the work per token stays bounded
// whatever the server list.
const linearSubprotocols = 8

// chooseSubprotocol returns the first of server that the comma-separated
// offered values hold, and how many comparisons of a token with the
// server's list it made. It walks the offer once: its work is linear in
// the header's size, at most linearSubprotocols comparisons (or one map
// lookup) per token, where comparing each server subprotocol with the
// whole header in turn would multiply the header's size by the server
// list's length.
func chooseSubprotocol(offered, server []string) (string, int) {
	if len(offered) == 0 || len(server) == 0 {
		return "", 0
	}
	var index map[string]int // server subprotocol → its first position
	if len(server) > linearSubprotocols {
		index = make(map[string]int, len(server))
		for i := len(server) - 1; i >= 0; i-- {
			index[server[i]] = i
		}
	}
	best := len(server) // the best position found so far
	steps := 0
	l := tokenList{values: offered}
	for best > 0 {
		t, ok := l.next()
		if !ok {
			break
		}
		if index != nil {
			steps++
			if i, ok := index[t]; ok && i < best {
				best = i
			}
			continue
		}
		for i, s := range server[:best] {
			steps++
			if s == t {
				best = i
				break
			}
		}
	}
	if best == len(server) {
		return "", steps
	}
	return server[best], steps
}

// bufferedBytes returns a copy of what br has read past the handshake, so
// that the bufio.Reader, and whatever holds on to it, can be let go; nil
// when there is nothing, the usual case.
func bufferedBytes(br *bufio.Reader) []byte {
	if br.Buffered() == 0 {
		return nil
	}
	b, _ := br.Peek(br.Buffered())
	return bytes.Clone(b)
}
