package websocket

import (
	"context"
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
		space := mb.space // made by open, perhaps on another goroutine
		mb.mu.Unlock()
		select {
		case <-space:
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

// awaitEnd records that the consumer waits for the connection to end:
// once it has taken every message, it looks for no other, and the end need
// not wait for it.
func (mb *mailbox) awaitEnd() {
	mb.mu.Lock()
	if mb.n == 0 {
		mb.markStarved()
	}
	mb.mu.Unlock()
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
		idle := mb.idle // made by open, perhaps on another goroutine
		mb.mu.Unlock()
		if done {
			return
		}
		select {
		case <-idle:
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
