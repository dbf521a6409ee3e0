package bench

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	"github.com/zerows/websocket"
)

// BenchmarkFanout measures a broadcast to 1000 server conns when some
// members have stopped reading, through each library's way of not letting
// a slow member hold the others up:
//
//   - zerows: Group.Broadcast, which queues for each member and returns;
//     a member more than 256 messages behind is dropped with 1008.
//   - gorilla: the usual hub loop, WritePreparedMessage to each member
//     after SetWriteDeadline(now + hubWriteWait), dropping a member whose
//     write fails.
//   - gws: Broadcaster, which queues in each conn's write queue (no bound)
//     and returns.
//
// stuck=1% makes 10 of the 1000 conns stuck: their writes block from the
// first broadcast on, as for a client that reads nothing and whose socket
// buffers are full, until the conn is closed or a write deadline passes.
// The healthy conns discard what they get. One op is one message to every
// member; the timer runs until every healthy conn has every byte, so ns/op
// is the time to deliver to the healthy members, with at most 64
// broadcasts on their way (fanoutWindow). MB/s counts the healthy copies. stall-ms is the longest single broadcast call of the run.
func BenchmarkFanout(b *testing.B) {
	for _, f := range fanouts() {
		b.Run("lib="+f.name, func(b *testing.B) {
			for _, stuck := range []int{0, broadcastConns / 100} {
				b.Run(fmt.Sprintf("stuck=%d%%", stuck*100/broadcastConns), func(b *testing.B) {
					for _, sz := range fanoutSizes {
						b.Run("size="+sz.name, func(b *testing.B) { benchFanout(b, f, stuck, sz.n) })
					}
				})
			}
		})
	}
}

var fanoutSizes = []benchSize{{"64B", 64}, {"1KiB", 1 << 10}}

// fanoutWindow is how many broadcasts may be on their way to the healthy
// members: the benchmark waits for their delivery every fanoutWindow
// broadcasts, as an application must pace itself to what the members can
// take, whatever the library (zerows drops a member 256 behind; gws's
// queues would grow without end).
const fanoutWindow = 64

// hubWriteWait is the gorilla hub's write deadline. gorilla's chat example
// uses 10 s; a shorter one keeps the benchmark short, and each stuck
// member still costs one broadcast this long.
const hubWriteWait = 100 * time.Millisecond

// fanout is one library's broadcast to a changing set of members.
type fanout struct {
	name string
	peer peer
	// room starts a broadcast to eps, made by peer.
	room func(eps []endpoint) room
}

type room interface {
	broadcast(p []byte) error
	close()
}

// fanouts lists the libraries; peers register in init, so this is a
// function.
func fanouts() []fanout {
	return []fanout{
		{"zerows", peerNamed("zerows"), newZerowsRoom},
		{"gorilla", peerNamed("gorilla"), newGorillaRoom},
		{"gws", peerNamed("gws"), newGWSRoom},
	}
}

func peerNamed(name string) peer {
	for _, p := range peers() {
		if p.name == name {
			return p
		}
	}
	panic("bench: no peer " + name)
}

func benchFanout(b *testing.B, f fanout, stuck, n int) {
	s := new(sink)
	conns := make([]net.Conn, broadcastConns)
	stuckConns := make([]*stuckConn, 0, stuck)
	eps := make([]endpoint, broadcastConns)
	for i := range eps {
		// Stuck members are spread out, so that a loop meets them all
		// along the way rather than at the end.
		if len(stuckConns) < stuck && i%(broadcastConns/max(stuck, 1)) == 0 {
			sc := newStuckConn()
			stuckConns = append(stuckConns, sc)
			conns[i] = sc
		} else {
			conns[i] = newSinkConn(s, false)
		}
		ep, err := acceptOn(f.peer, conns[i])
		if err != nil {
			b.Fatal(err)
		}
		eps[i] = ep
	}
	r := f.room(eps)
	defer func() {
		for i, ep := range eps {
			_ = conns[i].Close()
			_ = ep.close()
		}
		r.close()
	}()
	for _, sc := range stuckConns {
		sc.stick()
	}
	healthy := broadcastConns - stuck
	msg := payload(n)
	want := s.n.Load() + int64(b.N)*int64(healthy)*int64(frameLen(n, false))
	var stall time.Duration
	b.SetBytes(int64(n) * int64(healthy))
	b.ReportAllocs()
	b.ResetTimer()
	frames := int64(healthy) * int64(frameLen(n, false))
	for i := range b.N {
		start := time.Now()
		if err := r.broadcast(msg); err != nil {
			b.Fatal(err)
		}
		stall = max(stall, time.Since(start))
		if (i+1)%fanoutWindow == 0 && !s.waitFor(want-int64(b.N-i-1)*frames, drainLimit) {
			b.Fatalf("broadcast %d: %d of %d bytes reached the healthy members", i, s.n.Load(), want-int64(b.N-i-1)*frames)
		}
	}
	if !s.waitFor(want, drainLimit) {
		b.Fatalf("%d of %d bytes reached the healthy members", s.n.Load(), want)
	}
	b.StopTimer()
	b.ReportMetric(float64(stall)/float64(time.Millisecond), "stall-ms")
}

type zerowsRoom struct{ g websocket.Group }

func newZerowsRoom(eps []endpoint) room {
	r := new(zerowsRoom)
	for _, ep := range eps {
		r.g.Join(ep.(*zerowsEP).c)
	}
	return r
}

func (r *zerowsRoom) broadcast(p []byte) error {
	return r.g.Broadcast(websocket.NewPreparedMessage(websocket.MessageBinary, p))
}

func (r *zerowsRoom) close() {}

// gorillaRoom is the hub loop: one write after another, each bounded by
// a deadline, dropping the members whose write fails.
type gorillaRoom struct{ members map[*gorilla.Conn]bool }

func newGorillaRoom(eps []endpoint) room {
	r := &gorillaRoom{members: make(map[*gorilla.Conn]bool, len(eps))}
	for _, ep := range eps {
		r.members[ep.(*gorillaEP).c] = true
	}
	return r
}

func (r *gorillaRoom) broadcast(p []byte) error {
	pm, err := gorilla.NewPreparedMessage(gorilla.BinaryMessage, p)
	if err != nil {
		return err
	}
	for c := range r.members {
		_ = c.SetWriteDeadline(time.Now().Add(hubWriteWait))
		if err := c.WritePreparedMessage(pm); err != nil {
			delete(r.members, c)
			_ = c.Close()
		}
	}
	return nil
}

func (r *gorillaRoom) close() {}

type gwsRoom struct{ conns []*gws.Conn }

func newGWSRoom(eps []endpoint) room {
	r := new(gwsRoom)
	for _, ep := range eps {
		r.conns = append(r.conns, ep.(*gwsEP).c)
	}
	return r
}

func (r *gwsRoom) broadcast(p []byte) error {
	bc := gws.NewBroadcaster(gws.OpcodeBinary, p)
	for _, c := range r.conns {
		_ = bc.Broadcast(c) // fails only for a closed conn
	}
	return bc.Close()
}

func (r *gwsRoom) close() {}

// stuckConn is a client that reads nothing and whose socket buffers are
// full: once stick is called, Write blocks until the conn is closed or the
// write deadline passes. Read blocks until the conn is closed or the read
// deadline passes.
type stuckConn struct {
	mu       sync.Mutex
	stuck    bool
	rdl, wdl time.Time
	changed  chan struct{} // closed and replaced when a deadline changes
	closed   chan struct{}
	once     sync.Once
}

func newStuckConn() *stuckConn {
	return &stuckConn{changed: make(chan struct{}), closed: make(chan struct{})}
}

func (c *stuckConn) stick() {
	c.mu.Lock()
	c.stuck = true
	c.mu.Unlock()
}

// block waits until the conn is closed or the deadline dl returns passes.
func (c *stuckConn) block(dl func() time.Time) error {
	for {
		c.mu.Lock()
		d, changed := dl(), c.changed
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !d.IsZero() {
			wait := time.Until(d)
			if wait <= 0 {
				return os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-c.closed:
			return net.ErrClosed
		case <-timeout:
			return os.ErrDeadlineExceeded
		case <-changed:
		}
	}
}

func (c *stuckConn) Read(p []byte) (int, error) {
	return 0, c.block(func() time.Time { return c.rdl })
}

func (c *stuckConn) Write(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	stuck := c.stuck
	c.mu.Unlock()
	if !stuck {
		return len(p), nil
	}
	return 0, c.block(func() time.Time { return c.wdl })
}

func (c *stuckConn) setDeadline(read, write bool, t time.Time) {
	c.mu.Lock()
	if read {
		c.rdl = t
	}
	if write {
		c.wdl = t
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *stuckConn) SetDeadline(t time.Time) error      { c.setDeadline(true, true, t); return nil }
func (c *stuckConn) SetReadDeadline(t time.Time) error  { c.setDeadline(true, false, t); return nil }
func (c *stuckConn) SetWriteDeadline(t time.Time) error { c.setDeadline(false, true, t); return nil }
func (c *stuckConn) Close() error                       { c.once.Do(func() { close(c.closed) }); return nil }
func (c *stuckConn) LocalAddr() net.Addr                { return fakeAddr }
func (c *stuckConn) RemoteAddr() net.Addr               { return fakeAddr }
