package websocket

import (
	"strconv"
	"sync"
)

// Defaults for a Group's zero fields.
const (
	// DefaultGroupBacklog (256) is how many messages a member may have
	// waiting to be written before it is dropped: enough for a burst (a
	// busy second of a chat room, a history replayed on join) to pass, and
	// each waiting message costs the member one pointer, 2 KiB at the bound.
	DefaultGroupBacklog = 256
	// DefaultGroupBacklogBytes (1 MiB) is how many bytes of messages a
	// member may have waiting. Members share the messages, and every
	// backlog is the latest messages, so this also bounds the message
	// data the whole group holds, however many members it has. 1 MiB is
	// about 8 s of catching up on a 1 Mbit/s link, past which the member
	// is better off reconnecting and starting afresh.
	DefaultGroupBacklogBytes = 1 << 20
)

// Group is a set of connections that receive the same messages: a room, a
// topic, a channel. Broadcast queues a message for every member and returns
// without writing anything; each member's messages are written in order by
// a goroutine of its own, which runs only while that member has messages
// waiting, so a member that is slow, or whose peer stops reading, delays
// nobody else, and an idle group holds no goroutine: an idle member costs
// about 220 bytes (BenchmarkGroupJoin), where a writer goroutine parked
// per member would cost 2 KiB of stack or more.
//
// A member whose backlog would pass MaxBacklog messages or MaxBacklogBytes
// bytes is removed and closed with 1008 (policy violation) and the reason
// "too slow: N messages behind"; the messages waiting for it are dropped,
// and the one being written is finished. 1008 rather than 1013 (try again
// later): the fault lies with the member, not with an overloaded server.
// If its peer reads nothing at all, the close frame cannot get through
// either, and the connection is dropped once CloseWith gives up
// (CloseTimeout). Members that keep up lose nothing, and get every message
// in the order of the Broadcast calls. Broadcast does not pace its caller:
// one that broadcasts faster than the members' connections can carry will
// see members dropped, as their backlogs fill.
//
// A write to a peer that reads nothing holds up only that member's
// writer, until the write fails (the connection ends, or its
// Options.WriteTimeout passes) or the member is dropped; Broadcast never
// waits for it.
//
// A member whose connection has ended is removed when a write to it fails,
// at the next Broadcast: a Group does not watch its members, as that would
// take a goroutine per member (see Conn.Done). Until then it counts in Len.
//
// The zero Group is empty and ready to use. Its fields must not be changed
// once it is in use. A Group is safe for concurrent use.
type Group struct {
	// MaxBacklog and MaxBacklogBytes bound the messages that wait to be
	// written to one member, counting the one being written. A message is
	// always let into an empty backlog, however big. Zero means
	// DefaultGroupBacklog (256) and DefaultGroupBacklogBytes (1 MiB).
	MaxBacklog      int
	MaxBacklogBytes int64

	mu      sync.Mutex
	active  []*member         // the members, in no order
	members map[*Conn]*member // the members, and those that left while a write to them was in progress
}

// member is one connection's place in a Group.
type member struct {
	c *Conn

	mu       sync.Mutex
	pos      int   // index in g.active, or -1 once it has left; changed with g.mu held too
	queue    ring  // waiting to be written
	bytes    int64 // frame bytes in queue and inflight
	inflight int64 // frame bytes being written, or -1
	writing  bool  // a goroutine runs g.write(m)
}

// backlog returns the messages and bytes waiting for m, counting the one
// being written. m.mu is held.
func (m *member) backlog() (int, int64) {
	n := m.queue.len
	if m.inflight >= 0 {
		n++
	}
	return n, m.bytes
}

// Join adds c to the group; joining twice does nothing. Messages broadcast
// from now on are sent to c.
func (g *Group) Join(c *Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.members == nil {
		g.members = make(map[*Conn]*member)
	}
	m := g.members[c]
	if m == nil {
		// The record of a member that left stays while a write to it is
		// in progress, so that the messages of its new membership are
		// written by the same goroutine, after that one.
		m = &member{c: c, pos: -1, inflight: -1}
		g.members[c] = m
	}
	m.mu.Lock()
	if m.pos < 0 {
		m.pos = len(g.active)
		g.active = append(g.active, m)
	}
	m.mu.Unlock()
}

// Leave removes c from the group, and drops the messages still waiting to
// be written to it. A message the group was writing to c when Leave was
// called is finished, and may reach the peer after Leave returns, even
// after a message c sends then. Leave does not close c. Leaving a group c
// is not in does nothing.
func (g *Group) Leave(c *Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.members[c]; m != nil {
		m.mu.Lock()
		if m.pos >= 0 {
			g.remove(m)
		}
		m.mu.Unlock()
	}
}

// Len returns the number of members.
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.active)
}

// Broadcast queues pm for every member and returns without waiting for
// any write. A member whose backlog is full is removed and closed (see
// Group). If pm could not be framed (see NewPreparedMessage), Broadcast
// returns its error and queues nothing.
func (g *Group) Broadcast(pm *PreparedMessage) error {
	if pm.err != nil {
		return pm.err
	}
	size := int64(len(pm.frame))
	maxN, maxBytes := g.MaxBacklog, g.MaxBacklogBytes
	if maxN <= 0 {
		maxN = DefaultGroupBacklog
	}
	if maxBytes <= 0 {
		maxBytes = DefaultGroupBacklogBytes
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 0; i < len(g.active); {
		m := g.active[i]
		m.mu.Lock()
		if n, b := m.backlog(); n >= maxN || n > 0 && b+size > maxBytes {
			g.remove(m) // moves the last member to i
			m.mu.Unlock()
			go m.c.CloseWith(ClosePolicyViolation, "too slow: "+strconv.Itoa(n)+" messages behind")
			continue
		}
		m.queue.push(pm)
		m.bytes += size
		if !m.writing {
			m.writing = true
			go g.write(m)
		}
		m.mu.Unlock()
		i++
	}
	return nil
}

// remove takes m out of g.active and drops its waiting messages. Its
// record stays in g.members until its writer, if any, finishes. g.mu and
// m.mu are held.
func (g *Group) remove(m *member) {
	last := len(g.active) - 1
	if m.pos != last {
		moved := g.active[last]
		moved.mu.Lock()
		moved.pos = m.pos
		moved.mu.Unlock()
		g.active[m.pos] = moved
	}
	g.active[last] = nil
	g.active = g.active[:last]
	m.pos = -1
	m.bytes -= m.queue.clear()
	if !m.writing {
		delete(g.members, m.c)
	}
}

// write writes m's messages until none is waiting, then returns. A write
// that fails means the connection is over: m is removed.
func (g *Group) write(m *member) {
	m.mu.Lock()
	for {
		var err error
		for m.queue.len > 0 && err == nil {
			pm := m.queue.pop()
			m.inflight = int64(len(pm.frame))
			m.mu.Unlock()
			err = m.c.SendPrepared(pm)
			m.mu.Lock()
			m.bytes -= m.inflight
			m.inflight = -1
		}
		if err == nil && m.pos >= 0 {
			m.writing = false
			m.mu.Unlock()
			return
		}
		// m left, or its connection failed: forget it. g.mu comes first.
		m.mu.Unlock()
		g.mu.Lock()
		m.mu.Lock()
		if err != nil && m.pos >= 0 {
			g.remove(m)
		}
		if m.pos >= 0 && m.queue.len > 0 {
			g.mu.Unlock() // it joined again: go on with its new messages
			continue
		}
		if m.pos < 0 && g.members[m.c] == m {
			delete(g.members, m.c)
		}
		m.writing = false
		m.mu.Unlock()
		g.mu.Unlock()
		return
	}
}

// ring is a FIFO of messages in a buffer that grows as needed and is let go
// once empty, so that an idle member holds no buffer.
type ring struct {
	buf       []*PreparedMessage
	head, len int
}

func (r *ring) push(pm *PreparedMessage) {
	if r.len == len(r.buf) {
		buf := make([]*PreparedMessage, max(4, 2*len(r.buf)))
		n := copy(buf, r.buf[r.head:])
		copy(buf[n:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.len)%len(r.buf)] = pm
	r.len++
}

func (r *ring) pop() *PreparedMessage {
	pm := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.len--
	if r.len == 0 && len(r.buf) > smallRing {
		r.buf, r.head = nil, 0
	}
	return pm
}

// smallRing is the largest buffer an empty ring keeps: broadcasts that
// come one at a time reuse it instead of allocating it again.
const smallRing = 4

// clear empties r and returns the frame bytes it held.
func (r *ring) clear() int64 {
	var n int64
	for r.len > 0 {
		n += int64(len(r.pop().frame))
	}
	return n
}
