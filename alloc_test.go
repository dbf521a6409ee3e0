package websocket

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// sinkConn is a net.Conn whose writes vanish and whose reads wait for Close.
type sinkConn struct {
	net.Conn // nil: only the methods below are used
	once     sync.Once
	closed   chan struct{}
}

func newSinkConn() *sinkConn { return &sinkConn{closed: make(chan struct{})} }

func (c *sinkConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *sinkConn) Read(p []byte) (int, error) {
	<-c.closed
	return 0, io.EOF
}
func (c *sinkConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}
func (c *sinkConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *sinkConn) SetWriteDeadline(t time.Time) error { return nil }

// TestSendAllocations: sending allocates nothing per message, for either
// role, small or large, masked or not, and for prepared messages.
func TestSendAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	small := []byte(strings.Repeat("x", 100))
	largeText := strings.Repeat("y", 64<<10)
	large := []byte(largeText)
	pm := NewPreparedMessage(MessageBinary, small)
	for _, client := range []bool{false, true} {
		nc := newSinkConn()
		c := newConn(nc, nil, client, (*Options)(nil).withDefaults(), "", nil)
		for _, tc := range []struct {
			name string
			send func() error
		}{
			{"Send small", func() error { return c.Send(small) }},
			{"Send large", func() error { return c.Send(large) }},
			{"SendText small", func() error { return c.SendText("hello, world") }},
			{"SendText large", func() error { return c.SendText(largeText) }},
			{"SendMessage", func() error { return c.SendMessage(Message{MessageText, small}) }},
			{"SendPrepared", func() error { return c.SendPrepared(pm) }},
		} {
			must(t, tc.send()) // the write buffer is made on first use
			if n := testing.AllocsPerRun(100, func() { tc.send() }); n != 0 {
				t.Errorf("client=%v %s: %v allocations per message, want 0", client, tc.name, n)
			}
		}
		nc.Close()
		<-c.Done()
	}
}

// streamConn serves reads from a byte stream, then io.EOF.
type streamConn struct {
	*sinkConn
	r io.Reader
}

func (c *streamConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestReceiveAllocations: a received message costs one allocation, the
// message's own bytes, whether text (checked as UTF-8) or binary.
func TestReceiveAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	for _, reader := range []bool{false, true} {
		for _, recycle := range []bool{false, true} {
			for _, size := range []int{16, 1024, 16 << 10} {
				allocs, perMsgBytes := receiveAllocations(t, size, recycle, reader)
				wantAllocs, wantBytes := 1.05, float64(size+64)
				if recycle {
					// Nearly none: a reader goroutine that runs ahead of
					// a slowed-down consumer may still need a fresh
					// buffer now and then.
					wantAllocs, wantBytes = 0.25, float64(size)/4+64
				}
				if allocs > wantAllocs || perMsgBytes > wantBytes {
					t.Errorf("size %d, recycle %v, reader goroutine %v: %.2f allocations and %.0f bytes per message, want at most %.2f and %.0f",
						size, recycle, reader, allocs, perMsgBytes, wantAllocs, wantBytes)
				}
			}
		}
	}
}

// receiveAllocations returns the allocations and bytes allocated per
// message received, for messages of size bytes, given back with Recycle
// or not, read by Wait itself or by the reader goroutine. The first
// messages, while buffers, the goroutine and the mailbox's ring come to be,
// are not counted.
func receiveAllocations(t *testing.T, size int, recycle, reader bool) (allocs, perMsgBytes float64) {
	const warmup, count = 2 * DefaultMailboxMessages, 2000
	var stream []byte
	for i := range warmup + count {
		b0 := byte(0x81)
		if i%2 == 1 {
			b0 = 0x82
		}
		stream = append(stream, clientFrame(b0, strings.Repeat("z", size))...)
	}
	nc := &streamConn{newSinkConn(), bytes.NewReader(stream)}
	c := newConn(nc, nil, false, (*Options)(nil).withDefaults(), "", nil)
	if reader {
		c.startReader()
	}
	var before, after runtime.MemStats
	for i := range warmup + count {
		if i == warmup {
			runtime.ReadMemStats(&before)
		}
		m, err := c.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if recycle {
			c.Recycle(m)
		}
	}
	runtime.ReadMemStats(&after)
	nc.Close()
	<-c.Done()
	return float64(after.Mallocs-before.Mallocs) / count, float64(after.TotalAlloc-before.TotalAlloc) / count
}

// TestSendVariedLengthsAllocations: messages of many lengths share a few
// buffer pools, so sending a length never sent before allocates nothing
// once each size class has been used.
func TestSendVariedLengthsAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	data := []byte(strings.Repeat("z", 300<<10))
	nc := newSinkConn()
	c := newConn(nc, nil, true, (*Options)(nil).withDefaults(), "", nil)
	defer func() { nc.Close(); <-c.Done() }()
	for n := DefaultBufferSize; n < len(data); n *= 2 { // one send per class
		must(t, c.Send(data[:n+1]))
	}
	length := DefaultBufferSize
	if n := testing.AllocsPerRun(400, func() {
		length += 601 // 400 lengths, none sent before
		c.Send(data[:length])
	}); n != 0 {
		t.Errorf("%v allocations per send of a new length, want 0", n)
	}
}

// TestFragmentedMessageAllocations: a message in many small fragments
// grows its buffer geometrically, not a fragment at a time (which would
// copy the message once per fragment).
func TestFragmentedMessageAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts need a normal build")
	}
	const size, fragment = 1 << 20, 64
	var stream bytes.Buffer
	for off := 0; off < size; off += fragment {
		b0 := byte(0x00)
		if off == 0 {
			b0 = 0x02
		}
		if off+fragment == size {
			b0 |= 0x80
		}
		stream.Write(rawFrame(b0, testKey, make([]byte, fragment)))
	}
	nc := &streamConn{sinkConn: newSinkConn(), r: &stream}
	c := newConn(nc, nil, false, (*Options)(nil).withDefaults(), "", nil)
	defer func() { nc.Close(); <-c.Done() }()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := c.Wait()
	runtime.ReadMemStats(&after)
	if err != nil || len(m.Data) != size {
		t.Fatalf("Wait = %d bytes, %v", len(m.Data), err)
	}
	if n := after.Mallocs - before.Mallocs; n > 20 {
		t.Errorf("%d allocations for a 1 MiB message in %d-byte fragments, want a few", n, fragment)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4*size {
		t.Errorf("%d bytes allocated for a 1 MiB message, want at most 4 MiB", n)
	}
}
