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

// acceptKey returns the Sec-WebSocket-Accept value for a client key:
// base64(SHA-1(key + GUID)), RFC 6455 §4.2.2.
func acceptKey(key string) string {
	var b [64]byte
	sum := sha1.Sum(append(append(b[:0], key...), keyGUID...))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// newChallengeKey returns a client's Sec-WebSocket-Key: 16 random bytes in
// base64, RFC 6455 §4.1.
func newChallengeKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// headerHasToken reports whether a comma-separated header (all its lines)
// holds token, compared case-insensitively, with only spaces and tabs
// around it (RFC 9110 §5.6.1).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
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

// headerTokens returns the comma-separated tokens of a header, in order.
func headerTokens(h http.Header, name string) []string {
	var tokens []string
	for _, v := range h.Values(name) {
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
	return headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

// checkRequest applies the server's rules of RFC 6455 §4.2.1 and the
// origin policy to an upgrade request.
func checkRequest(r *http.Request, o *Options) *HandshakeError {
	switch {
	case r.Method != http.MethodGet:
		return &HandshakeError{http.StatusMethodNotAllowed, "method " + r.Method + " is not GET"}
	case !r.ProtoAtLeast(1, 1) || r.ProtoMajor != 1:
		return &HandshakeError{http.StatusBadRequest, r.Proto + " cannot be upgraded; HTTP/1.1 is required"}
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		return &HandshakeError{http.StatusBadRequest, `Connection header lacks the "upgrade" token`}
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		return &HandshakeError{http.StatusBadRequest, `Upgrade header lacks the "websocket" token`}
	case len(r.Header.Values("Sec-WebSocket-Version")) != 1 || r.Header.Get("Sec-WebSocket-Version") != "13":
		return &HandshakeError{http.StatusUpgradeRequired, "Sec-WebSocket-Version must be 13"}
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 || !validKey(keys[0]) {
		return &HandshakeError{http.StatusBadRequest, "Sec-WebSocket-Key must be one base64 value of 16 bytes"}
	}
	if err := checkOrigin(r, o); err != nil {
		return err
	}
	return nil
}

// validKey reports whether key is the base64 encoding of 16 bytes.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(key)
	return err == nil && len(b) == 16
}

// checkOrigin applies the origin policy described at Options.OriginPatterns.
func checkOrigin(r *http.Request, o *Options) *HandshakeError {
	origin := r.Header.Get("Origin")
	if origin == "" || o.InsecureSkipOriginCheck {
		return nil
	}
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
func selectSubprotocol(r *http.Request, server []string) string {
	offered := headerTokens(r.Header, "Sec-WebSocket-Protocol")
	for _, s := range server {
		for _, c := range offered {
			if s == c {
				return s
			}
		}
	}
	return ""
}

// bufferedBytes returns a copy of what br has read past the handshake, so
// that the bufio.Reader, and whatever holds on to it, can be let go.
func bufferedBytes(br *bufio.Reader) []byte {
	b, _ := br.Peek(br.Buffered())
	return bytes.Clone(b)
}
