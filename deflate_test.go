package websocket

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
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
