package websocket

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// logUnsafe returns the first thing in s that a log or terminal could take
// as a command, as a quoted string, or "" when there is none: invalid
// UTF-8, or a rune that is not printable (ESC, CR, BEL, DEL, C1 controls
// such as U+009B, which some terminals read as CSI).
func logUnsafe(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.QuoteRune(r)
		}
	}
	return ""
}

// hostile is what a hostile server puts where a dial error may quote it:
// terminal escapes, a bell, a carriage return to overwrite the log line.
const hostile = "\x1b[2J\x1b[31mpwned\x07\rINFO all good\x9b31m\xc2\x9b"

func TestDialErrorEscapesServerBytes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("\x1b", 10000)
	for _, tc := range []struct {
		name    string
		respond func(key string) string
		want    string // in the error, escaped
	}{
		{"refusal body", func(string) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: " + strconv.Itoa(len(hostile)) + "\r\n\r\n" + hostile
		}, `"\x1b[2J\x1b[31mpwned\a\rINFO all good\x9b31m\u009b"`},
		{"long refusal body", func(string) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: " + strconv.Itoa(len(long)) + "\r\n\r\n" + long
		}, `"\x1b\x1b`},
		{"status text", func(string) string {
			return "HTTP/1.1 403 " + hostile + "\r\nContent-Length: 0\r\n\r\n"
		}, "403 Forbidden"},
		{"subprotocol", func(key string) string {
			return switching(key, "Sec-WebSocket-Protocol: x\xc2\x9b31m\x9b\r\n")
		}, `"x\u009b31m\x9b", which was not offered`},
		{"extension", func(key string) string {
			return switching(key, "Sec-WebSocket-Extensions: \xc2\x9b2J\r\n")
		}, `"\u009b2J"`},
		{"accept key", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \x9b\xc2\x85\r\n\r\n"
		}, `"\x9b\u0085" does not match`},
		{"malformed header line", func(key string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nX-Evil: " + hostile + "\r\n\r\n"
		}, "malformed response"},
		{"malformed status line", func(key string) string {
			return "HTTP/1.1 " + hostile + "\r\n\r\n"
		}, "malformed response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startRawServer(t, func(c net.Conn) {
				_, req, err := readUpgradeRequest(c)
				if err != nil {
					t.Error(err)
					return
				}
				io.WriteString(c, tc.respond(req.Header.Get("Sec-WebSocket-Key")))
				waitClosed(c)
			})
			_, _, err := Dial(context.Background(), "ws://"+srv.addr()+"/", nil)
			var herr *HandshakeError
			if !errors.As(err, &herr) {
				t.Fatalf("Dial error %v, want a *HandshakeError", err)
			}
			if bad := logUnsafe(err.Error()); bad != "" {
				t.Errorf("error %q holds %s", err, bad)
			}
			if bad := logUnsafe(herr.Reason); bad != "" {
				t.Errorf("Reason %q holds %s", herr.Reason, bad)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %s does not say %s", err, tc.want)
			}
			if n := len(err.Error()); n > 1024 {
				t.Errorf("error is %d bytes long, want it bounded", n)
			}
		})
	}
}

// TestDialErrorEscapesProxyBytes: likewise for what a proxy sends.
func TestDialErrorEscapesProxyBytes(t *testing.T) {
	t.Parallel()
	proxy := startRawServer(t, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			t.Error(err)
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nVia: "+hostile+"\r\n\r\n")
		waitClosed(c)
	})
	opts := &Options{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: proxy.addr()})}
	_, _, err := Dial(context.Background(), "ws://127.0.0.1:1/", opts)
	if err == nil || !strings.Contains(err.Error(), "malformed response from proxy") {
		t.Fatalf("Dial error %v, want a malformed response from the proxy", err)
	}
	if bad := logUnsafe(err.Error()); bad != "" {
		t.Errorf("error %q holds %s", err, bad)
	}
}

// TestDialErrorEscapesCause: the error a step fails with is shown escaped
// and bounded, and still unwraps to itself.
func TestDialErrorEscapesCause(t *testing.T) {
	t.Parallel()
	cause := errors.New("refused by " + hostile + strings.Repeat("x", 5000))
	opts := &Options{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, cause }}
	_, _, err := Dial(context.Background(), "ws://127.0.0.1:1/", opts)
	if !errors.Is(err, cause) {
		t.Fatalf("Dial error %v does not wrap the dialer's", err)
	}
	if bad := logUnsafe(err.Error()); bad != "" {
		t.Errorf("error %q holds %s", err, bad)
	}
	if want := `refused by \x1b[2J\x1b[31mpwned\a\rINFO all good\x9b31m\u009b`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %s", err, want)
	}
	if n := len(err.Error()); n > 1200 || !strings.HasSuffix(err.Error(), "x…") {
		t.Errorf("error is %d bytes, ending %q; want it cut near 1 KiB and marked", n, err.Error()[n-10:])
	}
}

func TestQuoteText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, `"plain"`},
		{"a\x1bb\r\n\a\x7f", 100, `"a\x1bb\r\n\a\x7f"`},
		{"caf\xe9 \xc2\x9b", 100, `"caf\xe9 \u009b"`},
		{"abcdef", 3, `"abc"…`},
		{"ééé", 3, `"é"…`}, // cut on a rune's start
		{"", 3, `""`},
	} {
		if got := quoteText(tc.in, tc.max); got != tc.want {
			t.Errorf("quoteText(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{`tls: "quoted" \ as is`, 100, `tls: "quoted" \ as is`},
		{"a\x1bb\r\n\a\x7f", 100, `a\x1bb\r\n\a\x7f`},
		{"caf\xe9 é \xc2\x9b", 100, `caf\xe9 é \u009b`},
		{"abcdef", 3, `abc…`},
	} {
		if got := string(appendEscaped(nil, tc.in, tc.max)); got != tc.want {
			t.Errorf("appendEscaped(%q, %d) = %s, want %s", tc.in, tc.max, got, tc.want)
		}
	}
}
