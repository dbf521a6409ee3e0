package websocket

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
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

// headerHasToken reports whether the values of a comma-separated header
// (all its lines) hold token, compared case-insensitively, with only
// spaces and tabs around it (RFC 9110 §5.6.1).
func headerHasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// headerTokens returns the comma-separated tokens of a header's values, in
// order.
func headerTokens(values []string) []string {
	var tokens []string
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if t = strings.Trim(t, " \t"); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	return tokens
}

// IsWebSocket reports whether r asks to be upgraded to WebSocket: its
// Connection header holds the token "upgrade" and its Upgrade header the
// token "websocket". Whether the rest of the handshake is valid is for
// Upgrade to say.
func IsWebSocket(r *http.Request) bool {
	return headerHasToken(r.Header[hdrConnection], "upgrade") &&
		headerHasToken(r.Header[hdrUpgrade], "websocket")
}

// checkRequest applies the server's rules of RFC 6455 §4.2.1 and the
// origin policy to an upgrade request.
func checkRequest(r *http.Request, o *Options) *HandshakeError {
	h := r.Header
	switch version := h[hdrVersion]; {
	case r.Method != http.MethodGet:
		return &HandshakeError{http.StatusMethodNotAllowed, "method " + r.Method + " is not GET"}
	case !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1:
		return &HandshakeError{http.StatusBadRequest, r.Proto + " cannot be upgraded; HTTP/1.1 is required"}
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
func checkOrigin(r *http.Request, o *Options) *HandshakeError {
	origins := r.Header[hdrOrigin]
	if len(origins) == 0 || origins[0] == "" || o.InsecureSkipOriginCheck {
		return nil
	}
	origin := origins[0]
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return &HandshakeError{http.StatusForbidden, "Origin " + quote(origin) + " is not a URL"}
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	host := strings.ToLower(u.Host)
	for _, pattern := range o.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(pattern), host); ok {
			return nil
		}
	}
	return &HandshakeError{http.StatusForbidden, "Origin " + quote(origin) + " is not allowed"}
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// selectSubprotocol returns the first of the server's subprotocols that the
// client offered: the server's preference order decides, not the client's.
// Subprotocols compare exactly, case included.
func selectSubprotocol(r *http.Request, server []string) string {
	offered := r.Header[hdrProtocol]
	if len(offered) == 0 {
		return ""
	}
	for _, s := range server {
		if s != "" && offers(offered, s) {
			return s
		}
	}
	return ""
}

// offers reports whether the comma-separated values hold token exactly.
func offers(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.Trim(t, " \t") == token {
				return true
			}
		}
	}
	return false
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
