package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/zerows/websocket/internal/mask"
)

// drainLimit bounds every wait for bytes to reach a sink.
const drainLimit = 2 * time.Minute

// eachSize runs f as lib=<name>/size=<size> sub-benchmarks for every peer.
func eachSize(b *testing.B, f func(b *testing.B, p peer, n int)) {
	for _, p := range peers() {
		b.Run("lib="+p.name, func(b *testing.B) {
			for _, sz := range sizes {
				b.Run("size="+sz.name, func(b *testing.B) { f(b, p, sz.n) })
			}
		})
	}
}

// BenchmarkReceive measures the server side reading masked client frames
// from an in-memory conn that replays a pre-encoded stream.
func BenchmarkReceive(b *testing.B) {
	eachSize(b, benchReceive)
}

func benchReceive(b *testing.B, p peer, n int) {
	pat, frames := clientStream(payload(n))
	c := newStreamConn(pat, int64(b.N)*int64(len(pat)/frames))
	ep, err := acceptOn(p, c)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	c.start()
	if err := ep.recv(b.N, nil); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	_ = c.Close()
	_ = ep.close()
}

// BenchmarkSend measures framing (and, for the client, masking) plus the
// write of one binary message into an in-memory conn that discards it.
func BenchmarkSend(b *testing.B) {
	for _, p := range peers() {
		b.Run("lib="+p.name, func(b *testing.B) {
			for _, role := range []string{"server", "client"} {
				b.Run("role="+role, func(b *testing.B) {
					for _, sz := range sizes {
						b.Run("size="+sz.name, func(b *testing.B) { benchSend(b, p, role == "client", sz.n) })
					}
				})
			}
		})
	}
}

func benchSend(b *testing.B, p peer, client bool, n int) {
	if client && p.client == nil {
		b.Skip("no client")
	}
	s := new(sink)
	c := newSinkConn(s, client)
	var ep endpoint
	var err error
	if client {
		ep, err = p.client(context.Background(), "ws://127.0.0.1/ws", fakeDial(c))
	} else {
		ep, err = acceptOn(p, c)
	}
	if err != nil {
		b.Fatal(err)
	}
	msg := payload(n)
	want := s.n.Load() + int64(b.N)*int64(frameLen(n, client))
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := ep.send(msg); err != nil {
			b.Fatal(err)
		}
	}
	if !s.waitFor(want, drainLimit) {
		b.Fatalf("%d of %d bytes written", s.n.Load(), want)
	}
	b.StopTimer()
	_ = c.Close()
	_ = ep.close()
}

// BenchmarkEcho measures round trips over loopback TCP: the library's
// client sends, the library's server echoes, with a window of 1 or 64
// messages in flight. Allocations are the client's and the server's.
func BenchmarkEcho(b *testing.B) {
	for _, p := range peers() {
		b.Run("lib="+p.name, func(b *testing.B) {
			for _, inflight := range []int{1, 64} {
				b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
					for _, sz := range sizes {
						b.Run("size="+sz.name, func(b *testing.B) { benchEcho(b, p, inflight, sz.n) })
					}
				})
			}
		})
	}
}

// echoServer serves p's echo on 127.0.0.1.
func echoServer(p peer) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, err := p.server(w, r)
		if err != nil {
			return
		}
		_ = ep.echo()
		_ = ep.close()
	}))
}

func wsURL(srv *httptest.Server) string { return "ws://" + srv.Listener.Addr().String() + "/ws" }

func benchEcho(b *testing.B, p peer, inflight, n int) {
	if p.client == nil {
		b.Skip("no client")
	}
	srv := echoServer(p)
	defer srv.Close()
	ep, err := p.client(context.Background(), wsURL(srv), loopbackDial)
	if err != nil {
		b.Fatal(err)
	}
	msg := payload(n)
	sem := make(chan struct{}, inflight)
	stop := make(chan struct{})
	werr := make(chan error, 1)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for range b.N {
			select {
			case sem <- struct{}{}:
			case <-stop:
				werr <- nil
				return
			}
			if err := ep.send(msg); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	rerr := ep.recv(b.N, func([]byte) { <-sem })
	b.StopTimer()
	close(stop)
	_ = ep.close()
	if rerr != nil {
		b.Fatal(rerr)
	}
	if err := <-werr; err != nil {
		b.Fatal(err)
	}
}

// broadcastConns is how many connections one broadcast goes to.
const broadcastConns = 1000

// BenchmarkBroadcast measures one message sent to 1000 server connections
// on in-memory discarding conns, framed once where the library can. One
// op is one message to all 1000; SetBytes counts all 1000 copies.
func BenchmarkBroadcast(b *testing.B) {
	for _, p := range peers() {
		b.Run("lib="+p.name, func(b *testing.B) {
			b.Run(fmt.Sprintf("conns=%d", broadcastConns), func(b *testing.B) {
				for _, sz := range sizes {
					b.Run("size="+sz.name, func(b *testing.B) { benchBroadcast(b, p, sz.n) })
				}
			})
		})
	}
}

func benchBroadcast(b *testing.B, p peer, n int) {
	s := new(sink)
	conns := make([]*sinkConn, broadcastConns)
	eps := make([]endpoint, broadcastConns)
	for i := range eps {
		conns[i] = newSinkConn(s, false)
		ep, err := acceptOn(p, conns[i])
		if err != nil {
			b.Fatal(err)
		}
		eps[i] = ep
	}
	defer func() {
		for i, ep := range eps {
			_ = conns[i].Close()
			_ = ep.close()
		}
	}()
	msg := payload(n)
	want := s.n.Load() + int64(b.N)*broadcastConns*int64(frameLen(n, false))
	b.SetBytes(int64(n) * broadcastConns)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := p.broadcast(eps, msg); err != nil {
			b.Fatal(err)
		}
	}
	if !s.waitFor(want, drainLimit) {
		b.Fatalf("%d of %d bytes written", s.n.Load(), want)
	}
	b.StopTimer()
}

// BenchmarkHandshake measures complete upgrades over loopback TCP, each
// library's client against its own server, with 1 or 16 goroutines
// dialing at once. An op is one TCP connect, one handshake, and the
// teardown of both ends. Throughput is reported as upgrades/s: there is no
// payload, so this is the one benchmark without b.SetBytes.
func BenchmarkHandshake(b *testing.B) {
	for _, p := range peers() {
		b.Run("lib="+p.name, func(b *testing.B) {
			for _, dialers := range []int{1, 16} {
				b.Run(fmt.Sprintf("dialers=%d", dialers), func(b *testing.B) { benchHandshake(b, p, dialers) })
			}
		})
	}
}

func benchHandshake(b *testing.B, p peer, dialers int) {
	if p.client == nil {
		b.Skip("no client")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ep, err := p.server(w, r); err == nil {
			_ = ep.close()
		}
	}))
	defer srv.Close()
	url := wsURL(srv)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	b.ReportAllocs()
	b.ResetTimer()
	for range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				ep, err := p.client(context.Background(), url, loopbackDial)
				if err != nil {
					once.Do(func() { failed = err })
					return
				}
				_ = ep.close()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if failed != nil {
		b.Fatal(failed)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upgrades/s")
}

// maskSizes are the sizes of BenchmarkMask: the common matrix plus 64 B
// and 64 KiB, which the masking goals are stated at.
var maskSizes = []benchSize{
	{"16B", 16},
	{"64B", 64},
	{"1KiB", 1 << 10},
	{"16KiB", 16 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkMask measures XOR masking in place. Of the peers only gobwas
// exports its masking (ws.Cipher); gorilla, coder and gws keep theirs
// unexported. zerows's is unexported too, but this module may import the
// library's internal/mask, which the library calls for every frame.
// lib=copy is copy() of the same bytes, for the memory bandwidth.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, lib := range []string{"zerows", "gobwas", "copy"} {
		b.Run("lib="+lib, func(b *testing.B) {
			for _, sz := range maskSizes {
				b.Run("size="+sz.name, func(b *testing.B) {
					p := payload(sz.n)
					src := payload(sz.n)
					b.SetBytes(int64(sz.n))
					b.ReportAllocs()
					b.ResetTimer()
					// One loop per library, so that no indirect call is timed.
					switch lib {
					case "zerows":
						for range b.N {
							mask.Bytes(p, key, 0)
						}
					case "gobwas":
						for range b.N {
							ws.Cipher(p, key, 0)
						}
					case "copy":
						for range b.N {
							copy(p, src)
						}
					}
				})
			}
		})
	}
}
