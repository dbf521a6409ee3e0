package websocket

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 §1.3.
	if got, want := string(appendAcceptKey(nil, "dGhlIHNhbXBsZSBub25jZQ==")), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("appendAcceptKey = %q, want %q", got, want)
	}
}

func TestNewChallengeKey(t *testing.T) {
	a, b := newChallengeKey(), newChallengeKey()
	if !validKey(a) || !validKey(b) || a == b {
		t.Errorf("newChallengeKey() = %q, %q: want two different valid keys", a, b)
	}
}

// upgradeRequest returns a valid upgrade request for host example.com.
func upgradeRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://example.com/chat", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return r
}

func TestCheckRequest(t *testing.T) {
	for _, tc := range []struct {
		name       string
		edit       func(r *http.Request)
		opts       *Options
		wantStatus int
		wantReason string
	}{
		{"valid", func(r *http.Request) {}, nil, 0, ""},
		{"comma lists and case", func(r *http.Request) {
			r.Header.Set("Connection", "keep-alive, UPGRADE")
			r.Header.Set("Upgrade", "h2c, WebSocket")
		}, nil, 0, ""},
		{"connection on two lines", func(r *http.Request) {
			r.Header["Connection"] = []string{"keep-alive", "Upgrade"}
		}, nil, 0, ""},
		{"POST", func(r *http.Request) { r.Method = http.MethodPost }, nil, 405, "not GET"},
		{"HTTP/1.0", func(r *http.Request) { r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0 }, nil, 400, "HTTP/1.1"},
		{"HTTP/2", func(r *http.Request) { r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0 }, nil, 400, "HTTP/1.1"},
		{"no Connection", func(r *http.Request) { r.Header.Del("Connection") }, nil, 400, "Connection"},
		{"Connection without upgrade", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, nil, 400, "Connection"},
		{"Connection upgrade as substring", func(r *http.Request) { r.Header.Set("Connection", "upgraded") }, nil, 400, "Connection"},
		{"no Upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, nil, 400, "Upgrade"},
		{"Upgrade h2c", func(r *http.Request) { r.Header.Set("Upgrade", "h2c") }, nil, 400, "Upgrade"},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }, nil, 426, "13"},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, nil, 426, "13"},
		{"two versions", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Version", "8") }, nil, 426, "13"},
		{"upgrade token behind a no-break space", func(r *http.Request) { r.Header.Set("Connection", "\u00a0Upgrade") }, nil, 400, "Connection"},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, nil, 400, "Key"},
		{"key not base64", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "not base64 at all!!!!!!!") }, nil, 400, "Key"},
		{"key of 15 bytes", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA") }, nil, 400, "Key"},
		{"key of 17 bytes", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA=") }, nil, 400, "Key"},
		{"two keys", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, nil, 400, "Key"},
		{"same origin", func(r *http.Request) { r.Header.Set("Origin", "https://EXAMPLE.com") }, nil, 0, ""},
		{"no origin", func(r *http.Request) { r.Header.Del("Origin") }, nil, 0, ""},
		{"cross origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.test") }, nil, 403, "evil.test"},
		{"origin on another port", func(r *http.Request) { r.Header.Set("Origin", "http://example.com:8080") }, nil, 403, "not allowed"},
		{"origin null", func(r *http.Request) { r.Header.Set("Origin", "null") }, nil, 403, "not a URL"},
		{"origin pattern", func(r *http.Request) { r.Header.Set("Origin", "https://app.Partner.test") },
			&Options{OriginPatterns: []string{"*.partner.test"}}, 0, ""},
		{"origin pattern with port", func(r *http.Request) { r.Header.Set("Origin", "http://localhost:3000") },
			&Options{OriginPatterns: []string{"localhost:*"}}, 0, ""},
		{"origin pattern mismatch", func(r *http.Request) { r.Header.Set("Origin", "https://partner.test.evil") },
			&Options{OriginPatterns: []string{"*.partner.test"}}, 403, "not allowed"},
		{"insecure skip origin check", func(r *http.Request) { r.Header.Set("Origin", "https://evil.test") },
			&Options{InsecureSkipOriginCheck: true}, 0, ""},
	} {
		r := upgradeRequest()
		tc.edit(r)
		herr := checkRequest(r, tc.opts.withDefaults())
		switch {
		case herr == nil && tc.wantStatus != 0:
			t.Errorf("%s: checkRequest = nil, want %d", tc.name, tc.wantStatus)
		case herr != nil && (herr.Status != tc.wantStatus || !strings.Contains(herr.Reason, tc.wantReason)):
			t.Errorf("%s: checkRequest = %d %q, want %d with %q", tc.name, herr.Status, herr.Reason, tc.wantStatus, tc.wantReason)
		}
	}
}

// TestSubprotocolServerPreference checks the documented rule: the first of
// the server's subprotocols that the client offered wins, whatever the
// client's order.
func TestSubprotocolServerPreference(t *testing.T) {
	for _, tc := range []struct {
		offered []string
		server  []string
		want    string
	}{
		{[]string{"chat.v1, chat.v2"}, []string{"chat.v2", "chat.v1"}, "chat.v2"},
		{[]string{"chat.v1", "chat.v2"}, []string{"chat.v2", "chat.v1"}, "chat.v2"},
		{[]string{"chat.v2, chat.v1"}, []string{"chat.v1", "chat.v2"}, "chat.v1"},
		{[]string{"mqtt"}, []string{"chat.v1"}, ""},
		{nil, []string{"chat.v1"}, ""},
		{[]string{"chat.v1"}, nil, ""},
		{[]string{"Chat.V1"}, []string{"chat.v1"}, ""}, // tokens are case-sensitive
	} {
		r := upgradeRequest()
		for _, v := range tc.offered {
			r.Header.Add("Sec-WebSocket-Protocol", v)
		}
		if got := selectSubprotocol(r, tc.server); got != tc.want {
			t.Errorf("offered %q, server %q: got %q, want %q", tc.offered, tc.server, got, tc.want)
		}
	}
}

func TestIsWebSocket(t *testing.T) {
	r := upgradeRequest()
	if !IsWebSocket(r) {
		t.Error("IsWebSocket(upgrade request) = false")
	}
	if IsWebSocket(httptest.NewRequest(http.MethodGet, "/", nil)) {
		t.Error("IsWebSocket(plain GET) = true")
	}
}

// TestHandshakeAllocations: checking an upgrade request without Origin
// (whose URL parses with an allocation), selecting its subprotocol and
// computing the accept key allocate nothing, and a plain
// 101 response parses with one allocation for its strings, its Response,
// its header map and the header's values.
func TestHandshakeAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	r := upgradeRequest()
	r.Header.Set("Sec-WebSocket-Protocol", "chat.v1, chat.v2")
	o := (&Options{Subprotocols: []string{"chat.v2", "chat.v1"}}).withDefaults()
	var accept []byte
	if n := testing.AllocsPerRun(100, func() {
		if herr := checkRequest(r, o); herr != nil {
			t.Fatal(herr)
		}
		if p := selectSubprotocol(r, o.Subprotocols); p != "chat.v2" {
			t.Fatalf("selected %q", p)
		}
		accept = appendAcceptKey(accept[:0], r.Header[hdrKey][0])
	}); n != 0 {
		t.Errorf("checking a request and computing its accept key: %v allocations, want 0", n)
	}

	const resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	rd := strings.NewReader(resp)
	br := bufio.NewReader(rd)
	if n := testing.AllocsPerRun(100, func() {
		rd.Reset(resp)
		br.Reset(rd)
		if readSwitching(br, r) == nil {
			t.Fatal("readSwitching refused a plain 101")
		}
	}); n > 5 {
		t.Errorf("readSwitching: %v allocations, want at most 5", n)
	}
}
