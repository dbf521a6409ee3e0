package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/internal/wstest"
)

// Compression with real clients: chromium's WebSocket and Node's ws both
// offer permessage-deflate (RFC 7692); the library's server accepts, and
// text and binary messages of several sizes, up to 64 KiB and more of
// compressible text, make the round trip. The server's side of the wire is
// recorded and decoded by the naive codec of internal/wstest, so the test
// sees, independently of the library, that the extension was negotiated
// and that frames in both directions carried RSV1 (were compressed).

// compressionSizes are the message sizes (characters for text, octets for
// binary): the empty message, one under the library's CompressionThreshold
// (128 octets), 100 (200 octets of text, 100 of binary), a few KiB, and
// 70000 characters (about 140 KiB of UTF-8) of repetitive, compressible
// text.
var compressionSizes = []int{0, 1, 100, 4096, 70000}

// bigMessages is how many messages exceed 128 octets with both encodings
// (4096 and 70000, text and binary): the ones the server compresses
// whatever the client.
const bigMessages = 4

// wire records both directions of every connection a listener accepts.
type wire struct {
	net.Listener
	mu    sync.Mutex
	conns []*recordedConn
}

type recordedConn struct {
	net.Conn
	mu       sync.Mutex
	in, out  bytes.Buffer // from the client, to the client
	inClosed bool
}

func (w *wire) Accept() (net.Conn, error) {
	c, err := w.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordedConn{Conn: c}
	w.mu.Lock()
	w.conns = append(w.conns, rc)
	w.mu.Unlock()
	return rc, nil
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// traffic is what one WebSocket connection carried, decoded.
type traffic struct {
	request  *http.Request
	response *http.Response
	// Data frames that begin a message, and how many of them had RSV1.
	fromClient, fromClientRSV1 int
	toClient, toClientRSV1     int
}

// decode parses a recorded connection: the opening handshake, then the
// frames each way (whole frames only: a close may cut the stream short).
func (c *recordedConn) decode() (traffic, error) {
	c.mu.Lock()
	in, out := bytes.Clone(c.in.Bytes()), bytes.Clone(c.out.Bytes())
	c.mu.Unlock()
	var t traffic
	if len(in) == 0 {
		return t, nil // chromium opens spare connections it may never use
	}
	inR := bufio.NewReader(bytes.NewReader(in))
	req, err := http.ReadRequest(inR)
	if err != nil {
		return t, fmt.Errorf("request: %v", err)
	}
	outR := bufio.NewReader(bytes.NewReader(out))
	resp, err := http.ReadResponse(outR, req)
	if err != nil {
		return t, fmt.Errorf("response: %v", err)
	}
	t.request, t.response = req, resp
	if req.URL.Path != "/ws" {
		return t, nil // the page, or its favicon
	}
	count := func(r *bufio.Reader, frames, rsv1 *int) error {
		for {
			f, err := wstest.ReadFrame(r, 64<<20)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			if err != nil {
				return err
			}
			if f.Opcode == wstest.OpText || f.Opcode == wstest.OpBinary {
				*frames++
				if f.Rsv&4 != 0 {
					*rsv1++
				}
			}
		}
	}
	if err := count(inR, &t.fromClient, &t.fromClientRSV1); err != nil {
		return t, fmt.Errorf("frames from the client: %v", err)
	}
	if err := count(outR, &t.toClient, &t.toClientRSV1); err != nil {
		return t, fmt.Errorf("frames to the client: %v", err)
	}
	return t, nil
}

// compressionServer serves an echo endpoint at /ws, with compression mode,
// and a blank page at / for the browser to open (same origin), on a
// recorded listener.
func compressionServer(t *testing.T, mode websocket.CompressionMode) (*httptest.Server, *wire) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{Listener: ln}
	mux := http.NewServeMux()
	mux.Handle("/ws", websocket.Require(func(ws *websocket.Conn, _ *http.Request) {
		for m := range ws.Messages() {
			if ws.SendMessage(m) != nil {
				return
			}
		}
	}, &websocket.Options{
		Compression:    mode,
		MaxMessageSize: 1 << 20,
		// echoScript offers chat and superchat, and chromium fails a
		// connection whose server picks none of the offered subprotocols.
		Subprotocols: []string{"chat"},
	}))
	mux.HandleFunc("/", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(rw, "<!DOCTYPE html><title>compression</title>")
	})
	srv := &httptest.Server{Listener: w, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, w
}

// checkCompressed finds the WebSocket connection among those recorded and
// checks that permessage-deflate was negotiated, as wantResponse says,
// and that at least minClient messages from the client and minServer
// from the server were compressed.
func checkCompressed(t *testing.T, w *wire, wantResponse string, minClient, minServer int) {
	t.Helper()
	w.mu.Lock()
	conns := append([]*recordedConn(nil), w.conns...)
	w.mu.Unlock()
	found := false
	for _, c := range conns {
		tr, err := c.decode()
		if err != nil {
			t.Errorf("decoding the recorded connection: %v", err)
			continue
		}
		if tr.request == nil || tr.request.URL.Path != "/ws" {
			continue
		}
		found = true
		offer := tr.request.Header.Get("Sec-WebSocket-Extensions")
		got := tr.response.Header.Get("Sec-WebSocket-Extensions")
		t.Logf("offer %q, answer %q; data frames from the client %d (%d with RSV1), to the client %d (%d with RSV1)",
			offer, got, tr.fromClient, tr.fromClientRSV1, tr.toClient, tr.toClientRSV1)
		if !strings.Contains(offer, "permessage-deflate") {
			t.Errorf("the client offered %q, no permessage-deflate", offer)
		}
		if got != wantResponse {
			t.Errorf("the server answered Sec-WebSocket-Extensions %q, want %q", got, wantResponse)
		}
		// Each size is sent as text and as binary.
		if want := 2 * len(compressionSizes); tr.fromClient < want || tr.toClient < want {
			t.Errorf("%d data frames from the client and %d to it, want %d each", tr.fromClient, tr.toClient, want)
		}
		if tr.fromClientRSV1 < minClient {
			t.Errorf("%d messages from the client had RSV1, want at least %d: the client did not compress", tr.fromClientRSV1, minClient)
		}
		if tr.toClientRSV1 < minServer {
			t.Errorf("%d messages to the client had RSV1, want at least %d: the server did not compress", tr.toClientRSV1, minServer)
		}
	}
	if !found {
		t.Error("no WebSocket connection was recorded")
	}
}

type echoSeen struct {
	Kind string
	N    int
	OK   bool
}

func checkEchoes(t *testing.T, seen []echoSeen) {
	t.Helper()
	if len(seen) != 2*len(compressionSizes) {
		t.Errorf("%d echoes, want %d", len(seen), 2*len(compressionSizes))
	}
	for _, s := range seen {
		if !s.OK {
			t.Errorf("%s message of %d: came back different", s.Kind, s.N)
		}
	}
}

// TestBrowserCompression: chromium's WebSocket offers permessage-deflate;
// the server accepts it with and without context takeover, and every
// message comes back.
func TestBrowserCompression(t *testing.T) {
	if testing.Short() && os.Getenv(requiredVar) != "1" {
		t.Skip("browser tests take a while: skipped with -short")
	}
	b := startBrowser(t)
	for _, tc := range []struct {
		name string
		mode websocket.CompressionMode
		want string // chromium offers "permessage-deflate; client_max_window_bits"
	}{
		{"context-takeover", websocket.CompressionContextTakeover, "permessage-deflate"},
		{"no-context-takeover", websocket.CompressionNoContextTakeover, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, w := compressionServer(t, tc.mode)
			p := b.open(t, srv.URL+"/")
			defer p.close()
			var got struct {
				Seen  []echoSeen
				Close struct {
					Code     int
					WasClean bool
				}
			}
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
			sizes, _ := json.Marshal(compressionSizes)
			if err := p.eval(echoScript+"("+jsString(url)+", "+string(sizes)+")", &got); err != nil {
				t.Fatal(err)
			}
			checkEchoes(t, got.Seen)
			if got.Close.Code != 1000 || !got.Close.WasClean {
				t.Errorf("close: %+v, want a clean 1000", got.Close)
			}
			checkCompressed(t, w, tc.want, bigMessages, bigMessages)
		})
	}
}

// nodeDir holds the package.json and package-lock.json that pin Node's
// ws, and the script that drives it.
const nodeDir = "node"

// installNodeWS installs e2e/node's package (ws, as its lock file pins it)
// into a directory of the user's cache named after the lock file's hash,
// once, and returns that directory. Without node or npm, or when npm
// cannot install, the test is skipped, or fails with requiredVar=1.
func installNodeWS(t *testing.T) string {
	t.Helper()
	skip := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(requiredVar) == "1" {
			t.Fatalf("%s (%s=1 makes this a failure)", msg, requiredVar)
		}
		t.Skipf("%s; %s=1 makes this a failure", msg, requiredVar)
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("no %s: %v; install Debian's nodejs and npm", tool, err)
		}
	}
	lock, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(lock)
	dir := filepath.Join(cache, "zerows-e2e", "node-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"package.json", "package-lock.json", "echo.js"} {
		b, err := os.ReadFile(filepath.Join(nodeDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err == nil {
		return dir
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		skip("npm ci in %s: %v\n%s", dir, err, out)
	}
	return dir
}

// TestNodeCompression: Node's ws offers permessage-deflate, also with
// server_max_window_bits, which ws's inflater (zlib with that window)
// enforces: a back-reference beyond it fails the connection there.
func TestNodeCompression(t *testing.T) {
	dir := installNodeWS(t)
	for _, tc := range []struct {
		name    string
		mode    websocket.CompressionMode
		deflate string // ws's perMessageDeflate option
		want    string // the server's answer
		// The messages the server compresses, at least: with a window
		// under 32 KiB the library compresses only messages that fit in
		// it (here the text of 100 characters, 200 octets).
		minServer int
	}{
		{"default offer", websocket.CompressionContextTakeover, `{"threshold": 0}`,
			"permessage-deflate", bigMessages},
		{"no context takeover", websocket.CompressionNoContextTakeover, `{"threshold": 0}`,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", bigMessages},
		{"server_max_window_bits=9", websocket.CompressionContextTakeover, `{"threshold": 0, "serverMaxWindowBits": 9}`,
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=9", 1},
		{"server_no_context_takeover", websocket.CompressionContextTakeover, `{"threshold": 0, "serverNoContextTakeover": true}`,
			"permessage-deflate; server_no_context_takeover", bigMessages},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, w := compressionServer(t, tc.mode)
			sizes, _ := json.Marshal(compressionSizes)
			args := fmt.Sprintf(`{"sizes": %s, "perMessageDeflate": %s}`, sizes, tc.deflate)
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
			cmd := exec.Command("node", filepath.Join(dir, "echo.js"), url, args)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			// echo.js gives up after 30 s itself; this is for a node that hangs.
			timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
			defer timer.Stop()
			out, err := cmd.Output()
			var got struct {
				Error      string
				Extensions string
				Seen       []echoSeen
				Close      struct {
					Code   int
					Reason string
				}
			}
			if jerr := json.Unmarshal(out, &got); jerr != nil || err != nil || got.Error != "" {
				t.Fatalf("node echo.js: %v; %s\nstdout: %s\nstderr: %s", err, got.Error, out, &stderr)
			}
			checkEchoes(t, got.Seen)
			if got.Close.Code != 1000 {
				t.Errorf("close: %+v, want 1000", got.Close)
			}
			if got.Extensions != "permessage-deflate" {
				t.Errorf("ws says the extensions are %q, want permessage-deflate", got.Extensions)
			}
			checkCompressed(t, w, tc.want, bigMessages, tc.minServer)
		})
	}
}
