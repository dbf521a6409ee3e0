package websocket

import (
	"io"
	"sync"
)

// readBuffer is a connection's read buffer. It borrows its memory from a
// pool while bytes flow and gives it back when it runs empty after a read
// that drained the socket, so an idle connection, waiting for its next
// frame, holds no buffer: that wait is a read into a small array kept in
// the readBuffer itself. While reads come back full, more is likely
// waiting, and the buffer is kept for the next one.
type readBuffer struct {
	src   io.Reader
	size  int
	pool  *sync.Pool // of *[]byte of len size
	buf   []byte     // nil while empty
	bufp  *[]byte    // where buf came from in pool, or nil
	r, w  int        // buf[r:w] is unread
	err   error      // from src, returned once buf is empty
	full  bool       // the last read from src filled what it was given
	first [firstReadSize]byte
}

// firstReadSize is how much an idle connection reads when data comes: a
// few small frames, or the header of a large one, whose payload is then
// read straight into the message.
const firstReadSize = 256

// init readies b to read src, starting with pending: bytes read from src
// already.
func (b *readBuffer) init(src io.Reader, size int, pending []byte) {
	size = max(size, firstReadSize)
	*b = readBuffer{src: src, size: size, pool: bufferPool(size)}
	if len(pending) > 0 {
		b.buf, b.w = pending, len(pending) // not from the pool: release drops it
	}
}

func (b *readBuffer) buffered() int { return b.w - b.r }

// unread returns the buffered bytes, valid until the next call.
func (b *readBuffer) unread() []byte { return b.buf[b.r:b.w] }

// release gives the buffer back once everything in it has been read.
func (b *readBuffer) release() {
	if b.r < b.w || b.buf == nil {
		return
	}
	if b.full && b.bufp != nil {
		b.r, b.w = 0, 0 // busy: keep it for the next read
		return
	}
	if b.bufp != nil {
		b.pool.Put(b.bufp)
	}
	b.buf, b.bufp, b.r, b.w = nil, nil, 0, 0
}

// fill reads more bytes from src into the buffer, at least one unless it
// returns an error.
func (b *readBuffer) fill() error {
	if b.err != nil {
		return b.err
	}
	if b.buf == nil {
		n, err := b.src.Read(b.first[:])
		b.full = n == len(b.first)
		if n > 0 {
			b.bufp = b.pool.Get().(*[]byte)
			b.buf = *b.bufp
			b.r, b.w = 0, copy(b.buf, b.first[:n])
		}
		if n == 0 && err == nil {
			err = io.ErrNoProgress
		}
		if n == 0 {
			return err
		}
		b.err = err
		return nil
	}
	if b.bufp == nil {
		b.adoptPending()
	} else if b.r > 0 {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	n, err := b.src.Read(b.buf[b.w:])
	b.full = n == len(b.buf)-b.w
	b.w += n
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	b.err = err
	return nil
}

// adoptPending moves the unread bytes that came with the handshake, which
// lie in a slice with no room after them, into a pooled buffer that has
// room for more: a frame may start in those bytes and end in the next read.
func (b *readBuffer) adoptPending() {
	bp := b.pool.Get().(*[]byte)
	unread := b.buf[b.r:b.w]
	if len(unread) > len(*bp) { // more than a buffer: keep them, with room
		b.pool.Put(bp)
		grown := make([]byte, 2*len(unread))
		b.buf, b.r, b.w = grown, 0, copy(grown, unread)
		return
	}
	b.buf, b.bufp = *bp, bp
	b.r, b.w = 0, copy(b.buf, unread)
}

// await waits until at least one byte is buffered.
func (b *readBuffer) await() error {
	if b.buffered() > 0 {
		return nil
	}
	return b.fill()
}

// peek returns the next n bytes, n at most firstReadSize, without
// consuming them; they are valid until the next call.
func (b *readBuffer) peek(n int) ([]byte, error) {
	for b.buffered() < n {
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	return b.buf[b.r : b.r+n], nil
}

// discard skips n bytes.
func (b *readBuffer) discard(n int64) error {
	for n > 0 {
		if b.buffered() == 0 {
			if err := b.fill(); err != nil {
				return err
			}
		}
		k := min(int64(b.buffered()), n)
		b.r += int(k)
		n -= k
		b.release()
	}
	return nil
}

// Read reads up to len(p) bytes. Large reads bypass the buffer once it is
// empty, so payloads go straight from the socket into the message.
func (b *readBuffer) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.buffered() == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if len(p) >= firstReadSize {
			n, err := b.src.Read(p)
			b.full = n == len(p)
			return n, err
		}
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	b.release()
	return n, nil
}
