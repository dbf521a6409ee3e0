package websocket

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The streamed-message benchmarks send one message of b.N MiB over TCP on
// 127.0.0.1, so that the size follows -benchtime: -benchtime=1024x sends
// one 1 GiB message. They run only when asked for with -bench.
//
//	go test -run '^$' -bench 'Stream' -benchtime 1024x
//
// peak-heap-MiB is the largest HeapInuse seen, sampled every 5 ms, above
// what it was before the message: sender and receiver together, as both
// ends run in this process.

// streamChunk is the size of each Write and Read: io.Copy's buffer.
const streamChunk = 32 << 10

// BenchmarkStreamMessage sends the message with SendStream in 32 KiB
// writes and reads it with WaitStream in 32 KiB reads.
func BenchmarkStreamMessage(b *testing.B) {
	size := int64(b.N) << 20
	client, server := tcpPair(b, nil)
	out, in := make([]byte, streamChunk), make([]byte, streamChunk)
	measureHeap(b, size, func() {
		sent := make(chan error, 1)
		go func() {
			w, err := client.SendStream(context.Background(), MessageBinary)
			for left := size; err == nil && left > 0; left -= streamChunk {
				_, err = w.Write(out[:min(left, streamChunk)])
			}
			if err == nil {
				err = w.Close()
			}
			sent <- err
		}()
		_, r, err := server.WaitStream(size)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, onlyReader{r}, in)
		if err != nil || n != size {
			b.Fatalf("read %d bytes of %d: %v", n, size, err)
		}
		if err := <-sent; err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkWholeMessage sends the same message with Send and receives it
// with Wait, for comparison: both ends hold it whole.
func BenchmarkWholeMessage(b *testing.B) {
	size := int64(b.N) << 20
	client, server := tcpPair(b, &Options{MaxMessageSize: size})
	measureHeap(b, size, func() {
		p := make([]byte, size)
		sent := make(chan error, 1)
		go func() { sent <- client.Send(p) }()
		m, err := server.Wait()
		if err != nil || int64(len(m.Data)) != size {
			b.Fatalf("received %d bytes of %d: %v", len(m.Data), size, err)
		}
		if err := <-sent; err != nil {
			b.Fatal(err)
		}
	})
}

// onlyReader hides a reader's other methods, so that io.CopyBuffer uses
// the buffer it is given.
type onlyReader struct{ io.Reader }

// measureHeap runs send once, timed, as b.N MiB (size bytes) moved, and
// reports the peak heap in use above what it was before.
func measureHeap(b *testing.B, size int64, send func()) {
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, stopped := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(stopped)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapInuse)
			mu.Unlock()
		}
	}()
	b.ResetTimer()
	send()
	b.StopTimer()
	close(stop)
	<-stopped
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(size)/(1<<20), "message-MiB")
}
