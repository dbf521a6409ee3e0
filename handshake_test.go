package websocket

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
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
		{"origin null", func(r *http.Request) { r.Header.Set("Origin", "null") }, nil, 403, "not a scheme://host[:port] origin"},
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

// TestOriginPolicy covers the same-origin rule (scheme, host and port, TLS
// deciding the request's own scheme), the Origin values no browser sends,
// and OriginPatterns with and without a scheme.
func TestOriginPolicy(t *testing.T) {
	partner := &Options{OriginPatterns: []string{"*.partner.test"}}
	for _, tc := range []struct {
		name       string
		tls        bool
		host       string   // the request's Host; "" means example.com
		origins    []string // Origin header lines
		opts       *Options
		wantStatus int // 0 for accepted
		wantReason string
	}{
		// The request's own origin.
		{"http page, plain server", false, "", []string{"http://example.com"}, nil, 0, ""},
		{"https page, plain server (TLS ended at a proxy)", false, "", []string{"https://example.com"}, nil, 0, ""},
		{"https page, TLS server", true, "", []string{"https://example.com"}, nil, 0, ""},
		{"http page, TLS server", true, "", []string{"http://example.com"}, nil, 403, "not allowed"},
		{"http page on the TLS server's port", true, "example.com:8443", []string{"http://example.com:8443"}, nil, 403, "not allowed"},
		{"https page on the TLS server's port", true, "example.com:8443", []string{"https://example.com:8443"}, nil, 0, ""},
		{"case differences", false, "EXAMPLE.com", []string{"HTTP://example.COM"}, nil, 0, ""},
		{"default port in Host", true, "example.com:443", []string{"https://example.com"}, nil, 0, ""},
		{"default port in Origin", false, "", []string{"http://example.com:80"}, nil, 0, ""},
		{"https's default port is not http's", false, "", []string{"https://example.com:80"}, nil, 403, "not allowed"},
		{"port mismatch", false, "example.com:8080", []string{"http://example.com:8081"}, nil, 403, "not allowed"},
		{"port where Host has none", false, "", []string{"http://example.com:8080"}, nil, 403, "not allowed"},
		{"no port where Host has one", false, "example.com:8080", []string{"http://example.com"}, nil, 403, "not allowed"},
		{"IPv6 with port", false, "[::1]:8080", []string{"http://[::1]:8080"}, nil, 0, ""},
		{"IPv6 without the port", false, "[::1]:8080", []string{"http://[::1]"}, nil, 403, "not allowed"},
		{"ws scheme is no page's origin", false, "", []string{"ws://example.com"}, nil, 403, "not allowed"},
		{"trailing dot", false, "", []string{"http://example.com."}, nil, 403, "not allowed"},
		{"another host", false, "", []string{"http://evil.test"}, nil, 403, "not allowed"},
		{"host as a suffix", false, "", []string{"http://evilexample.com"}, nil, 403, "not allowed"},

		// Values no browser sends.
		{"null", false, "", []string{"null"}, nil, 403, "not a scheme://host[:port] origin"},
		{"no scheme", false, "", []string{"example.com"}, nil, 403, "not a scheme://host[:port] origin"},
		{"opaque", false, "", []string{"mailto:a@example.com"}, nil, 403, "not a scheme://host[:port] origin"},
		{"bad scheme", false, "", []string{"1http://example.com"}, nil, 403, "not a scheme://host[:port] origin"},
		{"no host", false, "", []string{"file://"}, nil, 403, "host"},
		{"user info", false, "", []string{"http://user@example.com"}, nil, 403, "user info"},
		{"user info naming the host", false, "", []string{"http://example.com@evil.test"}, nil, 403, "user info"},
		{"slash", false, "", []string{"http://example.com/"}, nil, 403, "path"},
		{"path", false, "", []string{"http://example.com/app"}, nil, 403, "path"},
		{"query", false, "", []string{"http://example.com?x=1"}, nil, 403, "query"},
		{"fragment", false, "", []string{"http://example.com#top"}, nil, 403, "fragment"},
		{"Unicode host", false, "xn--exmple-cua.com", []string{"http://exämple.com"}, nil, 403, "host"},
		{"Kelvin sign folds to k", false, "kiwi.test", []string{"http://\u212aiwi.test"}, nil, 403, "host"},
		{"Kelvin sign in Host folds to k", false, "\u212aiwi.test", []string{"http://kiwi.test"}, nil, 403, "not allowed"},
		{"percent-escaped host", false, "", []string{"http://%65xample.com"}, nil, 403, "host"},
		{"empty port", false, "", []string{"http://example.com:"}, nil, 403, "port"},
		{"letters for a port", false, "", []string{"http://example.com:http"}, nil, 403, "port"},
		{"two Origin lines", false, "", []string{"http://example.com", "http://example.com"}, nil, 403, "more than one"},
		{"a list", false, "", []string{"http://example.com, http://evil.test"}, nil, 403, "list"},
		{"empty, as if absent", false, "", []string{""}, nil, 0, ""},
		{"skip check", false, "", []string{"null", "http://evil.test"}, &Options{InsecureSkipOriginCheck: true}, 0, ""},

		// OriginPatterns.
		{"subdomain pattern", false, "", []string{"https://app.Partner.test"}, partner, 0, ""},
		{"subdomain pattern, deeper", false, "", []string{"https://a.b.partner.test"}, partner, 0, ""},
		{"subdomain pattern, not the domain", false, "", []string{"https://partner.test"}, partner, 403, "not allowed"},
		{"subdomain pattern, not a suffix", false, "", []string{"https://evilpartner.test"}, partner, 403, "not allowed"},
		{"subdomain pattern, not another port", false, "", []string{"https://app.partner.test:8443"}, partner, 403, "not allowed"},
		{"the trap: *partner.test takes evilpartner.test", false, "", []string{"https://evilpartner.test"},
			&Options{OriginPatterns: []string{"*partner.test"}}, 0, ""},
		{"scheme pattern", false, "", []string{"https://app.partner.test"},
			&Options{OriginPatterns: []string{"HTTPS://*.Partner.test"}}, 0, ""},
		{"scheme pattern, other scheme", false, "", []string{"http://app.partner.test"},
			&Options{OriginPatterns: []string{"https://*.partner.test"}}, 403, "not allowed"},
		{"port pattern", false, "", []string{"http://localhost:3000"},
			&Options{OriginPatterns: []string{"localhost:*"}}, 0, ""},
		{"port pattern, no port", false, "", []string{"http://localhost"},
			&Options{OriginPatterns: []string{"localhost:*"}}, 403, "not allowed"},
		{"default port is not seen by patterns", false, "", []string{"https://partner.test:443"},
			&Options{OriginPatterns: []string{"partner.test"}}, 0, ""},
		{"malformed pattern matches nothing", false, "", []string{"https://partner.test"},
			&Options{OriginPatterns: []string{"[partner.test"}}, 403, "not allowed"},
		{"a pattern of * takes no null", false, "", []string{"null"},
			&Options{OriginPatterns: []string{"*"}}, 403, "not a scheme://host[:port] origin"},
		{"a pattern of * takes no path", false, "", []string{"https://evil.test/x"},
			&Options{OriginPatterns: []string{"*"}}, 403, "path"},
	} {
		r := upgradeRequest()
		if tc.host != "" {
			r.Host = tc.host
		}
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		r.Header[hdrOrigin] = tc.origins
		herr := checkRequest(r, tc.opts.withDefaults())
		switch {
		case herr == nil && tc.wantStatus != 0:
			t.Errorf("%s: accepted, want %d", tc.name, tc.wantStatus)
		case herr != nil && (herr.Status != tc.wantStatus || !strings.Contains(herr.Reason, tc.wantReason)):
			t.Errorf("%s: %d %q, want %d with %q", tc.name, herr.Status, herr.Reason, tc.wantStatus, tc.wantReason)
		}
	}
}

// TestOriginOverTLS: against a real TLS server, a page of the same host
// over http:// is another origin and gets 403; over https:// it connects.
func TestOriginOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(Require(func(ws *Conn, r *http.Request) {}, nil))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig
	for _, tc := range []struct {
		origin     string
		wantStatus int
	}{
		{"http://" + addr, http.StatusForbidden},
		{"https://" + addr, http.StatusSwitchingProtocols},
	} {
		nc, err := tls.Dial("tcp", addr, tlsConfig)
		if err != nil {
			t.Fatal(err)
		}
		req := strings.Replace(validUpgrade, "example.com", addr, 1) + "Origin: " + tc.origin + "\r\n\r\n"
		if _, err := io.WriteString(nc, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		nc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("Origin %s over TLS: %s, want %d", tc.origin, resp.Status, tc.wantStatus)
		}
	}
}

// TestSameOriginCheckAllocatesNothing: the usual browser request, whose
// Origin is the server's own, is checked without an allocation.
func TestSameOriginCheckAllocatesNothing(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	r := upgradeRequest()
	r.Header.Set("Origin", "https://Example.com")
	o := (*Options)(nil).withDefaults()
	if n := testing.AllocsPerRun(100, func() {
		if herr := checkRequest(r, o); herr != nil {
			t.Fatal(herr)
		}
	}); n != 0 {
		t.Errorf("checking a same-origin request: %v allocations, want 0", n)
	}
}

// naiveSubprotocol is the rule of selectSubprotocol written the obvious way,
// one pass over the offer per server subprotocol: the reference the
// one-pass version is checked against.
func naiveSubprotocol(offered, server []string) string {
	for _, s := range server {
		for _, t := range headerTokens(offered) {
			if s != "" && s == t {
				return s
			}
		}
	}
	return ""
}

// TestChooseSubprotocolMatchesNaive compares the one-pass selection with the
// obvious one over short and long server lists (the long ones use the map).
func TestChooseSubprotocolMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string { return []string{"a", "b", "c", "d", "chat", "Chat", "v1", ""}[rng.IntN(8)] }
	for range 2000 {
		var server, offered []string
		for range rng.IntN(12) {
			server = append(server, word())
		}
		for range rng.IntN(3) {
			var line []string
			for range rng.IntN(5) {
				line = append(line, []string{"", " ", "\t"}[rng.IntN(3)]+word()+[]string{"", " "}[rng.IntN(2)])
			}
			offered = append(offered, strings.Join(line, ","))
		}
		got, _ := chooseSubprotocol(offered, server)
		if want := naiveSubprotocol(offered, server); got != want {
			t.Fatalf("offered %q, server %q: got %q, want %q", offered, server, got, want)
		}
	}
}

// hugeProtocolOffer returns a Sec-WebSocket-Protocol value of about 1 MB:
// short tokens the server does not speak, then the server's last
// preference, and the server's list of 64 subprotocols.
func hugeProtocolOffer() (offer string, tokens int, server []string) {
	for i := range 64 {
		server = append(server, fmt.Sprintf("proto.v%d", i))
	}
	var b strings.Builder
	for b.Len() < 1<<20 {
		b.WriteString("proto.x1, ")
		tokens++
	}
	b.WriteString(server[63])
	return b.String(), tokens + 1, server
}

// TestSubprotocolWorkIsLinear: choosing among 64 server subprotocols from a
// 1 MB offer compares each offered token with the server's list at most
// once (a map lookup), or at most linearSubprotocols times for a short
// list, where one pass over the offer per server subprotocol makes 64
// comparisons per token.
func TestSubprotocolWorkIsLinear(t *testing.T) {
	offer, tokens, server := hugeProtocolOffer()
	got, steps := chooseSubprotocol([]string{offer}, server)
	if got != server[63] {
		t.Fatalf("chose %q, want %q", got, server[63])
	}
	if steps > tokens {
		t.Errorf("64 server subprotocols, %d offered tokens: %d comparisons, want at most one per token", tokens, steps)
	}
	short := server[56:] // 8: compared one by one
	got, steps = chooseSubprotocol([]string{offer}, short)
	if got != server[63] {
		t.Fatalf("chose %q, want %q", got, server[63])
	}
	if steps > tokens*len(short) {
		t.Errorf("%d server subprotocols, %d offered tokens: %d comparisons, want at most %d", len(short), tokens, steps, tokens*len(short))
	}
	// The server's first preference ends the walk at once.
	if _, steps := chooseSubprotocol([]string{server[0] + ", " + offer}, server); steps != 1 {
		t.Errorf("first preference offered first: %d comparisons, want 1", steps)
	}
}

// BenchmarkSelectSubprotocol1MB is the attack of a 1 MB Sec-WebSocket-Protocol
// header against a server that speaks 64 subprotocols.
func BenchmarkSelectSubprotocol1MB(b *testing.B) {
	offer, _, server := hugeProtocolOffer()
	r := upgradeRequest()
	r.Header[hdrProtocol] = []string{offer}
	b.SetBytes(int64(len(offer)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if selectSubprotocol(r, server) != server[63] {
			b.Fatal("wrong subprotocol")
		}
	}
}
