//go:build go1.25

package websocket

import (
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// NetConn deadlines moved while a call is blocked, on a fake clock
// (testing/synctest, Go 1.25): synctest.Wait says when the call is blocked,
// and the clock says when it returned.

// netConnPipeSync is a pair of NetConns on net.Pipe, made inside the
// bubble.
func netConnPipeSync(t *testing.T, opts *Options) (c1, c2 net.Conn) {
	client, server := pipe(t, opts)
	c1, c2 = NetConn(client), NetConn(server)
	t.Cleanup(func() { closeAll(c1, c2) })
	return c1, c2
}

// result is what a blocked call returned, and when.
type result struct {
	n   int
	err error
	at  time.Time
}

func goRead(c net.Conn, b []byte) <-chan result {
	done := make(chan result, 1)
	go func() {
		n, err := c.Read(b)
		done <- result{n, err, time.Now()}
	}()
	return done
}

func goWrite(c net.Conn, b []byte) <-chan result {
	done := make(chan result, 1)
	go func() {
		n, err := c.Write(b)
		done <- result{n, err, time.Now()}
	}()
	return done
}

// fillPeer writes two messages that a peer with stuckOpts that reads
// nothing takes in: one into its mailbox, and one that waits for room.
// The next Write blocks.
func fillPeer(t *testing.T, c net.Conn) {
	t.Helper()
	writeString(t, c, "a")
	writeString(t, c, "b")
}

// returned reports whether the call has returned, once every goroutine of
// the bubble is blocked.
func returned(done <-chan result) bool {
	synctest.Wait()
	return len(done) > 0
}

// TestNetConnReadDeadlineMoves: a blocked Read sees its deadline moved
// later, earlier, set where there was none, and lifted.
func TestNetConnReadDeadlineMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, c2 := netConnPipeSync(t, nil)
		b := make([]byte, 8)

		// Later: the first deadline passes and nothing happens.
		c1.SetReadDeadline(time.Now().Add(time.Second))
		done := goRead(c1, b)
		if returned(done) {
			t.Fatal("Read returned before its deadline")
		}
		c1.SetReadDeadline(time.Now().Add(time.Hour))
		time.Sleep(2 * time.Second)
		if returned(done) {
			t.Fatalf("Read returned at a deadline moved later: %v", (<-done).err)
		}
		writeString(t, c2, "x")
		if r := <-done; r.n != 1 || r.err != nil {
			t.Fatalf("Read = %d, %v", r.n, r.err)
		}

		// Earlier, and where there was none: the Read returns then.
		for _, first := range []time.Time{time.Now().Add(time.Hour), {}} {
			c1.SetReadDeadline(first)
			done := goRead(c1, b)
			if returned(done) {
				t.Fatal("Read returned before its deadline")
			}
			start := time.Now()
			c1.SetReadDeadline(start.Add(time.Second))
			r := <-done
			checkTimeout(t, r.err)
			if got := r.at.Sub(start); got != time.Second {
				t.Fatalf("Read timed out after %v, want 1s", got)
			}
		}

		// Lifted: a deadline that had passed no longer applies.
		c1.SetReadDeadline(time.Time{})
		done = goRead(c1, b)
		time.Sleep(time.Hour)
		if returned(done) {
			t.Fatalf("Read returned with no deadline: %v", (<-done).err)
		}
		writeString(t, c2, "y")
		if r := <-done; r.n != 1 || r.err != nil || b[0] != 'y' {
			t.Fatalf("Read = %q, %v", b[:r.n], r.err)
		}
	})
}

// TestNetConnWriteDeadlineMoves: a Write blocked by a peer that does not
// read sees its deadline moved later and lifted, and goes through when
// the peer reads; one given a deadline while blocked returns then. A
// second Write, waiting for the first to finish, times out as well.
func TestNetConnWriteDeadlineMoves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, c2 := netConnPipeSync(t, stuckOpts)
		big := make([]byte, 1<<20)

		fillPeer(t, c1)
		c1.SetWriteDeadline(time.Now().Add(time.Second))
		done := goWrite(c1, big)
		if returned(done) {
			t.Fatalf("Write returned before the peer read: %v", (<-done).err)
		}
		c1.SetWriteDeadline(time.Now().Add(time.Hour))
		time.Sleep(2 * time.Second)
		c1.SetWriteDeadline(time.Time{})
		time.Sleep(10 * time.Second) // under WriteTimeout/2, the Conn's own bound

		if returned(done) {
			t.Fatalf("Write returned at a deadline moved later: %v", (<-done).err)
		}
		if got := readString(t, c2, 2+len(big)); got != "ab"+string(big) {
			t.Fatal("the peer read other bytes")
		}
		if r := <-done; r.n != len(big) || r.err != nil {
			t.Fatalf("Write = %d, %v", r.n, r.err)
		}

		// The peer reads no more: the first Write blocks in its frame,
		// the second waits for it.
		fillPeer(t, c1)
		first, second := goWrite(c1, big), goWrite(c1, big)
		if returned(first) || returned(second) {
			t.Fatal("a Write returned with nothing reading")
		}
		start := time.Now()
		c1.SetWriteDeadline(start.Add(time.Second))
		for _, done := range []<-chan result{first, second} {
			r := <-done
			checkTimeout(t, r.err)
			if got := r.at.Sub(start); got != time.Second {
				t.Fatalf("Write timed out after %v, want 1s", got)
			}
		}
	})
}

// TestNetConnCloseEndsBlockedCalls: Close ends blocked calls at once, on
// the fake clock, without waiting for any timeout.
func TestNetConnCloseEndsBlockedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, c2 := netConnPipeSync(t, stuckOpts)
		c1.SetDeadline(time.Now().Add(time.Hour))
		reading := goRead(c1, make([]byte, 1))
		fillPeer(t, c1)
		writing := goWrite(c1, make([]byte, 1<<20))
		if returned(reading) || returned(writing) {
			t.Fatal("a call returned with nothing to do")
		}
		start := time.Now()
		must(t, c1.Close())
		// Only now: a peer that reads could let the write finish before
		// Close, and the call would not be a blocked one.
		go io.Copy(io.Discard, c2)
		for _, done := range []<-chan result{reading, writing} {
			r := <-done
			if !errors.Is(r.err, net.ErrClosed) || r.at != start {
				t.Fatalf("blocked call ended by Close with %v after %v", r.err, r.at.Sub(start))
			}
		}
	})
}
