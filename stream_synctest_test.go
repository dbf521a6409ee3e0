//go:build go1.25

package websocket

import (
	"bufio"
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
)

// TestStreamSendWaits: a Send made while a streamed message is open waits
// for its Close, and then goes out whole after it; one still waiting when
// the connection closes returns ErrClosed. synctest.Wait tells when the
// Send is blocked for good, so "it has not been sent" is not a guess.
func TestStreamSendWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		c := newConn(b, nil, false, (&Options{}).withDefaults(), "", nil)
		frames := make(chan rawFrameIn, 16)
		go func() { // the peer: collects frames, answers a close as a client
			defer close(frames)
			br := bufio.NewReader(a)
			for {
				f, err := readRawFrame(br)
				if err != nil {
					return
				}
				if f.b0 == 0x88 {
					a.Write(rawFrame(0x88, testKey, f.payload))
				}
				frames <- f
			}
		}()
		expect := func(b0 byte, payload string) {
			t.Helper()
			f := <-frames
			if f.b0 != b0 || string(f.payload) != payload {
				t.Fatalf("frame %#x %q, want %#x %q", f.b0, f.payload, b0, payload)
			}
		}
		nothingMore := func() {
			t.Helper()
			synctest.Wait()
			select {
			case f := <-frames:
				t.Fatalf("frame %#x %q while the stream is open", f.b0, f.payload)
			default:
			}
		}

		w, err := c.SendStream(context.Background(), MessageBinary)
		must(t, err)
		w.Write([]byte("one"))
		sent := make(chan error, 1)
		go func() { sent <- c.Send([]byte("whole")) }()
		go func() { sent <- c.SendText("text") }()
		expect(0x02, "one")
		nothingMore()
		if len(sent) != 0 {
			t.Fatalf("a Send returned %v while the stream was open", <-sent)
		}
		w.Write([]byte("two"))
		must(t, w.Close())
		expect(0x00, "two")
		expect(0x80, "")
		for range 2 { // the two whole messages, in either order
			f := <-frames
			if f.b0 != 0x82 && f.b0 != 0x81 {
				t.Fatalf("frame %#x %q, want a whole message", f.b0, f.payload)
			}
		}
		must(t, <-sent)
		must(t, <-sent)

		w, err = c.SendStream(context.Background(), MessageText)
		must(t, err)
		go func() { sent <- c.Send([]byte("never")) }()
		nothingMore()
		must(t, c.CloseWith(CloseNormalClosure, ""))
		expect(0x88, "\x03\xe8") // between the (no) fragments
		if err := <-sent; !errors.Is(err, ErrClosed) {
			t.Fatalf("Send waiting at close = %v", err)
		}
		if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after close = %v", err)
		}
		a.Close()
		<-c.Done()
		for range frames {
		}
	})
}
