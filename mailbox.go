package websocket

import (
	"context"
	"iter"
	"strconv"
	"sync"
	"sync/atomic"
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

// mailbox is the bounded queue between the reader goroutine, which puts
// whole messages in, and the application, which takes them out. It knows
// nothing of frames.
type mailbox struct {
	mu         sync.Mutex
	ring       []Message // queued messages start at head and wrap around
	head, n    int
	bytes      int64
	maxN       int
	maxBytes   int64
	putWaiting bool // the reader waits for space
	closed     bool
	consumer   atomic.Bool // the application has looked for messages
	waiters    int         // goroutines in wait that found the mailbox empty
	starved    bool        // the consumer found the mailbox empty after the last put

	ready chan struct{} // a message was put (capacity 1)
	space chan struct{} // a message was taken while putWaiting (capacity 1)
	idle  chan struct{} // the consumer found the mailbox empty (capacity 1)
	done  chan struct{} // closed by close: no more messages will come
}

func (mb *mailbox) init(maxN int, maxBytes int64) {
	mb.maxN, mb.maxBytes = maxN, maxBytes
	mb.starved = true
}

// open makes the channels that waiting takes, before the reader goroutine
// starts: a connection read only by Wait never needs them.
func (mb *mailbox) open() {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.ready = make(chan struct{}, 1)
	mb.space = make(chan struct{}, 1)
	mb.idle = make(chan struct{}, 1)
	mb.done = make(chan struct{})
	if mb.closed {
		close(mb.done)
	}
}

// put queues m, waiting while the mailbox is full. It gives up and reports
// false when abort is closed. Only the reader goroutine calls put.
func (mb *mailbox) put(m Message, abort <-chan struct{}) bool {
	size := int64(len(m.Data))
	mb.mu.Lock()
	for mb.n >= mb.maxN || (mb.n > 0 && mb.bytes+size > mb.maxBytes) {
		mb.putWaiting = true
		mb.mu.Unlock()
		select {
		case <-mb.space:
		case <-abort:
			return false
		}
		mb.mu.Lock()
	}
	if mb.n == len(mb.ring) {
		mb.grow()
	}
	mb.ring[(mb.head+mb.n)%len(mb.ring)] = m
	mb.n++
	mb.bytes += size
	mb.starved = false
	wake := mb.waiters > 0
	mb.mu.Unlock()
	if wake {
		signal(mb.ready)
	}
	return true
}

// grow doubles the ring, up to maxN slots. It starts small so that idle
// connections cost little.
func (mb *mailbox) grow() {
	size := min(max(2*len(mb.ring), 4), mb.maxN)
	ring := make([]Message, size)
	for i := 0; i < mb.n; i++ {
		ring[i] = mb.ring[(mb.head+i)%len(mb.ring)]
	}
	mb.ring, mb.head = ring, 0
}

// take removes the oldest message. ok is false when none is queued; closed
// then says whether one may still come. A waiter passes its registration:
// finding nothing counts it among the waiters that a put must wake, until
// its next take.
func (mb *mailbox) take(waiter *bool) (m Message, ok, closed bool) {
	mb.mu.Lock()
	mb.markConsumer()
	if waiter != nil && *waiter {
		mb.waiters--
		*waiter = false
	}
	if mb.n == 0 {
		closed = mb.closed
		mb.markStarved()
		if waiter != nil && !closed {
			mb.waiters++
			*waiter = true
		}
		mb.mu.Unlock()
		return Message{}, false, closed
	}
	m = mb.ring[mb.head]
	mb.ring[mb.head] = Message{}
	mb.head = (mb.head + 1) % len(mb.ring)
	mb.n--
	mb.bytes -= int64(len(m.Data))
	more := mb.n > 0 && mb.waiters > 0
	// A full mailbox wakes the reader only once it is half empty (or
	// empty, for a message bigger than half the bytes), so that a reader
	// and an application that keep up with each other trade a wake-up per
	// batch of messages, not per message.
	wake := mb.putWaiting && (mb.n == 0 || mb.n <= mb.maxN/2 && mb.bytes <= mb.maxBytes/2)
	if wake {
		mb.putWaiting = false
	}
	mb.mu.Unlock()
	if more {
		signal(mb.ready) // another waiter may take the next one
	}
	if wake {
		signal(mb.space)
	}
	return m, true, false
}

// close marks the end of the messages; those queued stay to be taken.
func (mb *mailbox) close() {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.closed = true
	if mb.done != nil {
		close(mb.done)
	}
}

func (mb *mailbox) count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	mb.markConsumer()
	if mb.n == 0 {
		mb.markStarved()
	}
	return mb.n
}

// markConsumer records that the application looks for messages.
func (mb *mailbox) markConsumer() {
	if !mb.consumer.Load() {
		mb.consumer.Store(true)
	}
}

// markStarved records that the consumer found nothing to take. mb.mu is
// held.
func (mb *mailbox) markStarved() {
	if !mb.starved {
		mb.starved = true
		signal(mb.idle)
	}
}

// awaitConsumer waits until the consumer has taken every message and
// looked for another, until abort is closed, or for at most timeout. An
// application that has never looked for messages is not waited for.
func (mb *mailbox) awaitConsumer(timeout time.Duration, abort <-chan struct{}) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		mb.mu.Lock()
		done := mb.starved || !mb.consumer.Load()
		mb.mu.Unlock()
		if done {
			return
		}
		select {
		case <-mb.idle:
		case <-abort:
			return
		case <-t.C:
			return
		}
	}
}

// wait takes the oldest message, waiting for one until ctx is done or the
// mailbox is closed and empty.
func (mb *mailbox) wait(ctx context.Context) (Message, bool, error) {
	waiting := false
	for {
		m, ok, closed := mb.take(&waiting)
		if ok {
			return m, true, nil
		}
		if closed {
			return Message{}, false, nil
		}
		select {
		case <-mb.ready:
		case <-mb.done:
		case <-ctx.Done():
			mb.mu.Lock()
			if waiting {
				mb.waiters--
			}
			mb.mu.Unlock()
			return Message{}, false, ctx.Err()
		}
	}
}

// signal wakes one waiter on a capacity-1 channel without blocking; a
// signal nobody has taken yet stands for any number of them.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Wait returns the oldest queued message, waiting for one if none is
// queued. Once the connection has closed, Wait still returns the messages
// that were queued, in order, and then the *CloseError that says how the
// connection ended.
//
// While no other goroutine reads the socket, Wait reads it itself, so the
// message comes straight from the socket to the caller (see Conn).
func (c *Conn) Wait() (Message, error) {
	c.mb.markConsumer()
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
func (c *Conn) Recycle(m Message) {
	if c.readMu.TryLock() {
		c.free.putOwn(m.Data)
		c.unlockRead()
		return
	}
	c.free.putShared(m.Data)
}
