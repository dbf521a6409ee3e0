package autobahn

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zerows/websocket/autobahn/echo"
	"github.com/zerows/websocket/internal/wstest"
)

// The conformance suite against the library as a server over HTTP/2
// (RFC 8441): Autobahn's wstest speaks HTTP/1.1 only, so every section
// runs here (12 and 13 with their offers in the CONNECT request), the
// fuzzer's frames carried by an extended CONNECT's stream (see
// wstest.DialH2) instead of a TCP connection. The end of the stream
// (END_STREAM) stands for the server's TCP close, as RFC 8441 §5 says.

// h2ServerTarget connects to one echo path of the HTTP/2 server at addr.
func h2ServerTarget(addr string, conf *tls.Config, s echo.Style) target {
	return target{
		name:   "server-h2/" + s.Name,
		style:  s.Name,
		server: true,
		connect: func(c *kase) (*connection, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			extra, offers := offerHeader(c)
			st, err := wstest.DialH2(ctx, addr, s.Path, conf, extra)
			if err != nil {
				return nil, err
			}
			d, err := checkResponse(st.Response.Header.Values("Sec-WebSocket-Extensions"), offers)
			if err != nil {
				st.Close()
				return nil, err
			}
			return &connection{p: newPeer(st, bufio.NewReader(st), true, d), finish: serverFinish}, nil
		},
	}
}

// TestRFC8441Server runs every section against the library served over
// HTTP/2 by net/http's server: with the default echo style (TestServer puts
// every style through the same cases over TCP, and the transport is what
// differs here), or with every style under -full.
func TestRFC8441Server(t *testing.T) {
	var args []string
	if *full {
		args = append(args, "-full")
	}
	if !wstest.InXConnectProcess(t, args...) {
		return
	}
	srv := httptest.NewUnstartedServer(echo.Handler(nil))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	conf := &tls.Config{RootCAs: pool}
	addr := srv.Listener.Addr().String()
	styles := echo.Styles[:1]
	if *full {
		styles = echo.Styles
	}
	for _, s := range styles {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			runSections(t, h2ServerTarget(addr, conf, s))
		})
	}
}
