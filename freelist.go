package websocket

import (
	"math"
	"sync"
	"sync/atomic"
)

// freeList holds message buffers the application handed back with
// Conn.Recycle, for the reader to fill again instead of allocating. A
// buffer handed back while nobody reads the socket (the application is
// between two Waits) goes to own, which only the holder of the Conn's
// readMu touches, so neither side locks; one handed back while the socket
// is being read goes to shared. Each is bounded like the mailbox, in
// buffers and bytes, so recycling never holds more than the mailbox could
// twice over.
type freeList struct {
	maxN     int
	maxBytes int64
	own      bufStack // guarded by the Conn's readMu

	held   atomic.Int32 // len(shared.bufs), read without mu
	mu     sync.Mutex
	shared bufStack
}

// get returns an empty buffer for a payload of n bytes: a recycled one
// whose capacity fits n, else nil, for the reader to grow as the payload
// arrives. The caller holds the Conn's readMu.
func (f *freeList) get(n int64) []byte {
	if n == 0 || n > math.MaxInt/2 {
		return nil
	}
	if b, ok := f.own.pop(int(n)); ok {
		return b[:0]
	}
	if f.held.Load() > 0 {
		f.mu.Lock()
		b, ok := f.shared.pop(int(n))
		f.held.Store(int32(len(f.shared.bufs)))
		f.mu.Unlock()
		if ok {
			return b[:0]
		}
	}
	return nil
}

// putOwn keeps b for a later get, unless own is full. The caller holds the
// Conn's readMu.
func (f *freeList) putOwn(b []byte) { f.own.push(b, f.maxN, f.maxBytes) }

// putShared keeps b for a later get, unless shared is full.
func (f *freeList) putShared(b []byte) {
	f.mu.Lock()
	f.shared.push(b, f.maxN, f.maxBytes)
	f.held.Store(int32(len(f.shared.bufs)))
	f.mu.Unlock()
}

// bufStack is a bounded stack of empty buffers.
type bufStack struct {
	bufs  [][]byte
	bytes int64
}

func (s *bufStack) push(b []byte, maxN int, maxBytes int64) {
	if cap(b) > 0 && len(s.bufs) < maxN && s.bytes+int64(cap(b)) <= maxBytes {
		s.bufs = append(s.bufs, b[:0])
		s.bytes += int64(cap(b))
	}
}

// pop removes the newest buffer that fits n bytes without wasting more
// than about half of it.
func (s *bufStack) pop(n int) ([]byte, bool) {
	for i := len(s.bufs) - 1; i >= 0; i-- {
		if b := s.bufs[i]; cap(b) >= n && cap(b) <= 2*n+64 {
			last := len(s.bufs) - 1
			s.bufs[i] = s.bufs[last]
			s.bufs[last] = nil
			s.bufs = s.bufs[:last]
			s.bytes -= int64(cap(b))
			return b[:n], true
		}
	}
	return nil, false
}
