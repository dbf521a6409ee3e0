package websocket

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// switchingSeeds are responses for readSwitching: those it parses, and
// those it leaves to http.ReadResponse.
var switchingSeeds = []struct {
	name   string
	resp   string
	parsed bool
}{
	{"usual", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", true},
	{"frames after", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi", true},
	{"no reason", "HTTP/1.1 101\r\nUpgrade: websocket\r\n\r\n", true},
	{"no headers", "HTTP/1.1 101 OK\r\n\r\n", true},
	{"odd reason", "HTTP/1.1 101 \x00 weird  reason \r\n\r\n", true},
	{"repeated and mixed case", "HTTP/1.1 101 x\r\nset-cookie: a=1\r\nSET-COOKIE: b=2\r\nX-odd_NAME: v\r\n\r\n", true},
	{"spaces and tabs", "HTTP/1.1 101 x\r\nUpgrade:websocket\r\nConnection: \t Upgrade \t\r\nX-Empty:\r\nX-Spaces:   \r\n\r\n", true},
	{"obs-text", "HTTP/1.1 101 x\r\nX-Latin: caf\xe9\r\n\r\n", true},
	{"Connection keep-alive", "HTTP/1.1 101 x\r\nConnection: Upgrade, keep-alive\r\n\r\n", true},

	{"status 200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
	{"status 1010", "HTTP/1.1 1010 x\r\n\r\n", false},
	{"interim 103", "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 101 x\r\n\r\n", false},
	{"HTTP/1.0", "HTTP/1.0 101 x\r\n\r\n", false},
	{"two spaces", "HTTP/1.1  101 x\r\n\r\n", false},
	{"garbage", "\x16\x03\x01garbage\r\n\r\n", false},
	{"empty", "", false},
	{"cut in the status line", "HTTP/1.1 10", false},
	{"cut in the headers", "HTTP/1.1 101 x\r\nUpgr", false},
	{"bare LF endings", "HTTP/1.1 101 x\nUpgrade: websocket\n\n", false},
	{"bare LF at the end", "HTTP/1.1 101 x\r\nUpgrade: websocket\r\n\n", false},
	{"CR in the status line", "HTTP/1.1 101 a\rb\r\n\r\n", false},
	{"CR in a value", "HTTP/1.1 101 x\r\nX-A: a\rb\r\n\r\n", false},
	{"NUL in a value", "HTTP/1.1 101 x\r\nX-A: a\x00b\r\n\r\n", false},
	{"DEL in a value", "HTTP/1.1 101 x\r\nX-A: a\x7fb\r\n\r\n", false},
	{"continuation line", "HTTP/1.1 101 x\r\nX-A: a\r\n b\r\n\r\n", false},
	{"space before the colon", "HTTP/1.1 101 x\r\nUpgrade : websocket\r\n\r\n", false},
	{"no colon", "HTTP/1.1 101 x\r\nUpgrade websocket\r\n\r\n", false},
	{"empty name", "HTTP/1.1 101 x\r\n: v\r\n\r\n", false},
	{"non-token name", "HTTP/1.1 101 x\r\nX(A): v\r\n\r\n", false},
	{"Content-Length", "HTTP/1.1 101 x\r\nContent-Length: 3\r\n\r\n", false},
	{"Transfer-Encoding", "HTTP/1.1 101 x\r\nTransfer-Encoding: chunked\r\n\r\n", false},
	{"Trailer", "HTTP/1.1 101 x\r\nTrailer: X-A\r\n\r\n", false},
	{"Pragma", "HTTP/1.1 101 x\r\nPragma: no-cache\r\n\r\n", false},
	{"Connection close", "HTTP/1.1 101 x\r\nConnection: Upgrade, Close\r\n\r\n", false},
	{"headers past the buffer", "HTTP/1.1 101 x\r\nX-Big: " + strings.Repeat("a", handshakeBufferSize) + "\r\n\r\n", false},
}

func TestReadSwitching(t *testing.T) {
	for _, tc := range switchingSeeds {
		t.Run(tc.name, func(t *testing.T) {
			parsed := checkReadSwitching(t, []byte(tc.resp), nil)
			if parsed != tc.parsed {
				t.Errorf("readSwitching parsed %q: %v, want %v", tc.resp, parsed, tc.parsed)
			}
		})
	}
}

// TestReadSwitchingByteByByte feeds responses one byte per read: whether
// readSwitching parses one must not depend on how it arrives.
func TestReadSwitchingByteByByte(t *testing.T) {
	for _, tc := range switchingSeeds {
		t.Run(tc.name, func(t *testing.T) {
			parsed := checkReadSwitching(t, []byte(tc.resp), iotest.OneByteReader)
			if parsed != tc.parsed {
				t.Errorf("readSwitching parsed %q: %v, want %v", tc.resp, parsed, tc.parsed)
			}
		})
	}
}

// FuzzReadSwitching checks readSwitching against http.ReadResponse.
func FuzzReadSwitching(f *testing.F) {
	for _, tc := range switchingSeeds {
		f.Add([]byte(tc.resp))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkReadSwitching(t, raw, nil)
		checkReadSwitching(t, raw, iotest.HalfReader)
	})
}

// checkReadSwitching runs readSwitching on raw, read through wrap (if not
// nil), and reports whether it parsed a response. A response it parses
// must be the one http.ReadResponse gives, with the same bytes left after
// it; otherwise it must have consumed nothing.
func checkReadSwitching(t *testing.T, raw []byte, wrap func(io.Reader) io.Reader) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://example.com/", nil)
	var r io.Reader = bytes.NewReader(raw)
	if wrap != nil {
		r = wrap(r)
	}
	br := bufio.NewReaderSize(r, handshakeBufferSize)
	got := readSwitching(br, req)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		if !bytes.Equal(rest, raw) {
			t.Fatalf("readSwitching refused %q, but consumed %d bytes", raw, len(raw)-len(rest))
		}
		return false
	}

	wbr := bufio.NewReader(bytes.NewReader(raw))
	want, err := http.ReadResponse(wbr, req)
	if err != nil {
		t.Fatalf("readSwitching parsed %q, which http.ReadResponse refuses: %v", raw, err)
	}
	wantRest, _ := io.ReadAll(wbr)
	if !bytes.Equal(rest, wantRest) {
		t.Fatalf("readSwitching left %q of %q, http.ReadResponse %q", rest, raw, wantRest)
	}
	if got.Body != http.NoBody {
		t.Fatalf("readSwitching gave a body %v", got.Body)
	}
	got.Body, want.Body = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("response %q:\nreadSwitching      %+v\nhttp.ReadResponse %+v", raw, got, want)
	}
	return true
}
