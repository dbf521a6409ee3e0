package bench

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	"github.com/zerows/websocket"
	"github.com/zerows/websocket/bench/internal/corpus"
)

// This file holds the permessage-deflate (RFC 7692) benchmarks: the
// libraries that compress, in each mode they offer, with JSON text from
// internal/corpus as the payload.

// The compression modes, as the mode= part of a benchmark's name.
const (
	// Each message is compressed on its own: no window is kept between
	// messages on either side.
	modeNoTakeover = "no-takeover"
	// Both sides keep their LZ77 window (32 KiB) across messages.
	modeTakeover = "takeover"
)

// compressedSizes are the sizes of the compressed benchmarks: 16 B would
// fall under every library's compression threshold.
var compressedSizes = []benchSize{
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"1MiB", 1 << 20},
}

// cpeer is a library that compresses. at gives it as a peer for one of
// its modes; its broadcast is not used.
type cpeer struct {
	name  string
	modes []string
	at    func(mode string) peer
}

// cpeers lists the libraries that compress, zerows first. coder and
// gobwas compress too but are left out: the comparison is with gorilla,
// the most used, and gws, the fastest.
func cpeers() []cpeer {
	return []cpeer{
		{"zerows", []string{modeNoTakeover, modeTakeover}, zerowsAt},
		{"gorilla", []string{modeNoTakeover}, gorillaAt}, // it has no context takeover
		{"gws", []string{modeNoTakeover, modeTakeover}, gwsAt},
	}
}

// zerows: Options.Compression, the rest as in zerows_test.go.
func zerowsAt(mode string) peer {
	o := *zerowsOpts
	o.Compression = websocket.CompressionNoContextTakeover
	if mode == modeTakeover {
		o.Compression = websocket.CompressionContextTakeover
	}
	return peer{
		name:   "zerows",
		server: func(w http.ResponseWriter, r *http.Request) (endpoint, error) { return zerowsUpgrade(w, r, &o) },
		client: func(ctx context.Context, u string, dial dialFunc) (endpoint, error) {
			return zerowsDial(ctx, u, dial, &o)
		},
	}
}

// gorilla: EnableCompression on both sides, which negotiates no context
// takeover either way; write compression is on by default once
// negotiated.
var gorillaCompressing = gorilla.Upgrader{EnableCompression: true}

func gorillaAt(string) peer {
	return peer{
		name: "gorilla",
		server: func(w http.ResponseWriter, r *http.Request) (endpoint, error) {
			c, err := gorillaCompressing.Upgrade(w, r, nil)
			if err != nil {
				return nil, err
			}
			c.SetReadLimit(readLimit)
			return &gorillaEP{c: c}, nil
		},
		client: func(ctx context.Context, url string, dial dialFunc) (endpoint, error) {
			d := gorilla.Dialer{NetDialContext: dial, EnableCompression: true}
			c, _, err := d.DialContext(ctx, url, nil)
			if err != nil {
				return nil, err
			}
			c.SetReadLimit(readLimit)
			return &gorillaEP{c: c}, nil
		},
	}
}

// gwsDeflate is gws's PermessageDeflate for a mode. Its defaults are kept
// (BestSpeed; a 512 B threshold without takeover, none with it) except
// the windows: with context takeover a gws server limits both sides to
// 4 KiB unless told otherwise, and here both keep 32 KiB, as zerows and
// the other libraries do (cmd/idlemem measures the 4 KiB default too).
func gwsDeflate(mode string) gws.PermessageDeflate {
	takeover := mode == modeTakeover
	return gws.PermessageDeflate{
		Enabled:               true,
		ServerContextTakeover: takeover,
		ClientContextTakeover: takeover,
		ServerMaxWindowBits:   15,
		ClientMaxWindowBits:   15,
	}
}

var gwsCompressing = map[string]*gws.Upgrader{}

func init() {
	for _, m := range []string{modeNoTakeover, modeTakeover} {
		gwsCompressing[m] = gws.NewUpgrader(gwsHandler{}, &gws.ServerOption{
			ReadMaxPayloadSize: readLimit,
			NewSession:         newGWSSession,
			PermessageDeflate:  gwsDeflate(m),
		})
	}
}

func gwsAt(mode string) peer {
	return peer{
		name: "gws",
		server: func(w http.ResponseWriter, r *http.Request) (endpoint, error) {
			c, err := gwsCompressing[mode].Upgrade(w, r)
			if err != nil {
				return nil, err
			}
			return newGWSEP(c), nil
		},
		client: func(_ context.Context, url string, dial dialFunc) (endpoint, error) {
			c, _, err := gws.NewClient(gwsHandler{}, &gws.ClientOption{
				Addr:               url,
				ReadMaxPayloadSize: readLimit,
				NewSession:         newGWSSession,
				NewDialer:          func() (gws.Dialer, error) { return gwsDialer{dial}, nil },
				PermessageDeflate:  gwsDeflate(mode),
			})
			if err != nil {
				return nil, err
			}
			return newGWSEP(c), nil
		},
	}
}

// eachCompressed runs f as lib=<name>/mode=<mode>/size=<size>
// sub-benchmarks.
func eachCompressed(b *testing.B, f func(b *testing.B, p peer, mode string, n int)) {
	for _, cp := range cpeers() {
		b.Run("lib="+cp.name, func(b *testing.B) {
			for _, mode := range cp.modes {
				b.Run("mode="+mode, func(b *testing.B) {
					p := cp.at(mode)
					for _, sz := range compressedSizes {
						b.Run("size="+sz.name, func(b *testing.B) { f(b, p, mode, sz.n) })
					}
				})
			}
		})
	}
}

// jsonMessages returns k different JSON texts of n bytes each: a stream
// of similar messages, so that context takeover has something to find
// in earlier messages, but not the same message over and over, which it
// would compress to almost nothing.
func jsonMessages(n, k int) [][]byte {
	msgs := make([][]byte, k)
	for i := range msgs {
		msgs[i] = corpus.JSON(n, uint64(i+1))
	}
	return msgs
}

// distinctMessages is how many different messages a compressed
// benchmark of n-byte messages cycles through: enough to fill more than
// the 32 KiB window, and at least two.
func distinctMessages(n int) int { return max(2, min(64, (256<<10)/n)) }

// BenchmarkCompressedReceive measures the server side reading compressed
// masked client frames from an in-memory conn that replays a stream made
// by this package's encoder with compress/flate at BestSpeed. One op is
// one message; MB/s is the inflated payload; wire/msg is the stream's
// bytes per payload byte.
func BenchmarkCompressedReceive(b *testing.B) {
	eachCompressed(b, benchCompressedReceive)
}

func benchCompressedReceive(b *testing.B, p peer, mode string, n int) {
	msgs := jsonMessages(n, distinctMessages(n))
	pat, starts := compressedClientStream(msgs, mode == modeTakeover)
	k := int64(len(msgs))
	limit := int64(b.N)/k*int64(len(pat)) + int64(starts[int64(b.N)%k])
	c := newStreamConn(pat, limit)
	ep, err := acceptOffer(p, c, deflateOffer(mode))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	c.start()
	if err := ep.recv(b.N, nil); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu.report(b)
	b.ReportMetric(float64(len(pat))/float64(int(k)*n), "wire/msg")
	_ = c.Close()
	_ = ep.close()
}

// BenchmarkCompressedEcho measures round trips over loopback TCP with
// compression, one message in flight: the library's client compresses
// and sends, its server inflates, compresses again and echoes, the
// client inflates. Messages cycle through distinctMessages different
// texts. wire/msg, measured on a second connection before the timed
// loop, is the frame bytes both ways over the payload bytes both ways.
func BenchmarkCompressedEcho(b *testing.B) {
	eachCompressed(b, benchCompressedEcho)
}

func benchCompressedEcho(b *testing.B, p peer, mode string, n int) {
	srv := echoServer(p)
	defer srv.Close()
	msgs := jsonMessages(n, distinctMessages(n))
	pr, err := probe(p, wsURL(srv), msgs, nil)
	if err != nil {
		b.Fatal(err)
	}
	ep, err := p.client(context.Background(), wsURL(srv), loopbackDial)
	if err != nil {
		b.Fatal(err)
	}
	turn := make(chan struct{}, 1)
	stop := make(chan struct{})
	werr := make(chan error, 1)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	go func() {
		for i := range b.N {
			select {
			case turn <- struct{}{}:
			case <-stop:
				werr <- nil
				return
			}
			if err := ep.send(msgs[i%len(msgs)]); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	rerr := ep.recv(b.N, func([]byte) { <-turn })
	b.StopTimer()
	cpu.report(b)
	close(stop)
	_ = ep.close()
	if rerr != nil {
		b.Fatal(rerr)
	}
	if err := <-werr; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(pr.ratio, "wire/msg")
}

// cpuMeter measures the CPU time a benchmark's loop takes, all of the
// process's goroutines together (client and server in Echo). On a shared
// machine it varies far less than the wall time, which counts the time
// other processes held the cores.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	d, ok := cpuTime()
	return cpuMeter{d, ok}
}

// report adds the CPU time per op as cpu-ns/op.
func (m cpuMeter) report(b *testing.B) {
	if d, ok := cpuTime(); ok && m.ok {
		b.ReportMetric(float64(d-m.start)/float64(b.N), "cpu-ns/op")
	}
}

// deflateOffer is the Sec-WebSocket-Extensions of a client asking for
// mode, as zerows's client words it.
func deflateOffer(mode string) string {
	if mode == modeTakeover {
		return "permessage-deflate; client_max_window_bits"
	}
	return "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits"
}

// acceptOffer runs a library's server handshake over c for a request
// that offers the extension ext.
func acceptOffer(p peer, c net.Conn, ext string) (endpoint, error) {
	r := upgradeRequest()
	r.Header.Set("Sec-WebSocket-Extensions", ext)
	return p.server(newHijackWriter(c), r)
}

// compressedClientStream returns whole masked binary frames carrying
// msgs compressed as RFC 7692 §7.2.1 says (a sync flush, its last four
// bytes left out, RSV1 set), and where each frame starts in the pattern.
// With takeover, one compressor runs through all of msgs; its first
// message refers to nothing earlier, so the pattern may be replayed:
// each later one refers only to messages before it in the pattern.
func compressedClientStream(msgs [][]byte, takeover bool) (pat []byte, starts []int) {
	r := rand.New(rand.NewPCG(3, 4))
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	for _, m := range msgs {
		if !takeover {
			fw.Reset(&z)
		}
		z.Reset()
		_, _ = fw.Write(m)
		_ = fw.Flush()
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], r.Uint32())
		starts = append(starts, len(pat))
		pat = appendFrameBits(pat, 0x80|0x40|opBinary, z.Bytes()[:z.Len()-4], &key)
	}
	return pat, starts
}

// probeResult is what probe saw on the wire.
type probeResult struct {
	ratio     float64 // frame bytes both ways over payload bytes both ways
	extension string  // the server's Sec-WebSocket-Extensions
}

// probe dials p's server at url through a conn that records every byte,
// echoes each of msgs once, and reads the recording: it fails unless
// compression was negotiated and every data message both ways was sent
// compressed (RSV1 on its first frame). check, if not nil, sees each
// message sent and its echo.
func probe(p peer, url string, msgs [][]byte, check func(sent, got []byte)) (probeResult, error) {
	var rec *recordingConn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := loopbackDial(ctx, network, addr)
		if err == nil {
			rec = &recordingConn{Conn: c}
			c = rec
		}
		return c, err
	}
	ep, err := p.client(context.Background(), url, dial)
	if err != nil {
		return probeResult{}, err
	}
	defer ep.close()
	werr := make(chan error, 1)
	turn := make(chan struct{}, 1)
	go func() {
		for _, m := range msgs {
			turn <- struct{}{}
			if err := ep.send(m); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	i := 0
	err = ep.recv(len(msgs), func(got []byte) {
		if check != nil {
			check(msgs[i], got)
		}
		i++
		<-turn
	})
	if err != nil {
		return probeResult{}, err
	}
	if err := <-werr; err != nil {
		return probeResult{}, err
	}
	rec.mu.Lock()
	out, in := rec.out.Bytes(), rec.in.Bytes()
	rec.mu.Unlock()
	var res probeResult
	_, res.extension = httpHead(in, "Sec-WebSocket-Extensions")
	if !strings.Contains(res.extension, "permessage-deflate") {
		return res, fmt.Errorf("%s: compression not negotiated (extensions %q)", p.name, res.extension)
	}
	var wire, payload int
	for dir, stream := range map[string][]byte{"client to server": out, "server to client": in} {
		body, _ := httpHead(stream, "")
		st, err := scanFrames(body)
		if err != nil {
			return res, fmt.Errorf("%s, %s: %w", p.name, dir, err)
		}
		if st.messages != len(msgs) || st.compressed != len(msgs) {
			return res, fmt.Errorf("%s, %s: %d of %d data messages compressed, want all %d", p.name, dir, st.compressed, st.messages, len(msgs))
		}
		wire += st.wire
	}
	for _, m := range msgs {
		payload += 2 * len(m)
	}
	res.ratio = float64(wire) / float64(payload)
	return res, nil
}

// recordingConn keeps a copy of every byte read and written.
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	in, out bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// httpHead splits an HTTP head from the bytes after it and returns the
// value of the header name ("" for none or an empty name).
func httpHead(stream []byte, name string) (body []byte, value string) {
	i := bytes.Index(stream, []byte("\r\n\r\n"))
	if i < 0 {
		return nil, ""
	}
	for _, line := range strings.Split(string(stream[:i]), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && name != "" && strings.EqualFold(strings.TrimSpace(k), name) {
			value = strings.TrimSpace(v)
		}
	}
	return stream[i+4:], value
}

// frameStats sums up a stream of frames.
type frameStats struct {
	messages   int // data messages
	compressed int // data messages whose first frame has RSV1
	wire       int // bytes of data frames, headers included
}

// scanFrames reads a stream of whole frames (RFC 6455 §5.2). It ignores
// control frames and a frame cut short at the end, as a close may be.
func scanFrames(s []byte) (frameStats, error) {
	var st frameStats
	for len(s) >= 2 {
		b0, b1 := s[0], s[1]
		h, n := 2, uint64(b1&0x7f)
		switch n {
		case 126:
			if len(s) < 4 {
				return st, nil
			}
			h, n = 4, uint64(binary.BigEndian.Uint16(s[2:]))
		case 127:
			if len(s) < 10 {
				return st, nil
			}
			h, n = 10, binary.BigEndian.Uint64(s[2:])
		}
		if b1&0x80 != 0 {
			h += 4
		}
		if uint64(len(s)-h) < n {
			return st, nil
		}
		switch op := b0 & 0x0f; {
		case op >= 0x8:
		case op == 0x1 || op == 0x2:
			st.messages++
			if b0&0x40 != 0 {
				st.compressed++
			}
			st.wire += h + int(n)
		case op == 0x0:
			st.wire += h + int(n)
		default:
			return st, errors.New("reserved opcode " + fmt.Sprint(op))
		}
		s = s[h+int(n):]
	}
	return st, nil
}

// TestCompressedPeers checks that each compressing adapter really
// compresses, in the mode it is credited with: compression negotiated,
// context takeover kept or refused as the mode says, every message both
// ways sent compressed, and every byte coming back as it was sent. A
// library that fell back to plain frames would fail here, not look fast
// in the benchmarks.
func TestCompressedPeers(t *testing.T) {
	for _, cp := range cpeers() {
		for _, mode := range cp.modes {
			t.Run(cp.name+"/"+mode, func(t *testing.T) {
				p := cp.at(mode)
				t.Run("echo", func(t *testing.T) { checkCompressedEcho(t, p, mode) })
				t.Run("receive", func(t *testing.T) { checkCompressedReceive(t, p, mode) })
			})
		}
	}
}

func checkCompressedEcho(t *testing.T, p peer, mode string) {
	srv := echoServer(p)
	defer srv.Close()
	var msgs [][]byte
	for _, sz := range compressedSizes {
		msgs = append(msgs, jsonMessages(sz.n, 2)...)
	}
	pr, err := probe(p, wsURL(srv), msgs, func(sent, got []byte) {
		if !bytes.Equal(sent, got) {
			t.Errorf("echo of %d bytes: got %d bytes, not the same", len(sent), len(got))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	noTakeover := strings.Contains(pr.extension, "server_no_context_takeover")
	if noTakeover != (mode == modeNoTakeover) {
		t.Errorf("mode %s, but the server answered %q", mode, pr.extension)
	}
	// JSON from corpus deflates to well under half at BestSpeed.
	if pr.ratio > 0.5 {
		t.Errorf("wire/msg %.2f: not compressed as it should be", pr.ratio)
	}
	t.Logf("extensions %q, wire/msg %.3f", pr.extension, pr.ratio)
}

func checkCompressedReceive(t *testing.T, p peer, mode string) {
	for _, sz := range compressedSizes {
		msgs := jsonMessages(sz.n, 3)
		pat, _ := compressedClientStream(msgs, mode == modeTakeover)
		const rounds = 2 // the second replays the pattern after the first
		c := newStreamConn(pat, rounds*int64(len(pat)))
		ep, err := acceptOffer(p, c, deflateOffer(mode))
		if err != nil {
			t.Fatal(err)
		}
		c.start()
		got := 0
		err = ep.recv(rounds*len(msgs), func(b []byte) {
			if want := msgs[got%len(msgs)]; !bytes.Equal(b, want) {
				t.Errorf("size %s: message %d differs (len %d, want %d)", sz.name, got, len(b), len(want))
			}
			got++
		})
		if err != nil || got != rounds*len(msgs) {
			t.Errorf("size %s: recv = %v after %d messages, want nil after %d", sz.name, err, got, rounds*len(msgs))
		}
		_ = c.Close()
		_ = ep.close()
	}
}
