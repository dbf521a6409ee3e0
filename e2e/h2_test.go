package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/internal/wstest"
)

// WebSocket over HTTP/2 (RFC 8441) from a real browser: chromium loads a
// page over HTTPS from a Go server with HTTP/2, and the page's wss://
// WebSocket echoes text and binary messages of every size through
// Require. With GODEBUG=http2xconnect=1 the server offers extended
// CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL), and chromium opens the
// WebSocket as a CONNECT with ":protocol: websocket" on the page's own
// HTTP/2 connection; without it, chromium falls back to an HTTP/1.1
// upgrade on a connection of its own. The handler records which it saw.

// h2Seen is what the server saw of one request.
type h2Seen struct {
	method, proto, protocol, remote string
	extensions                      string // Sec-WebSocket-Extensions offered
}

// startH2Server starts the page and the echo on 127.0.0.1 over TLS with
// HTTP/2, and returns it with what its handlers see.
func startH2Server(t *testing.T) (*httptest.Server, chan h2Seen) {
	seen := make(chan h2Seen, 8)
	record := func(r *http.Request) {
		seen <- h2Seen{r.Method, r.Proto, r.Header.Get(":protocol"), r.RemoteAddr, r.Header.Get("Sec-WebSocket-Extensions")}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>RFC 8441</title><p>WebSocket over HTTP/2</p>")
	})
	opts := &websocket.Options{
		Subprotocols:   []string{"chat", "superchat"},
		Compression:    websocket.CompressionContextTakeover,
		MaxMessageSize: 2 << 20,
	}
	mux.Handle("/echo", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		record(r)
		for m := range ws.Messages() {
			if ws.SendMessage(m) != nil {
				return
			}
		}
	}, opts))
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, seen
}

// spkiPin is chromium's --ignore-certificate-errors-spki-list value that
// makes it trust srv's certificate alone: the base64 SHA-256 of its
// public key.
func spkiPin(srv *httptest.Server) string {
	sum := sha256.Sum256(srv.Certificate().RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// runH2Echo opens the page in chromium, runs the echo from it, checks the
// echoes, shows the outcome and what the server saw on the page for a
// screenshot, and returns what the server saw of the page and the
// WebSocket.
func runH2Echo(t *testing.T, screenshot string) (page, ws h2Seen) {
	if testing.Short() && os.Getenv(requiredVar) != "1" {
		t.Skip("browser tests take a while: skipped with -short")
	}
	srv, seen := startH2Server(t)
	b := startBrowser(t, "--ignore-certificate-errors-spki-list="+spkiPin(srv))
	p := b.open(t, srv.URL+"/")
	defer p.close()
	page = <-seen
	if proto := p.text(`performance.getEntriesByType("navigation")[0].nextHopProtocol`); proto != "h2" {
		t.Errorf("the page came over %q, want h2", proto)
	}

	url := "wss" + strings.TrimPrefix(srv.URL, "https") + "/echo"
	got := runEchoPage(t, p, url)
	ws = <-seen
	// What the handshake negotiated, as the page sees it: a WebSocket of
	// its own, opened and closed.
	var extensions string
	if err := p.eval(`(async (url) => {
  const ws = new WebSocket(url);
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("WebSocket error")); });
  const e = ws.extensions;
  ws.close(1000);
  return e;
})(`+jsString(url)+`)`, &extensions); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(extensions, "permessage-deflate") {
		t.Errorf("negotiated extensions %q, want permessage-deflate", extensions)
	}
	ok := 0
	for _, s := range got.Seen {
		if s.OK {
			ok++
		}
	}
	report := fmt.Sprintf("page: %s %s from %s\nWebSocket: %s %s :protocol=%q from %s, offering %s\n%d of %d echoes equal, subprotocol %q, closed %d %q clean=%v\nnegotiated: %s",
		page.method, page.proto, page.remote, ws.method, ws.proto, ws.protocol, ws.remote, ws.extensions,
		ok, len(got.Seen), got.Protocol, got.Close.Code, got.Close.Reason, got.Close.WasClean, extensions)
	p.run(`document.body.style.font = "16px monospace"; document.body.innerText = ` + jsString(report))
	p.screenshot(screenshot)
	return page, ws
}

// TestRFC8441Chromium: with extended CONNECT offered, chromium's WebSocket
// runs over HTTP/2, on the page's connection, and echoes everything.
func TestRFC8441Chromium(t *testing.T) {
	if !wstest.InXConnectProcess(t) {
		return
	}
	page, ws := runH2Echo(t, "rfc8441-chromium.png")
	if page.proto != "HTTP/2.0" {
		t.Errorf("page request over %s, want HTTP/2.0", page.proto)
	}
	if want := (h2Seen{"CONNECT", "HTTP/2.0", "websocket", page.remote, ws.extensions}); ws != want {
		t.Errorf("the WebSocket's request: %+v, want %+v (an extended CONNECT on the page's connection)", ws, want)
	}
	// Chromium offers compression over HTTP/2 too (runH2Echo checked that
	// it was negotiated).
	if !strings.HasPrefix(ws.extensions, "permessage-deflate") {
		t.Errorf("chromium offered %q over HTTP/2, want permessage-deflate", ws.extensions)
	}
}

// TestRFC8441ChromiumFallback: without extended CONNECT, the same server
// and page give chromium an HTTP/1.1 WebSocket, which works as before.
func TestRFC8441ChromiumFallback(t *testing.T) {
	if wstest.XConnectEnabled() {
		t.Skip("this process has GODEBUG=" + wstest.XConnectSetting)
	}
	page, ws := runH2Echo(t, "rfc8441-chromium-fallback.png")
	if page.proto != "HTTP/2.0" {
		t.Errorf("page request over %s, want HTTP/2.0", page.proto)
	}
	if ws.method != "GET" || ws.proto != "HTTP/1.1" || ws.remote == page.remote {
		t.Errorf("the WebSocket's request: %+v, want an HTTP/1.1 GET on a connection of its own", ws)
	}
}
