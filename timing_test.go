//go:build go1.25

package websocket

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// The timeouts run on synctest's fake clock: each test takes no real time
// and cannot flake on a slow machine.

// TestCloseTimeout closes against a peer that never answers: Close returns
// after exactly CloseTimeout and reports an abnormal closure.
func TestCloseTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		go io.Copy(io.Discard, b) // reads everything, answers nothing
		c := newConn(a, nil, false, (&Options{CloseTimeout: 3 * time.Second}).withDefaults(), "", nil)
		c.startReader()
		start := time.Now()
		must(t, c.Close())
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("Close took %v, want the close timeout of 3s", d)
		}
		if ce := c.Err().(*CloseError); ce.Code != CloseAbnormalClosure || !strings.Contains(ce.Reason, "no close frame") {
			t.Errorf("Err() = %v, want 1006 no close frame", ce)
		}
	})
}

// TestCloseDefaultTimeout checks the documented 5 s default.
func TestCloseDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		go io.Copy(io.Discard, b)
		c := newConn(a, nil, false, (*Options)(nil).withDefaults(), "", nil)
		c.startReader()
		start := time.Now()
		c.Close()
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Close took %v, want 5s", d)
		}
	})
}

// TestClientWaitsForServerToCloseTCP: after the closing handshake a client
// waits for the server to drop TCP (RFC 6455 §7.1.1), at most CloseTimeout.
func TestClientWaitsForServerToCloseTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		c := newConn(a, nil, true, (&Options{CloseTimeout: 2 * time.Second}).withDefaults(), "", nil)
		c.startReader()
		p := &rawPeer{t: t, nc: b, br: bufioReader(b)}
		b.Write(rawFrame(0x88, nil, []byte{0x03, 0xe8}))
		if b0, _, err := p.readFrame(); err != nil || b0 != 0x88 {
			t.Fatalf("reply = %x, %v; want close", b0, err)
		}
		start := time.Now()
		<-c.Done()
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("client closed TCP after %v, want it to wait 2s for the server", d)
		}
		if CloseStatus(c.Err()) != CloseNormalClosure {
			t.Errorf("Err() = %v", c.Err())
		}
	})
}

// TestKeepalive answers five keepalive pings, checks their spacing and that
// the connection stays open, then stops answering and checks that the
// connection is dropped after PongTimeout.
func TestKeepalive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		o := &Options{PingInterval: 30 * time.Second, PongTimeout: 10 * time.Second}
		c := newConn(a, nil, false, o.withDefaults(), "", nil)
		c.startReader()
		p := &rawPeer{t: t, nc: b, br: bufioReader(b)}
		start := time.Now()
		for i := range 5 {
			b0, payload, err := p.readFrame()
			if err != nil || b0 != 0x89 {
				t.Fatalf("frame %x %v, want ping", b0, err)
			}
			if want := time.Duration(i+1) * 30 * time.Second; time.Since(start) != want {
				t.Errorf("ping %d at %v, want %v", i, time.Since(start), want)
			}
			p.write(rawFrame(0x8a, testKey, payload))
		}
		if c.Err() != nil {
			t.Fatalf("connection closed though pongs came: %v", c.Err())
		}
		if _, _, err := p.readFrame(); err != nil { // the sixth ping, unanswered
			t.Fatal(err)
		}
		pinged := time.Now()
		go io.Copy(io.Discard, b)
		<-c.Done()
		if d := time.Since(pinged); d != 10*time.Second {
			t.Errorf("dropped %v after the unanswered ping, want 10s", d)
		}
		if ce := c.Err().(*CloseError); ce.Code != CloseAbnormalClosure || !strings.Contains(ce.Reason, "no pong") {
			t.Errorf("Err() = %v, want 1006 no pong", ce)
		}
	})
}

// TestKeepaliveReadByWait: pongs read by an application blocked in Wait
// keep the connection open without a reader goroutine. A pong missing
// while only Wait reads starts one and gets one more PongTimeout.
func TestKeepaliveReadByWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		defer b.Close()
		o := &Options{PingInterval: 30 * time.Second, PongTimeout: 10 * time.Second}
		c := newConn(a, nil, false, o.withDefaults(), "", nil)
		waitErr := make(chan error, 1)
		go func() {
			_, err := c.Wait()
			waitErr <- err
		}()
		p := &rawPeer{t: t, nc: b, br: bufioReader(b)}
		for range 3 {
			b0, payload, err := p.readFrame()
			if err != nil || b0 != 0x89 {
				t.Fatalf("frame %x %v, want ping", b0, err)
			}
			p.write(rawFrame(0x8a, testKey, payload))
		}
		synctest.Wait()
		if c.readerStarted.Load() {
			t.Fatal("a reader goroutine started though Wait read every pong")
		}
		if _, _, err := p.readFrame(); err != nil { // the fourth ping, unanswered
			t.Fatal(err)
		}
		pinged := time.Now()
		go io.Copy(io.Discard, b)
		if err := <-waitErr; CloseStatus(err) != CloseAbnormalClosure {
			t.Errorf("Wait = %v, want 1006", err)
		}
		<-c.Done()
		if d := time.Since(pinged); d != 20*time.Second {
			t.Errorf("dropped %v after the unanswered ping, want 20s", d)
		}
		if ce := c.Err().(*CloseError); !strings.Contains(ce.Reason, "no pong") {
			t.Errorf("Err() = %v, want no pong", ce)
		}
	})
}

// TestWaitTimeoutOnFakeClock: WaitTimeout returns after exactly its
// duration, and the next message still arrives.
func TestWaitTimeoutOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := pipe(t, nil)
		start := time.Now()
		if _, err := server.WaitTimeout(time.Minute); err != context.DeadlineExceeded {
			t.Fatalf("WaitTimeout = %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Errorf("WaitTimeout took %v", d)
		}
		must(t, client.SendText("late"))
		if m, err := server.Wait(); err != nil || string(m.Data) != "late" {
			t.Errorf("Wait = %q, %v", m.Data, err)
		}
		client.Close()
	})
}

// TestStallTimeout: a peer that stops in the middle of a frame, in its
// header or its payload, is dropped after exactly StallTimeout; a peer idle
// between messages, for however long, is not.
func TestStallTimeout(t *testing.T) {
	full := clientFrame(0x82, "0123456789")
	for name, stall := range map[string][]byte{"header": full[:1], "payload": full[:8]} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				defer b.Close()
				c := newConn(a, nil, false, (&Options{StallTimeout: 7 * time.Second}).withDefaults(), "", nil)
				waitErr := make(chan error, 1)
				go func() {
					for {
						if _, err := c.Wait(); err != nil {
							waitErr <- err
							return
						}
					}
				}()
				p := &rawPeer{t: t, nc: b, br: bufioReader(b)}
				p.write(full)
				time.Sleep(time.Hour)       // idle between messages: not a stall
				p.write(full[:4], full[4:]) // a frame in two pieces: not a stall
				time.Sleep(time.Hour)
				p.write(stall)
				start := time.Now()
				err := <-waitErr
				if d := time.Since(start); d < 7*time.Second/2 || d > 7*time.Second {
					t.Errorf("dropped %v after the stall, want between 3.5s and 7s", d)
				}
				if ce, ok := err.(*CloseError); !ok || ce.Code != CloseAbnormalClosure || !strings.Contains(ce.Reason, "middle of a frame") {
					t.Errorf("Wait = %v, want 1006 stalled in the middle of a frame", err)
				}
			})
		})
	}
}
