package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// connectProxy is a CONNECT proxy for the tests, speaking TLS when cfg is
// not nil.
type connectProxy struct {
	*rawServer
	reqs chan *http.Request
}

func startProxy(t *testing.T, cfg *tls.Config) *connectProxy {
	p := &connectProxy{reqs: make(chan *http.Request, 1)}
	p.rawServer = startRawServer(t, func(c net.Conn) {
		var conn net.Conn = c
		if cfg != nil {
			conn = tls.Server(c, cfg)
		}
		br := bufio.NewReader(conn)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return
		}
		p.reqs <- req
		up, err := net.Dial("tcp", req.RequestURI)
		if err != nil {
			fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		done := make(chan struct{})
		go func() {
			io.Copy(up, br)
			up.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		io.Copy(conn, up)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		<-done
	})
	return p
}

func TestDialProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		secure     bool // wss:// through the tunnel
		user       *url.Userinfo
		httpsProxy bool
	}{
		{name: "ws"},
		{name: "wss", secure: true},
		{name: "ws with credentials", user: url.UserPassword("alice", "s3cr@t:x")},
		{name: "wss with credentials", secure: true, user: url.User("bob")},
		{name: "wss through an https proxy", secure: true, httpsProxy: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := dialEchoServer(t, tc.secure || tc.httpsProxy, nil)
			var proxyTLS *tls.Config
			if tc.httpsProxy {
				proxyTLS = srv.TLS.Clone()
			}
			proxy := startProxy(t, proxyTLS)
			scheme := "http"
			if tc.httpsProxy {
				scheme = "https"
			}
			proxyURL := &url.URL{Scheme: scheme, Host: proxy.addr(), User: tc.user}
			var sawScheme string
			opts := &Options{Proxy: func(r *http.Request) (*url.URL, error) {
				sawScheme = r.URL.Scheme
				return proxyURL, nil
			}}
			if tc.secure || tc.httpsProxy {
				opts.TLSConfig = trustServer(srv)
			}
			target := srv.Listener.Addr().String()
			u := "ws://" + target + "/"
			if tc.secure {
				u = "wss://" + target + "/"
			}
			ws, _ := dialOK(t, u, opts)
			req := <-proxy.reqs
			if req.Method != "CONNECT" || req.RequestURI != target || req.Host != target {
				t.Errorf("proxy got %s %s Host %s, want CONNECT %s", req.Method, req.RequestURI, req.Host, target)
			}
			if want := map[bool]string{false: "http", true: "https"}[tc.secure]; sawScheme != want {
				t.Errorf("Proxy saw scheme %q, want %q", sawScheme, want)
			}
			wantAuth := ""
			if tc.user != nil {
				pw, _ := tc.user.Password()
				wantAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(tc.user.Username()+":"+pw))
			}
			if got := req.Header.Get("Proxy-Authorization"); got != wantAuth {
				t.Errorf("Proxy-Authorization %q, want %q", got, wantAuth)
			}
			if err := ws.SendText("through the tunnel"); err != nil {
				t.Fatal(err)
			}
			if m, err := ws.WaitTimeout(testWait); err != nil || string(m.Data) != "through the tunnel" {
				t.Fatalf("echo = %q, %v", m.Data, err)
			}
			if err := ws.Close(); err != nil || CloseStatus(ws.Err()) != CloseNormalClosure {
				t.Errorf("Close() = %v, Err() = %v; want a clean close", err, ws.Err())
			}
		})
	}
}

func TestDialProxyBadAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer string
		status int // of the *HandshakeError; -1: not one
		reason string
	}{
		{"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403, "refused the tunnel"},
		{"407", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n", 407, "refused the tunnel"},
		{"data after 200", "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n", 200, "sent data after its response"},
		{"garbage", "SSH-2.0-OpenSSH\r\n\r\n", 0, "malformed"},
		{"closes", "", -1, "closed before the response ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			closed := make(chan bool, 1)
			reqs := make(chan *http.Request, 1)
			proxy := startRawServer(t, func(c net.Conn) {
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					t.Errorf("proxy: %v", err)
					return
				}
				reqs <- req
				io.WriteString(c, tc.answer)
				closed <- tc.answer == "" || waitClosed(c)
			})
			opts := &Options{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.addr()})}
			ws, resp, err := Dial(context.Background(), "ws://127.0.0.1:1/", opts)
			if ws != nil || resp != nil || err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Dial = %v, %v, %v; want an error about %q", ws, resp, err, tc.reason)
			}
			var herr *HandshakeError
			if isH := errors.As(err, &herr); tc.status < 0 && isH || tc.status >= 0 && (!isH || herr.Status != tc.status) {
				t.Errorf("Dial error %#v, want a *HandshakeError with status %d (-1: none)", err, tc.status)
			}
			if tc.status >= 0 && !strings.Contains(err.Error(), "proxy "+proxy.addr()) {
				t.Errorf("error %q does not name the proxy", err)
			}
			if req := <-reqs; req.Method != "CONNECT" || req.RequestURI != "127.0.0.1:1" {
				t.Errorf("proxy got %s %s, want CONNECT 127.0.0.1:1", req.Method, req.RequestURI)
			}
			if !<-closed {
				t.Errorf("the client kept the connection to the proxy open")
			}
		})
	}
}

// TestDialProxyAuthorizationHeader: Proxy-Authorization in Options.Header
// reaches the proxy's CONNECT request and never the server, with or
// without a proxy; a proxy URL's user info takes its place.
func TestDialProxyAuthorizationHeader(t *testing.T) {
	t.Parallel()
	const token = "Bearer proxy-token"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw"))
	for _, tc := range []struct {
		name      string
		proxy     bool
		user      *url.Userinfo
		key       string // the name in Options.Header
		wantProxy string
	}{
		{name: "through a proxy", proxy: true, key: "Proxy-Authorization", wantProxy: token},
		{name: "lower case", proxy: true, key: "proxy-authorization", wantProxy: token},
		{name: "user info wins", proxy: true, user: url.UserPassword("alice", "pw"), key: "Proxy-Authorization", wantProxy: basic},
		{name: "no proxy", key: "Proxy-Authorization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan *http.Request, 1)
			srv := startRawServer(t, func(c net.Conn) {
				br, req, err := readUpgradeRequest(c)
				if err != nil {
					t.Error(err)
					return
				}
				got <- req
				io.WriteString(c, switching(req.Header.Get("Sec-WebSocket-Key")))
				answerClose(c, br)
			})
			opts := &Options{
				Header: http.Header{tc.key: {token}, "Authorization": {"Bearer server-token"}},
				Proxy:  func(*http.Request) (*url.URL, error) { return nil, nil },
			}
			var proxy *connectProxy
			if tc.proxy {
				proxy = startProxy(t, nil)
				opts.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.addr(), User: tc.user})
			}
			ws, resp := dialOK(t, "ws://"+srv.addr()+"/", opts)
			ws.Close()
			req := <-got
			if v := req.Header.Values("Proxy-Authorization"); len(v) != 0 {
				t.Errorf("the server got Proxy-Authorization %q", v)
			}
			if v := req.Header.Get("Authorization"); v != "Bearer server-token" {
				t.Errorf("the server got Authorization %q, want it", v)
			}
			for name := range resp.Request.Header {
				if strings.EqualFold(name, "Proxy-Authorization") {
					t.Errorf("resp.Request.Header has %s, which was not sent to the server", name)
				}
			}
			if proxy != nil {
				preq := <-proxy.reqs
				if v := preq.Header.Values("Proxy-Authorization"); len(v) != 1 || v[0] != tc.wantProxy {
					t.Errorf("the proxy got Proxy-Authorization %q, want %q", v, tc.wantProxy)
				}
				if v := preq.Header.Get("Authorization"); v != "" {
					t.Errorf("the proxy got the server's Authorization %q", v)
				}
			}
		})
	}
}
