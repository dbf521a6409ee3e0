package wstest

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
)

const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey is the Sec-WebSocket-Accept value for a Sec-WebSocket-Key
// (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// ChallengeKey returns a fresh Sec-WebSocket-Key.
func ChallengeKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// ClientHandshake writes an opening handshake for path on nc (host is the
// Host header) and reads the 101 response. extra headers are added as is.
// The returned reader holds any bytes the server sent after the response.
func ClientHandshake(nc net.Conn, host, path string, extra http.Header) (*bufio.Reader, *http.Response, error) {
	key := ChallengeKey()
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", path)
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\n", key)
	for k, vs := range extra {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	if _, err := nc.Write([]byte(b.String())); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, resp, fmt.Errorf("handshake: status %s", resp.Status)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return nil, resp, fmt.Errorf("handshake: Upgrade %q", resp.Header.Get("Upgrade"))
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), AcceptKey(key); got != want {
		return nil, resp, fmt.Errorf("handshake: Sec-WebSocket-Accept %q, want %q", got, want)
	}
	return br, resp, nil
}

// ServerHandshake reads an opening handshake from nc, checks the parts a
// client must send, and answers 101. On a bad request it answers 400 and
// returns an error.
func ServerHandshake(nc net.Conn) (*bufio.Reader, *http.Request, error) {
	br := bufio.NewReaderSize(nc, 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, err
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	var bad string
	switch {
	case req.Method != http.MethodGet:
		bad = "method " + req.Method
	case !hasToken(req.Header.Get("Connection"), "upgrade"):
		bad = "Connection " + req.Header.Get("Connection")
	case !hasToken(req.Header.Get("Upgrade"), "websocket"):
		bad = "Upgrade " + req.Header.Get("Upgrade")
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		bad = "Sec-WebSocket-Version " + req.Header.Get("Sec-WebSocket-Version")
	default:
		if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
			bad = "Sec-WebSocket-Key " + key
		}
	}
	if bad != "" {
		nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
		return nil, req, fmt.Errorf("handshake: bad request: %s", bad)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + AcceptKey(key) + "\r\n\r\n"
	if _, err := nc.Write([]byte(resp)); err != nil {
		return nil, req, err
	}
	return br, req, nil
}

func hasToken(list, token string) bool {
	for _, t := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}
