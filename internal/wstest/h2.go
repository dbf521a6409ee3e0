package wstest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// H2Stream is one WebSocket opened over HTTP/2 as RFC 8441 defines it: an
// extended CONNECT request with ":protocol: websocket" on a TLS
// connection of its own that negotiated "h2" (ALPN). Writes go to the
// request body, reads come from the response body.
//
// It is sent by net/http's own HTTP/2 client. http.Transport refuses the
// request before it gets there (a ":protocol" key is not a valid header
// field name to its header check, which runs for http and https URLs), but
// the client behind it sends extended CONNECT: given a
// CONNECT request whose Header has ":protocol", it waits for the server's
// first SETTINGS frame and refuses unless it holds
// SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3), then writes the
// pseudo-header (§4). The client is reached through the function the
// Transport keeps in TLSNextProto["h2"], which takes a TLS connection
// dialed here: that is what the Transport itself calls after ALPN, and the
// RoundTripper it returns does not check header names.
//
// H2Stream is a net.Conn for tests: its deadlines are not a net.Conn's, a
// deadline that passes ends the stream.
type H2Stream struct {
	Response *http.Response // the server's answer; its Body is what Read reads

	out    *io.PipeWriter
	tc     *tls.Conn
	tr     *http.Transport
	cancel context.CancelFunc

	mu        sync.Mutex
	timers    [2]*time.Timer // read, write
	closeOnce sync.Once
}

// DialH2 opens an extended CONNECT to path on the server at addr, which
// conf must trust. header is sent too (Sec-WebSocket-Version is 13 unless
// header sets it). The stream lives until Close, however ctx ends; ctx
// bounds the dial and the response. A response other than 200 is
// returned with its stream closed, and an error.
func DialH2(ctx context.Context, addr, path string, conf *tls.Config, header http.Header) (*H2Stream, error) {
	tr := &http.Transport{TLSClientConfig: conf.Clone(), ForceAttemptHTTP2: true}
	tr.CloseIdleConnections() // fills in TLSNextProto
	h2 := tr.TLSNextProto["h2"]
	if h2 == nil {
		return nil, errors.New("net/http set up no HTTP/2 client")
	}
	conf = conf.Clone()
	conf.NextProtos = []string{"h2"}
	d := tls.Dialer{Config: conf}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := nc.(*tls.Conn)
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		tc.Close()
		return nil, fmt.Errorf("ALPN chose %q, not h2", p)
	}
	rt := h2(addr, tc)

	streamCtx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(streamCtx, http.MethodConnect, "https://"+addr+path, pr)
	if err != nil {
		cancel()
		tc.Close()
		return nil, err
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header[":protocol"] = []string{"websocket"}
	if req.Header.Get("Sec-WebSocket-Version") == "" {
		req.Header.Set("Sec-WebSocket-Version", "13")
	}
	type answer struct {
		resp *http.Response
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := rt.RoundTrip(req)
		answered <- answer{resp, err}
	}()
	var a answer
	select {
	case a = <-answered:
	case <-ctx.Done():
		cancel()
		tc.Close()
		<-answered
		return nil, ctx.Err()
	}
	s := &H2Stream{Response: a.resp, out: pw, tc: tc, tr: tr, cancel: cancel}
	if a.err != nil {
		s.Close()
		return nil, a.err
	}
	if a.resp.StatusCode != http.StatusOK {
		s.Close()
		return s, fmt.Errorf("status %s", a.resp.Status)
	}
	return s, nil
}

func (s *H2Stream) Read(p []byte) (int, error)  { return s.Response.Body.Read(p) }
func (s *H2Stream) Write(p []byte) (int, error) { return s.out.Write(p) }

// CloseWrite ends the request body: END_STREAM, HTTP/2's FIN.
func (s *H2Stream) CloseWrite() error { return s.out.Close() }

// Close ends the stream and closes the TLS connection.
func (s *H2Stream) Close() error {
	s.closeOnce.Do(func() {
		s.out.Close()
		if s.Response != nil {
			s.Response.Body.Close()
		}
		s.cancel()
		s.tc.Close()
		s.tr.CloseIdleConnections()
		s.mu.Lock()
		for _, t := range s.timers {
			if t != nil {
				t.Stop()
			}
		}
		s.mu.Unlock()
	})
	return nil
}

func (s *H2Stream) LocalAddr() net.Addr  { return s.tc.LocalAddr() }
func (s *H2Stream) RemoteAddr() net.Addr { return s.tc.RemoteAddr() }

// SetDeadline closes the stream once t has passed.
func (s *H2Stream) SetDeadline(t time.Time) error {
	s.setTimer(0, t)
	s.setTimer(1, t)
	return nil
}

// SetReadDeadline closes the stream once t has passed.
func (s *H2Stream) SetReadDeadline(t time.Time) error { s.setTimer(0, t); return nil }

// SetWriteDeadline closes the stream once t has passed.
func (s *H2Stream) SetWriteDeadline(t time.Time) error { s.setTimer(1, t); return nil }

func (s *H2Stream) setTimer(i int, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timers[i] != nil {
		s.timers[i].Stop()
		s.timers[i] = nil
	}
	if !t.IsZero() {
		s.timers[i] = time.AfterFunc(time.Until(t), func() { s.Close() })
	}
}
