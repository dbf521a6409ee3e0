package websocket

import (
	"context"
	"iter"
	"strconv"
	"time"
)

// MessageType says whether a message is text or binary (RFC 6455 §5.6).
type MessageType int

const (
	// MessageText is a message of UTF-8 text (opcode 0x1).
	MessageText MessageType = 1
	// MessageBinary is a message of arbitrary bytes (opcode 0x2).
	MessageBinary MessageType = 2
)

func (t MessageType) String() string {
	switch t {
	case MessageText:
		return "text"
	case MessageBinary:
		return "binary"
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// Message is one whole WebSocket message. Data belongs to the receiver: the
// library never touches it again.
type Message struct {
	Type MessageType
	Data []byte
}

// Wait returns the oldest queued message, waiting for one if none is
// queued. Once the connection has closed, Wait still returns the messages
// that were queued, in order, and then the *CloseError that says how the
// connection ended.
//
// While no other goroutine reads the socket, Wait reads it itself, so the
// message comes straight from the socket to the caller (see Conn). A
// message taken by WaitStream and not read to its end is discarded first,
// here as in WaitContext, WaitTimeout, Read and Messages.
func (c *Conn) Wait() (Message, error) {
	c.mb.markConsumer()
	if r := c.rstream.Load(); r != nil { // a streamed message left unread
		r.discard()
	}
	// Until a reader goroutine starts, nothing is ever queued: the
	// message is read here, unless another Wait is reading already.
	if c.lockReadHere() {
		if c.ended() { // a reader came and went: see the mailbox
			c.unlockRead()
			return c.WaitContext(context.Background())
		}
		// An idle connection waits for its next bytes here, shallow in
		// the stack, so that its goroutine keeps a 2 KiB stack (4 KiB when
		// it waited inside readMessage: bench/cmd/idlemem, stack per conn).
		err := c.rb.await()
		var m Message
		if err == nil {
			m, err = c.readMessage()
		}
		if err != nil {
			c.end(err)
			c.unlockRead()
			return Message{}, c.Err()
		}
		c.unlockRead()
		return m, nil
	}
	return c.WaitContext(context.Background())
}

// WaitContext is Wait bounded by ctx. When ctx is done first, WaitContext
// returns ctx.Err() and the connection is untouched: the next message is
// still delivered to the next call. It leaves the reading of the socket to
// the reader goroutine, which it starts.
func (c *Conn) WaitContext(ctx context.Context) (Message, error) {
	c.mb.markConsumer()
	c.startReader()
	c.abandonStream() // the reader goroutine discards its rest
	m, ok, err := c.mb.wait(ctx)
	if ok {
		return m, nil
	}
	if err != nil {
		return Message{}, err
	}
	return Message{}, c.Err()
}

// WaitTimeout is Wait bounded by d; it returns context.DeadlineExceeded
// when d passes first, and leaves the connection untouched.
func (c *Conn) WaitTimeout(d time.Duration) (Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.WaitContext(ctx)
}

// Read returns the oldest queued message without waiting; ok is false if
// none is queued.
func (c *Conn) Read() (m Message, ok bool) {
	c.mb.markConsumer()
	c.startReader()
	c.abandonStream()
	m, ok, _ = c.mb.take(nil)
	return m, ok
}

// CountMessages returns how many messages are queued.
func (c *Conn) CountMessages() int {
	c.mb.markConsumer()
	c.startReader()
	return c.mb.count()
}

// HasMessages reports whether a message is queued, so that Read would
// return one.
func (c *Conn) HasMessages() bool { return c.CountMessages() > 0 }

// Messages returns an iterator over the messages as Wait returns them. It
// ends when the connection has closed and every queued message has been
// yielded; Err then says why.
func (c *Conn) Messages() iter.Seq[Message] {
	return func(yield func(Message) bool) {
		for {
			m, err := c.Wait()
			if err != nil || !yield(m) {
				return
			}
		}
	}
}

// Recycle hands m's bytes back to the connection, which may fill them with
// a later message instead of allocating: for applications that receive
// many messages and are done with each before taking the next. m.Data, and
// any slice of it, must not be used after Recycle. Calling it is optional:
// without it every message is freshly allocated and the caller's forever.
// Recycle each message at most once: like a second sync.Pool Put of the
// same buffer, a second Recycle could hand the same bytes to two later
// messages.
func (c *Conn) Recycle(m Message) {
	if c.readMu.TryLock() {
		c.free.putOwn(m.Data)
		c.unlockRead()
		return
	}
	c.free.putShared(m.Data)
}
