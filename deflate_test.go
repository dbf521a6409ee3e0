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
