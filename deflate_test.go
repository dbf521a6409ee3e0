package websocket

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// jsonLike returns n bytes of text that compresses as JSON does.
func jsonLike(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"name":"user%d","tags":["a","b%d"],"score":%d.%d},`, r.IntN(1e6), r.IntN(100), r.IntN(10), r.IntN(100), r.IntN(10))
	}
	return b.Bytes()[:n]
}

var compressionModes = []struct {
	name string
	mode CompressionMode
}{{"nocontext", CompressionNoContextTakeover}, {"context", CompressionContextTakeover}}

// TestDeflateDialEcho round-trips messages of many sizes through a real
// handshake over TCP in each mode, server and client compressing.
func TestDeflateDialEcho(t *testing.T) {
	for _, m := range compressionModes {
		for _, clientMode := range compressionModes {
			t.Run(m.name+"/"+clientMode.name, func(t *testing.T) {
				srv := startEchoServer(t, false, &Options{Compression: m.mode, CompressionThreshold: -1})
				ws, resp := dialOK(t, wsURLOf(srv), &Options{Compression: clientMode.mode, CompressionThreshold: -1})
				if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
					t.Fatalf("response extensions %q", ext)
				}
				if ws.deflate == nil {
					t.Fatal("compression not negotiated")
				}
				for i, n := range []int{0, 1, 16, 100, 1000, 5000, 40000, 70000, 300000, 20, 20, 20} {
					p := jsonLike(n, uint64(i))
					if i%2 == 0 {
						must(t, ws.Send(p))
					} else {
						must(t, ws.SendText(string(p)))
					}
					got, err := ws.Wait()
					must(t, err)
					if !bytes.Equal(got.Data, p) {
						t.Fatalf("message %d (%d bytes): echo differs (%d bytes)", i, n, len(got.Data))
					}
				}
			})
		}
	}
}

func TestAcceptDeflate(t *testing.T) {
	const nct = "; server_no_context_takeover; client_no_context_takeover"
	for _, tc := range []struct {
		mode   CompressionMode
		offers []string
		resp   string // "" declined
		n      deflateNegotiated
	}{
		{CompressionContextTakeover, []string{"permessage-deflate"}, "permessage-deflate", deflateNegotiated{true, true, 15}},
		{CompressionOff, []string{"permessage-deflate"}, "", deflateNegotiated{}},
		{CompressionNoContextTakeover, []string{"permessage-deflate; client_max_window_bits"}, "permessage-deflate" + nct, deflateNegotiated{false, false, 15}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_no_context_takeover"}, "permessage-deflate; server_no_context_takeover", deflateNegotiated{false, true, 15}},
		{CompressionContextTakeover, []string{"permessage-deflate; client_no_context_takeover"}, "permessage-deflate; client_no_context_takeover", deflateNegotiated{true, false, 15}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits=9"}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9", deflateNegotiated{false, true, 9}},
		{CompressionContextTakeover, []string{`permessage-deflate; server_max_window_bits="15"`}, "permessage-deflate; server_max_window_bits=15", deflateNegotiated{true, true, 15}},
		{CompressionContextTakeover, []string{"permessage-deflate; client_max_window_bits=10"}, "permessage-deflate", deflateNegotiated{true, true, 15}},
		// Bad offers are declined one by one; a later good one is taken,
		// in the same header or the next.
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover"}, "permessage-deflate; client_no_context_takeover", deflateNegotiated{true, false, 15}},
		{CompressionContextTakeover, []string{"x-webkit-deflate-frame", "permessage-deflate; foo", "permessage-deflate"}, "permessage-deflate", deflateNegotiated{true, true, 15}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits=16"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits=09"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; client_max_window_bits=1x"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_no_context_takeover=1"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"permessage-deflate; =3"}, "", deflateNegotiated{}},
		{CompressionContextTakeover, []string{"foo, bar"}, "", deflateNegotiated{}},
	} {
		resp, n, ok := acceptDeflate(tc.offers, tc.mode)
		if resp != tc.resp || ok != (tc.resp != "") || ok && n != tc.n {
			t.Errorf("mode %d, offers %q: got %q %+v %v, want %q %+v", tc.mode, tc.offers, resp, n, ok, tc.resp, tc.n)
		}
		if ok { // the client accepts what the server answers
			if _, cok, err := checkDeflateResponse([]string{resp}, CompressionContextTakeover); err != nil || !cok {
				t.Errorf("client refuses the server's response %q: %v", resp, err)
			}
		}
	}
}

func TestCheckDeflateResponse(t *testing.T) {
	for _, tc := range []struct {
		mode    CompressionMode
		resp    []string
		ok      bool
		n       deflateNegotiated
		wantErr string
	}{
		{CompressionContextTakeover, nil, false, deflateNegotiated{}, ""},
		{CompressionContextTakeover, []string{"permessage-deflate"}, true, deflateNegotiated{true, true, 15}, ""},
		{CompressionNoContextTakeover, []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, true, deflateNegotiated{false, false, 15}, ""},
		// A server that ignored server_no_context_takeover: taken as it is.
		{CompressionNoContextTakeover, []string{"permessage-deflate"}, true, deflateNegotiated{false, true, 15}, ""},
		{CompressionContextTakeover, []string{"permessage-deflate; client_max_window_bits=9"}, true, deflateNegotiated{false, true, 9}, ""},
		{CompressionContextTakeover, []string{"permessage-deflate; client_max_window_bits=15; server_max_window_bits=8"}, true, deflateNegotiated{true, true, 15}, ""},
		{CompressionContextTakeover, []string{"permessage-deflate; client_no_context_takeover"}, true, deflateNegotiated{false, true, 15}, ""},
		{CompressionOff, []string{"permessage-deflate"}, false, deflateNegotiated{}, "none were offered"},
		{CompressionContextTakeover, []string{"permessage-deflate", "permessage-deflate"}, false, deflateNegotiated{}, "more than one"},
		{CompressionContextTakeover, []string{"x-foo"}, false, deflateNegotiated{}, "not offered"},
		{CompressionContextTakeover, []string{"permessage-deflate; client_max_window_bits"}, false, deflateNegotiated{}, "needs a value"},
		{CompressionContextTakeover, []string{"permessage-deflate; server_max_window_bits=20"}, false, deflateNegotiated{}, "8 to 15"},
		{CompressionContextTakeover, []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, false, deflateNegotiated{}, "twice"},
		{CompressionContextTakeover, []string{"permessage-deflate; mystery=1"}, false, deflateNegotiated{}, "unknown parameter"},
	} {
		n, ok, err := checkDeflateResponse(tc.resp, tc.mode)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want one with %q", tc.resp, err, tc.wantErr)
			}
			continue
		}
		if err != nil || ok != tc.ok || n != tc.n {
			t.Errorf("%q (mode %d): got %+v %v %v, want %+v %v", tc.resp, tc.mode, n, ok, err, tc.n, tc.ok)
		}
	}
}

// TestDialRefusesBadDeflateResponse: the client fails the handshake with
// a clear error when the server's answer breaks RFC 7692.
func TestDialRefusesBadDeflateResponse(t *testing.T) {
	reqs := make(chan *http.Request, 1)
	srv := startSwitchingServer(t, reqs, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n")
	_, _, err := Dial(context.Background(), "ws://"+srv.addr()+"/", &Options{Compression: CompressionContextTakeover})
	var herr *HandshakeError
	if !errors.As(err, &herr) || !strings.Contains(herr.Reason, "server_max_window_bits") {
		t.Fatalf("Dial = %v, want a HandshakeError about server_max_window_bits", err)
	}
	if got := (<-reqs).Header.Get("Sec-WebSocket-Extensions"); got != deflateOffer(CompressionContextTakeover) {
		t.Fatalf("offer = %q", got)
	}
}

// TestUpgradeDeclinesByDefault: with Options.Compression unset a server
// answers a browser's offer without the extension, and frames stay plain.
func TestUpgradeDeclinesByDefault(t *testing.T) {
	srv := startEchoServer(t, false, nil)
	ws, resp := dialOK(t, wsURLOf(srv), &Options{Compression: CompressionContextTakeover})
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" || ws.deflate != nil {
		t.Fatalf("extensions %q negotiated by default", ext)
	}
	p := jsonLike(1000, 1)
	must(t, ws.Send(p))
	got, err := ws.Wait()
	must(t, err)
	if !bytes.Equal(got.Data, p) {
		t.Fatal("echo differs")
	}
}

// deflatePeer is a raw client talking over TCP to a server Conn that
// negotiated n.
func deflatePeer(t *testing.T, n deflateNegotiated, o *Options) (*rawPeer, *Conn) {
	return rawServerConn(t, &n, o)
}

// rawServerConn is deflatePeer, n nil meaning no compression.
func rawServerConn(t *testing.T, n *deflateNegotiated, o *Options) (*rawPeer, *Conn) {
	a, b := tcpSockets(t)
	o = o.withDefaults()
	var d *deflater
	if n != nil {
		d = newDeflater(*n, o)
	}
	c := newConnDeflate(b, nil, false, o, "", nil, d)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-c.Done()
	})
	return &rawPeer{t: t, nc: a, br: bufio.NewReader(a)}, c
}

// deflateRaw compresses p as a peer would, on its own, without the tail.
func deflateRaw(t testing.TB, p []byte) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(p)
	fw.Flush()
	out := b.Bytes()
	if !bytes.HasSuffix(out, []byte{0, 0, 0xff, 0xff}) {
		t.Fatal("no sync flush tail")
	}
	return out[:len(out)-4]
}

func TestDeflateRSVRules(t *testing.T) {
	n := deflateNegotiated{sendWindow: 15}
	z := deflateRaw(t, []byte("hello"))
	for _, tc := range []struct {
		name       string
		negotiated bool
		frames     [][]byte
		want       CloseCode
	}{
		{"compressed without negotiation", false, [][]byte{rawFrame(0xc1, testKey, z)}, CloseProtocolError},
		{"rsv1 on ping", true, [][]byte{rawFrame(0xc9, testKey, nil)}, CloseProtocolError},
		{"rsv1 on continuation", true, [][]byte{rawFrame(0x41, testKey, z[:2]), rawFrame(0xc0, testKey, z[2:])}, CloseProtocolError},
		{"rsv2 with deflate", true, [][]byte{rawFrame(0xa1, testKey, z)}, CloseProtocolError},
		{"corrupt data", true, [][]byte{rawFrame(0xc2, testKey, []byte{0xff, 0xff, 0xff})}, CloseInvalidFramePayloadData},
		{"invalid utf-8 inflated", true, [][]byte{rawFrame(0xc1, testKey, deflateRaw(t, []byte("ok \xff")))}, CloseInvalidFramePayloadData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var np *deflateNegotiated
			if tc.negotiated {
				np = &n
			}
			peer, c := rawServerConn(t, np, nil)
			c.startReader()
			peer.write(tc.frames...)
			peer.expectClose(tc.want)
		})
	}
}

// TestDeflateFragmentedWithControl: a compressed message in fragments with
// a ping between them is inflated whole, and the ping answered.
func TestDeflateFragmentedWithControl(t *testing.T) {
	peer, c := deflatePeer(t, deflateNegotiated{sendWindow: 15}, nil)
	p := jsonLike(5000, 3)
	z := deflateRaw(t, p)
	peer.write(rawFrame(0x41, testKey, z[:10]), clientFrame(0x89, "hi"), rawFrame(0x00, testKey, nil), rawFrame(0x80, testKey, z[10:]))
	m, err := c.Wait()
	must(t, err)
	if m.Type != MessageText || !bytes.Equal(m.Data, p) {
		t.Fatalf("got %v of %d bytes", m.Type, len(m.Data))
	}
	b0, payload, err := peer.readFrame()
	if err != nil || b0 != 0x8a || string(payload) != "hi" {
		t.Fatalf("pong: %x %q %v", b0, payload, err)
	}
}

// TestDeflateBomb: 10 MiB of zeros in a few KiB fails with 1009 once the
// inflated bytes pass MaxMessageSize, having allocated about that much and
// no more.
func TestDeflateBomb(t *testing.T) {
	z := deflateRaw(t, make([]byte, 10<<20))
	if len(z) > 16<<10 {
		t.Fatalf("bomb of %d bytes", len(z))
	}
	const limit = 1 << 20
	peer, c := deflatePeer(t, deflateNegotiated{sendWindow: 15}, &Options{MaxMessageSize: limit, CloseTimeout: 100 * time.Millisecond})
	peer.write(rawFrame(0xc2, testKey, z))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := c.Wait()
	runtime.ReadMemStats(&after)
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != CloseMessageTooBig {
		t.Fatalf("Wait = %v, want 1009", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*limit {
		t.Fatalf("allocated %d bytes for a %d-byte limit", alloc, limit)
	}
}

// TestDeflateContextTakeover: with context takeover the second of two
// equal messages is sent as a back-reference to the first, and the
// receiver, keeping its window, inflates it; without, each is whole.
func TestDeflateContextTakeover(t *testing.T) {
	p := jsonLike(4000, 9)
	for _, ctx := range []bool{true, false} {
		o := (&Options{CompressionThreshold: -1}).withDefaults()
		d := newDeflater(deflateNegotiated{sendContext: ctx, recvContext: ctx, sendWindow: 15}, o)
		first := bytes.Clone(compress(d, p).Bytes())
		second := bytes.Clone(compress(d, p).Bytes())
		if ctx && len(second) > len(first)/10 || !ctx && !bytes.Equal(first, second) {
			t.Fatalf("context %v: compressed sizes %d then %d", ctx, len(first), len(second))
		}
		// The receiving side: second inflates only with the first's window.
		peer, c := deflatePeer(t, deflateNegotiated{recvContext: ctx, sendWindow: 15}, nil)
		peer.write(rawFrame(0xc2, testKey, first), rawFrame(0xc2, testKey, second))
		for i := range 2 {
			m, err := c.Wait()
			must(t, err)
			if !bytes.Equal(m.Data, p) {
				t.Fatalf("context %v: message %d differs", ctx, i)
			}
		}
	}
}

// TestDeflateSmallWindow: with server_max_window_bits=9 only messages of at
// most 512 bytes go compressed, each on its own: an inflater with no
// history, which refuses any distance reaching before the message's
// start, inflates each, so no back-reference passes 511 bytes.
func TestDeflateSmallWindow(t *testing.T) {
	peer, c := deflatePeer(t, deflateNegotiated{sendContext: false, recvContext: true, sendWindow: 9}, &Options{CompressionThreshold: -1})
	sizes := []int{300, 511, 512, 513, 600, 2000, 512, 40000, 200}
	go func() {
		for i, n := range sizes {
			c.Send(bytes.Repeat(jsonLike(50, uint64(i)), n/50+1)[:n])
		}
	}()
	for i, n := range sizes {
		b0, payload, err := peer.readFrame()
		must(t, err)
		want := bytes.Repeat(jsonLike(50, uint64(i)), n/50+1)[:n]
		if compressed := b0&bitRsv1 != 0; compressed != (n <= 512) {
			t.Fatalf("%d bytes: compressed %v", n, compressed)
		}
		if b0&bitRsv1 == 0 {
			if !bytes.Equal(payload, want) {
				t.Fatalf("%d bytes: plain payload differs", n)
			}
			continue
		}
		got, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(deflateTail[:]))))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: inflated alone: %v", n, err)
		}
	}
}

// TestPreparedDeflatedOnce: a prepared message sent to many compressing
// connections is compressed once, and each peer inflates it; a
// connection with context takeover goes on compressing correctly after.
func TestPreparedDeflatedOnce(t *testing.T) {
	p := jsonLike(3000, 5)
	pm := NewPreparedMessage(MessageText, p)
	var peers []*rawPeer
	var conns []*Conn
	for i := range 4 {
		n := deflateNegotiated{sendContext: i%2 == 0, recvContext: true, sendWindow: 15}
		peer, c := deflatePeer(t, n, nil)
		peers, conns = append(peers, peer), append(conns, c)
	}
	before := compressions.Load()
	for _, c := range conns {
		go c.SendPrepared(pm)
	}
	for _, peer := range peers {
		b0, payload, err := peer.readFrame()
		must(t, err)
		if b0 != 0xc1 || len(payload) >= len(p) {
			t.Fatalf("frame %x of %d bytes", b0, len(payload))
		}
	}
	if n := compressions.Load() - before; n != 1 {
		t.Fatalf("%d compressions for one prepared message", n)
	}
	// After it, a connection keeping its context starts afresh: the
	// peer, whose window now holds the prepared message, inflates both.
	c, peer := conns[0], peers[0]
	go c.SendText(string(p))
	_, payload, err := peer.readFrame()
	must(t, err)
	fr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(deflateTail[:])), p)
	if got, err := io.ReadAll(fr); err != nil || !bytes.Equal(got, p) {
		t.Fatalf("message after the prepared one: %v", err)
	}
}

// TestDeflatePairs round-trips over net.Pipe and TCP with each parameter
// set, both ways, fragments and all.
func TestDeflatePairs(t *testing.T) {
	for _, n := range []deflateNegotiated{
		{true, true, 15}, {false, false, 15}, {true, false, 15}, {false, true, 9},
	} {
		t.Run(fmt.Sprintf("%+v", n), func(t *testing.T) {
			o := (&Options{CompressionThreshold: -1}).withDefaults()
			mirror := deflateNegotiated{sendContext: n.recvContext, recvContext: n.sendContext, sendWindow: 15}
			for _, tr := range []string{"pipe", "tcp"} {
				var a, b net.Conn
				if tr == "pipe" {
					a, b = net.Pipe()
				} else {
					a, b = tcpSockets(t)
				}
				client := newConnDeflate(a, nil, true, o, "", nil, newDeflater(mirror, o))
				server := newConnDeflate(b, nil, false, o, "", nil, newDeflater(n, o))
				client.startReader()
				server.startReader()
				for i, size := range []int{1, 200, 513, 3000, 33000, 200000, 64, 64} {
					p := jsonLike(size, uint64(i))
					go server.SendText(string(p))
					go client.Send(p)
					for _, c := range []*Conn{client, server} {
						m, err := c.Wait()
						must(t, err)
						if !bytes.Equal(m.Data, p) {
							t.Fatalf("%s: %d bytes differ", tr, size)
						}
					}
				}
				a.Close()
				b.Close()
				<-client.Done()
				<-server.Done()
			}
		})
	}
}

// inflatePeer inflates a compressed message's payload as the peer does,
// with dict as its window: the last 32 KiB it inflated.
func inflatePeer(payload, dict []byte) ([]byte, error) {
	return io.ReadAll(flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(deflateTail[:])), dict))
}

// lastWindow returns the last 32 KiB of b.
func lastWindow(b []byte) []byte { return b[max(0, len(b)-windowSize):] }

// TestDeflateTakeoverHoldsNoWriter: with context takeover a connection
// keeps no flate.Writer between messages (over 1 MiB each), only the end
// of the last message: a few KiB per connection after a 1 KiB message.
func TestDeflateTakeoverHoldsNoWriter(t *testing.T) {
	const conns = 100
	o := (&Options{CompressionThreshold: -1}).withDefaults()
	p := jsonLike(1024, 1)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC() // and what sync.Pools kept through the first
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	for _, level := range []int{flate.BestSpeed, flate.DefaultCompression} {
		o.CompressionLevel = level
		ds := make([]*deflater, conns)
		before := heap()
		for i := range ds {
			ds[i] = newDeflater(deflateNegotiated{sendContext: true, recvContext: true, sendWindow: 15}, o)
			putCompressBuffer(compress(ds[i], p))
		}
		grew := int64(heap()) - int64(before)
		t.Logf("level %d: %d B per connection after one message", level, grew/conns)
		if limit := int64(conns * 4 << 10); grew > limit {
			t.Errorf("level %d: heap grew %d KiB for %d connections after one message each, want under %d KiB", level, grew>>10, conns, limit>>10)
		}
		runtime.KeepAlive(ds)
	}
}

// TestDeflateTakeoverEveryLevel: with context takeover, at every level,
// each message inflates with the peer's window, the last 32 KiB of what
// it inflated, and also with only the last primeSize bytes of the message
// before it: the writer, primed with those alone, never refers further
// back, into bytes it does not hold. Two connections share the pooled writers, each with
// its own data. A repeated message costs a few bytes where the level
// refers back at all; after a reset (a prepared message) the next message
// stands on its own.
func TestDeflateTakeoverEveryLevel(t *testing.T) {
	sizes := []int{3000, 3000, 5, 16, 17, 100, 127, 128, 129, 1000, 4000, 33000, 70000, 70000, 200, 40000, 3000, 1}
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		o := (&Options{CompressionThreshold: -1}).withDefaults()
		type side struct {
			d              *deflater
			inflated, prev []byte
		}
		var sides [2]side
		for i := range sides {
			sides[i].d = newDeflater(deflateNegotiated{sendContext: true, recvContext: true, sendWindow: 15}, o)
			sides[i].d.level = level // Options takes 0 for the default
		}
		for i, n := range sizes {
			for j := range sides {
				s := &sides[j]
				// Similar messages, not equal, but for the repeated ones.
				p := jsonLike(n, uint64(i/2*2+j*100))
				if i == 12 && j == 0 {
					s.d.reset = true // as after a prepared message
					s.inflated, s.prev = nil, nil
				}
				out := compress(s.d, p)
				z := bytes.Clone(out.Bytes())
				putCompressBuffer(out)
				if got, err := inflatePeer(z, lastWindow(s.inflated)); err != nil || !bytes.Equal(got, p) {
					t.Fatalf("level %d, side %d, message %d (%d bytes): peer inflates %d bytes, %v", level, j, i, n, len(got), err)
				}
				if got, err := inflatePeer(z, s.prev[max(0, len(s.prev)-primeSize):]); err != nil || !bytes.Equal(got, p) {
					t.Fatalf("level %d, side %d, message %d (%d bytes): refers before the previous message: %v", level, j, i, n, err)
				}
				if i == 1 && level != flate.NoCompression && level != flate.HuffmanOnly && len(z) > n/20 {
					t.Errorf("level %d, side %d: a repeated %d-byte message took %d bytes", level, j, n, len(z))
				}
				s.inflated = append(s.inflated, p...)
				s.prev = p
			}
		}
	}
}

// TestDeflateTakeoverSmallWindow: a server configured for context
// takeover, offered server_max_window_bits=10, and a client likewise
// answered client_max_window_bits=10, compress each message on its own,
// and only those of at most 1 KiB: each inflates with no window.
func TestDeflateTakeoverSmallWindow(t *testing.T) {
	_, server, ok := acceptDeflate([]string{"permessage-deflate; server_max_window_bits=10"}, CompressionContextTakeover)
	if !ok {
		t.Fatal("offer refused")
	}
	client, ok, err := checkDeflateResponse([]string{"permessage-deflate; client_max_window_bits=10"}, CompressionContextTakeover)
	if !ok || err != nil {
		t.Fatalf("response refused: %v", err)
	}
	o := (&Options{CompressionThreshold: -1}).withDefaults()
	for _, n := range []deflateNegotiated{server, client} {
		for _, level := range []int{flate.BestSpeed, flate.BestCompression} {
			o.CompressionLevel = level
			d := newDeflater(n, o)
			p := jsonLike(1024, 4)
			for i, size := range []int{1024, 1024, 700, 1025, 1024} {
				if d.compresses(size) != (size <= 1024) {
					t.Fatalf("%+v: a %d-byte message compressed: %v", n, size, !d.compresses(size))
				}
				if !d.compresses(size) {
					continue
				}
				out := compress(d, p[:size])
				got, err := inflatePeer(out.Bytes(), nil)
				putCompressBuffer(out)
				if err != nil || !bytes.Equal(got, p[:size]) {
					t.Fatalf("%+v, level %d: message %d does not inflate on its own: %v", n, level, i, err)
				}
			}
			if len(d.last) > 0 {
				t.Errorf("%+v: kept %d bytes of context", n, len(d.last))
			}
		}
	}
}

// pipeServer is a server Conn with deflate negotiated as n, over net.Pipe,
// whose Reads end where the peer's Writes do; the peer's side reads what
// the server sends and hangs up at its close frame.
func pipeServer(t *testing.T, n deflateNegotiated) (net.Conn, *Conn) {
	a, b := net.Pipe()
	o := (&Options{CloseTimeout: time.Second}).withDefaults()
	c := newConnDeflate(b, nil, false, o, "", nil, newDeflater(n, o))
	go func() {
		br := bufio.NewReader(a)
		for {
			f, err := readRawFrame(br)
			if err != nil || f.b0&0x0f == 0x8 {
				a.Close()
				return
			}
		}
	}()
	t.Cleanup(func() {
		a.Close()
		<-c.Done()
	})
	return a, c
}

// TestInflateChunkBoundaries: compressed messages, Huffman-coded and
// stored (which the inflater reads with Read after ReadByte), split into
// two fragments with a ping between them at every offset, then written
// whole but cut into two socket reads at every offset, each inflate to
// what was sent, one after the other on the same connection.
func TestInflateChunkBoundaries(t *testing.T) {
	type message struct {
		p, z []byte
	}
	var messages []message
	for _, level := range []int{flate.BestSpeed, flate.NoCompression} {
		p := jsonLike(1500, uint64(level+7))
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, level)
		fw.Write(p)
		fw.Flush()
		messages = append(messages, message{p, b.Bytes()[:b.Len()-4]})
	}
	a, c := pipeServer(t, deflateNegotiated{sendWindow: 15})
	var want [][]byte
	var writes [][][]byte // each message's socket writes
	for _, m := range messages {
		for k := 0; k <= len(m.z); k++ {
			first := rawFrame(0x01, testKey, m.z[:k])
			last := rawFrame(0x80, testKey, m.z[k:])
			first[0] |= bitRsv1
			want, writes = append(want, m.p), append(writes, [][]byte{first, clientFrame(0x89, "x"), last})
		}
		frame := rawFrame(0xc1, testKey, m.z)
		for k := 1; k < len(frame); k++ {
			want, writes = append(want, m.p), append(writes, [][]byte{frame[:k], frame[k:]})
		}
	}
	go func() {
		for _, w := range writes {
			for _, piece := range w {
				if _, err := a.Write(piece); err != nil {
					return
				}
			}
		}
	}()
	for i, p := range want {
		m, err := c.Wait()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(m.Data, p) {
			t.Fatalf("message %d: %d bytes differ", i, len(m.Data))
		}
	}
}

// TestInflateDataAfterFinalBlock: bytes after a compressed message's final
// block fail it with 1007 wherever they lie: in the bytes the inflater
// has taken from the socket, on the socket, in a later fragment.
func TestInflateDataAfterFinalBlock(t *testing.T) {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	fw.Write(jsonLike(4000, 2))
	fw.Close() // a final block
	z := append(b.Bytes(), "junk"...)
	end := b.Len() - 4
	cases := map[string][][]byte{
		"later fragment":            {rawFrame(0x41, testKey, z[:end]), rawFrame(0x80, testKey, z[end:])},
		"empty fragments then junk": {rawFrame(0x41, testKey, z[:end]), rawFrame(0x00, testKey, nil), rawFrame(0x80, testKey, z[end:])},
	}
	// One frame cut into two socket reads anywhere, the junk among the
	// unmasked bytes or left on the socket.
	frame := rawFrame(0xc1, testKey, z)
	for k := 1; k < len(frame); k++ {
		cases[fmt.Sprintf("read cut at %d", k)] = [][]byte{frame[:k], frame[k:]}
	}
	for name, writes := range cases {
		a, c := pipeServer(t, deflateNegotiated{sendWindow: 15})
		go func() {
			for _, w := range writes {
				if _, err := a.Write(w); err != nil {
					return
				}
			}
		}()
		_, err := c.Wait()
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != CloseInvalidFramePayloadData {
			t.Fatalf("%s: Wait = %v, want 1007", name, err)
		}
		a.Close()
	}
}

// TestCompressedReceiveAllocations: a compressed message received
// allocates its length, once the last one's length is known, and little
// more (compress/flate's Huffman tables); with Recycle, next to nothing.
// Made by guessing from the compressed length, a 16 KiB message would
// grow twice.
func TestCompressedReceiveAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	for _, recvContext := range []bool{false, true} {
		for _, recycle := range []bool{false, true} {
			for _, size := range []int{1024, 16 << 10} {
				perMsgBytes := compressedReceiveAllocations(t, size, recycle, recvContext)
				wantBytes := float64(size + size/8 + 128)
				if recycle {
					wantBytes = float64(size/16 + 128)
				}
				if perMsgBytes > wantBytes {
					t.Errorf("size %d, recycle %v, context takeover %v: %.0f bytes allocated per message, want at most %.0f",
						size, recycle, recvContext, perMsgBytes, wantBytes)
				}
			}
		}
	}
}

// compressedReceiveAllocations returns the bytes allocated per compressed
// message of size bytes received.
func compressedReceiveAllocations(t *testing.T, size int, recycle, recvContext bool) (perMsgBytes float64) {
	const warmup, count = 20, 500
	o := (&Options{CompressionThreshold: -1}).withDefaults()
	sender := newDeflater(deflateNegotiated{sendContext: recvContext, sendWindow: 15}, o)
	var stream []byte
	for i := range warmup + count {
		out := compress(sender, jsonLike(size, uint64(i%5)))
		stream = append(stream, rawFrame(0xc1, testKey, out.Bytes())...)
		putCompressBuffer(out)
	}
	nc := &streamConn{newSinkConn(), bytes.NewReader(stream)}
	c := newConnDeflate(nc, nil, false, o, "", nil, newDeflater(deflateNegotiated{recvContext: recvContext, sendWindow: 15}, o))
	var before, after runtime.MemStats
	for i := range warmup + count {
		if i == warmup {
			runtime.ReadMemStats(&before)
		}
		m, err := c.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) != size {
			t.Fatalf("message %d: %d bytes", i, len(m.Data))
		}
		if recycle {
			c.Recycle(m)
		}
	}
	runtime.ReadMemStats(&after)
	nc.Close()
	<-c.Done()
	return float64(after.TotalAlloc-before.TotalAlloc) / count
}

// TestStalledCompressedHeaderCostsLittle: after a 256 KiB compressed
// message, a compressed frame that stops after 10 bytes of its payload
// makes the server allocate at most a first guess (16 KiB), not the last
// message's length; the rest of what it holds is the inflater's (about
// 40 KiB) and the read buffer.
func TestStalledCompressedHeaderCostsLittle(t *testing.T) {
	const conns = 32
	first := rawFrame(0xc2, testKey, deflateRaw(t, make([]byte, 256<<10)))
	z := deflateRaw(t, jsonLike(100000, 3))
	header := rawFrame(0xc2, testKey, z)
	payloadAt := len(header) - len(z)
	o := (&Options{}).withDefaults()
	var servers []*Conn
	before := heapInUse()
	for range conns {
		client, nc := tcpSockets(t)
		cc := &countingConn{Conn: nc, n: int64(len(first) + payloadAt + 10), reached: make(chan struct{})}
		s := newConnDeflate(cc, nil, false, o, "", nil, newDeflater(deflateNegotiated{sendWindow: 15}, o))
		servers = append(servers, s)
		t.Cleanup(func() {
			client.Close()
			<-s.Done()
		})
		if _, err := client.Write(append(bytes.Clone(first), header[:payloadAt]...)); err != nil {
			t.Fatal(err)
		}
		if m, err := s.Wait(); err != nil || len(m.Data) != 256<<10 {
			t.Fatalf("first message: %d bytes, %v", len(m.Data), err)
		}
		go s.Wait()
		// The payload's bytes are read by the inflater, after the output
		// buffer is made.
		if _, err := client.Write(header[payloadAt : payloadAt+10]); err != nil {
			t.Fatal(err)
		}
		<-cc.reached
	}
	grew := int64(heapInUse()) - int64(before)
	t.Logf("%d stalled compressed frames: heap grew %d KiB (%d KiB per connection)", conns, grew>>10, grew/conns>>10)
	if limit := int64(conns * 96 << 10); grew > limit {
		t.Errorf("heap grew %d KiB for %d stalled compressed frames, want under %d KiB", grew>>10, conns, limit>>10)
	}
	runtime.KeepAlive(servers)
}
