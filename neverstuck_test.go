//go:build go1.25

package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Blocking calls against a peer that misbehaves are bounded. These run on
// synctest's fake clock over net.Pipe, whose writes block until the other
// end reads: a peer that never reads is one that never calls Read.

// serverOn makes a server Conn on one end of a pipe and returns the raw
// other end.
func serverOn(t *testing.T, o *Options) (*Conn, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { b.Close() })
	return newConn(a, nil, false, o.withDefaults(), "", nil), b
}

func TestSendBoundedByWriteTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout, want time.Duration
	}{{10 * time.Second, 10 * time.Second}, {0, DefaultWriteTimeout}} {
		t.Run(tc.want.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, _ := serverOn(t, &Options{WriteTimeout: tc.timeout})
				start := time.Now()
				err := c.Send([]byte("nobody reads this"))
				if d := time.Since(start); d < tc.want/2 || d > tc.want {
					t.Errorf("Send returned after %v, want between %v and %v", d, tc.want/2, tc.want)
				}
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("Send = %v, want a deadline error", err)
				}
				<-c.Done()
				if ce := c.Err().(*CloseError); ce.Code != CloseAbnormalClosure || !strings.Contains(ce.Reason, "write did not finish") {
					t.Errorf("Err() = %v, want 1006 write did not finish", ce)
				}
				if err := c.Send([]byte("again")); !errors.Is(err, ErrClosed) {
					t.Errorf("Send after a failed write = %v, want ErrClosed", err)
				}
			})
		})
	}
}

// TestKeepaliveWhileSendBlocked: keepalive drops a peer that neither reads
// nor answers pings at PingInterval + PongTimeout, even while a Send to it
// is blocked and holds the write lock.
func TestKeepaliveWhileSendBlocked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := serverOn(t, &Options{PingInterval: 30 * time.Second, PongTimeout: 10 * time.Second, WriteTimeout: -1})
		start := time.Now()
		err := c.Send([]byte("nobody reads this"))
		if d := time.Since(start); d != 40*time.Second {
			t.Errorf("Send returned after %v, want 40s", d)
		}
		if err == nil {
			t.Error("Send succeeded")
		}
		<-c.Done()
		if ce := c.Err().(*CloseError); !strings.Contains(ce.Reason, "no pong") {
			t.Errorf("Err() = %v, want no pong", ce)
		}
	})
}

// TestUnsolicitedPongsAreNotLiveness: a peer that reads nothing but sends
// pongs of its own is dropped as if it sent none; only a pong that echoes
// the keepalive ping counts.
func TestUnsolicitedPongsAreNotLiveness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := serverOn(t, &Options{PingInterval: 30 * time.Second, PongTimeout: 10 * time.Second, WriteTimeout: -1})
		c.startReader()
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			for i := byte(0); ; i++ {
				if _, err := peer.Write(rawFrame(0x8a, testKey, []byte{i, i, i, i, i, i, i, i})); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
		start := time.Now()
		<-c.Done()
		close(stop)
		<-stopped
		peer.Close()
		if d := time.Since(start); d != 40*time.Second {
			t.Errorf("dropped after %v, want 40s", d)
		}
		if ce := c.Err().(*CloseError); !strings.Contains(ce.Reason, "no pong") {
			t.Errorf("Err() = %v, want no pong", ce)
		}
	})
}

// TestSendContextWhileWaiting: a SendContext whose context ends while
// another send holds the connection returns ctx.Err() and leaves the
// connection as it was.
func TestSendContextWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := serverOn(t, &Options{WriteTimeout: -1})
		first := make(chan error, 1)
		go func() { first <- c.Send([]byte("first")) }()
		synctest.Wait() // first holds the write lock, blocked on the pipe
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := c.SendContext(ctx, Message{MessageText, []byte("second")}); err != context.DeadlineExceeded {
			t.Fatalf("SendContext = %v, want DeadlineExceeded", err)
		}
		if c.isClosing() {
			t.Fatal("the connection failed though nothing of the message was written")
		}
		p := &rawPeer{t: t, nc: peer, br: bufioReader(peer)}
		if _, data, err := p.readFrame(); err != nil || string(data) != "first" {
			t.Fatalf("read %q, %v", data, err)
		}
		must(t, <-first)
		go p.readFrame()
		must(t, c.SendContext(context.Background(), Message{MessageText, []byte("third")}))
	})
}

// TestSendContextMidFrame: a context that ends while the frame is being
// written fails the connection.
func TestSendContextMidFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _ := serverOn(t, &Options{WriteTimeout: -1})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := c.SendContext(ctx, Message{MessageBinary, []byte("nobody reads this")})
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("SendContext returned after %v, want 3s", d)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SendContext = %v, want it to wrap DeadlineExceeded", err)
		}
		if !c.isClosing() {
			t.Error("the connection is still open after a frame was cut")
		}
		<-c.Done()
		if ce, _ := c.Err().(*CloseError); ce == nil || !strings.Contains(ce.Reason, "context") {
			t.Errorf("Err() = %v, want the reason to name the send's context", c.Err())
		}
	})
}

// TestSendContextEndsAfterFrame: a context that ends just as the frame
// has gone out leaves no past write deadline behind: with WriteTimeout
// off, nothing else would move it, and the next send would fail.
func TestSendContextEndsAfterFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := serverOn(t, &Options{WriteTimeout: -1})
		p := &rawPeer{t: t, nc: peer, br: bufioReader(peer)}
		ctx, cancel := context.WithCancel(context.Background())
		read := make(chan struct{})
		go func() {
			p.readFrame()
			cancel() // the frame is out; SendContext has not returned yet
			close(read)
		}()
		must(t, c.lockWriter())
		c.writeWithin(ctx, func() error {
			err := writeMessageLocked(c, opBinary, []byte("one"))
			<-read // the context ends before writeWithin looks at it
			return err
		})
		c.wmu.Unlock()
		go p.readFrame()
		if err := c.Send([]byte("two")); err != nil {
			t.Fatalf("Send after a context that ended after its frame = %v", err)
		}
	})
}

// TestPeerCloseAnsweredAfterTake (B5): a handler that took its message
// with WaitTimeout and then waits on Done sees the peer's close at once,
// and the peer's Close does not wait for CloseTimeout.
func TestPeerCloseAnsweredAfterTake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := pipe(t, nil)
		must(t, client.SendText("one"))
		if _, err := server.WaitTimeout(time.Minute); err != nil {
			t.Fatal(err)
		}
		handlerDone := make(chan struct{})
		go func() {
			<-server.Done()
			close(handlerDone)
		}()
		synctest.Wait()
		start := time.Now()
		must(t, client.Close())
		<-handlerDone
		if d := time.Since(start); d != 0 {
			t.Errorf("the close took %v, want no wait", d)
		}
	})
}

// TestSendAfterPeerClose: once the peer's close frame has been read and
// answered, Send fails.
func TestSendAfterPeerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := serverOn(t, nil)
		c.CountMessages() // the application looks: nothing is queued
		p := &rawPeer{t: t, nc: peer, br: bufioReader(peer)}
		p.write(rawFrame(0x88, testKey, []byte{0x03, 0xe8}))
		if b0, _, err := p.readFrame(); err != nil || b0 != 0x88 {
			t.Fatalf("reply %#x %v, want close", b0, err)
		}
		if err := c.Send([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Errorf("Send after the peer's close = %v, want ErrClosed", err)
		}
		go io.Copy(io.Discard, peer)
		peer.Close()
		<-c.Done()
	})
}

// TestPingFloodWhileNotReading (M2): a peer that sends a 125-byte ping
// every millisecond and reads nothing holds no send past WriteTimeout,
// and the pongs owed to it stay bounded.
func TestPingFloodWhileNotReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := serverOn(t, &Options{WriteTimeout: 10 * time.Second})
		c.startReader()
		stop, stopped := make(chan struct{}), make(chan struct{})
		maxOwed := 0
		go func() {
			defer close(stopped)
			ping := rawFrame(0x89, testKey, make([]byte, 125))
			for {
				if _, err := peer.Write(ping); err != nil {
					return
				}
				c.pongMu.Lock()
				maxOwed = max(maxOwed, len(c.pongs))
				c.pongMu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
		start := time.Now()
		err := c.SendText("hello")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("SendText returned after %v, want at most WriteTimeout (10s)", d)
		}
		if err == nil {
			t.Error("SendText succeeded though the peer reads nothing")
		}
		<-c.Done()
		close(stop)
		<-stopped
		peer.Close()
		if maxOwed > maxQueuedPongs {
			t.Errorf("%d pongs owed at once, want at most %d", maxOwed, maxQueuedPongs)
		}
	})
}

// TestSendAfterIdle: a write deadline that passed while no write was under
// way does not fail the next send.
func TestSendAfterIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := serverOn(t, &Options{WriteTimeout: 10 * time.Second})
		p := &rawPeer{t: t, nc: peer, br: bufioReader(peer)}
		for i := range 3 {
			time.Sleep(time.Hour)
			read := make(chan error)
			go func() {
				_, _, err := p.readFrame()
				read <- err
			}()
			if err := c.SendText("after an hour"); err != nil {
				t.Fatalf("send %d after an idle hour: %v", i, err)
			}
			must(t, <-read)
		}
		peer.Close()
		<-c.Done()
	})
}
