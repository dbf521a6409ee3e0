package websocket

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Streamed messages: SendStream and WaitStream, over net.Pipe and TCP with
// Conn pairs, and against a raw peer where the frames on the wire matter.

// streamPipe is pipe without the reader goroutines, so that WaitStream can
// read the socket; the peer must read while one side writes.
func streamPipe(t testing.TB, opts *Options) (client, server *Conn) {
	a, b := net.Pipe()
	return connPair(t, a, b, opts)
}

// streamTransports runs f over net.Pipe and TCP, with no reader goroutine.
func streamTransports(t *testing.T, opts *Options, f func(t *testing.T, client, server *Conn)) {
	for _, tr := range []struct {
		name string
		pair func(testing.TB, *Options) (*Conn, *Conn)
	}{{"pipe", streamPipe}, {"tcp", tcpPair}} {
		t.Run(tr.name, func(t *testing.T) {
			client, server := tr.pair(t, opts)
			f(t, client, server)
		})
	}
}

// streamOut sends p as one streamed message of type typ, in writes of the
// sizes in chunks, taken in turn.
func streamOut(c *Conn, typ MessageType, p []byte, chunks ...int) error {
	w, err := c.SendStream(context.Background(), typ)
	if err != nil {
		return err
	}
	for i := 0; len(p) > 0; i++ {
		k := min(chunks[i%len(chunks)], len(p))
		if _, err := w.Write(p[:k]); err != nil {
			w.Close()
			return err
		}
		p = p[k:]
	}
	return w.Close()
}

// textPayload returns about n bytes of UTF-8 with characters of every
// length, cut on a character boundary.
func textPayload(n int) []byte {
	s := strings.Repeat("héllo, wörld ✓ 𝄞 ", n/20+1)
	return []byte(s[:runeStart(s, n)])
}

// streamIn waits for a streamed message and reads it whole.
func streamIn(c *Conn, limit int64) (MessageType, []byte, error) {
	typ, r, err := c.WaitStream(limit)
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(r)
	return typ, b, err
}

// expectCutShort checks that err is a stream cut short by a close with
// code want.
func expectCutShort(t *testing.T, err error, want CloseCode) {
	t.Helper()
	if !errors.Is(err, io.ErrUnexpectedEOF) || CloseStatus(err) != want {
		t.Fatalf("stream error %v, want unexpected EOF and close %d", err, want)
	}
}

// quickClose bounds the closing handshake of tests whose raw peer does not
// close TCP: a failed connection sends its close frame at once, then waits
// this long for the peer to hang up.
func quickClose(o Options) *Options {
	o.CloseTimeout = 50 * time.Millisecond
	return &o
}

// answerClosing reads frames until a close, answers it masked as a client
// does, and returns.
func answerClosing(peer *rawPeer) {
	for {
		f, err := readRawFrame(peer.br)
		if err != nil {
			return
		}
		if f.b0 == 0x88 {
			peer.nc.Write(rawFrame(0x88, testKey, f.payload))
			return
		}
	}
}

// TestStreamRoundTrip sends messages of many sizes both ways in writes that
// split characters and pass the fragment size, and reads them back past
// MaxMessageSize.
func TestStreamRoundTrip(t *testing.T) {
	opts := &Options{MaxMessageSize: 1 << 10}
	streamTransports(t, opts, func(t *testing.T, client, server *Conn) {
		for _, size := range []int{0, 1, 1000, maxStreamFragment + 7, 2*maxStreamFragment + 5} {
			for _, typ := range []MessageType{MessageBinary, MessageText} {
				p := textPayload(size)
				if typ == MessageBinary {
					p = jsonLike(size, uint64(size))
				}
				for _, dir := range [][2]*Conn{{client, server}, {server, client}} {
					sent := make(chan error, 1)
					go func() { sent <- streamOut(dir[0], typ, p, 1, 2, 3, 5000, maxStreamFragment+1) }()
					gotType, got, err := streamIn(dir[1], 4<<20)
					must(t, err)
					must(t, <-sent)
					if gotType != typ || !bytes.Equal(got, p) {
						t.Fatalf("%v of %d bytes: got %v of %d bytes", typ, len(p), gotType, len(got))
					}
				}
			}
		}
		// Whole messages go on as before, both ways.
		go client.SendText("after")
		m, err := server.Wait()
		if err != nil || string(m.Data) != "after" {
			t.Fatalf("Wait after streams = %q, %v", m.Data, err)
		}
	})
}

// TestStreamWriterFrames checks the fragments on the wire: the opcode on
// the first only, FIN on the last only, none over maxStreamFragment, an
// empty stream as one empty message, and text held back until its
// characters are whole.
func TestStreamWriterFrames(t *testing.T) {
	peer, c := rawServerConn(t, nil, nil)
	expect := func(b0 byte, payload string) {
		t.Helper()
		gotB0, got, err := peer.readFrame()
		if err != nil || gotB0 != b0 || string(got) != payload {
			t.Fatalf("frame %#x %q (%v), want %#x %q", gotB0, got, err, b0, payload)
		}
	}
	ctx := context.Background()

	w, err := c.SendStream(ctx, MessageBinary)
	must(t, err)
	w.Write([]byte("first"))
	expect(0x02, "first") // sent at once, not buffered
	big := bytes.Repeat([]byte{'x'}, maxStreamFragment+3)
	w.Write(big)
	expect(0x00, string(big[:maxStreamFragment]))
	expect(0x00, "xxx")
	must(t, w.Close())
	expect(0x80, "")
	if _, err := w.Write([]byte("late")); err != errStreamClosed {
		t.Fatalf("Write after Close = %v", err)
	}

	w, _ = c.SendStream(ctx, MessageBinary)
	must(t, w.Close())
	expect(0x82, "")

	w, _ = c.SendStream(ctx, MessageText)
	w.Write([]byte("a\xe2"))
	expect(0x01, "a")
	w.Write([]byte("\x82"))
	if n, err := w.Write([]byte("\xff")); n != 0 || !errors.Is(err, errInvalidUTF8) {
		t.Fatalf("Write of invalid UTF-8 = %d, %v", n, err)
	}
	w.Write([]byte("\xacb"))
	var got []byte
	for !bytes.HasSuffix(got, []byte("b")) { // the euro sign, in one or more fragments
		b0, p, err := peer.readFrame()
		if err != nil || b0 != 0x00 {
			t.Fatalf("frame %#x, %v", b0, err)
		}
		got = append(got, p...)
	}
	if string(got) != "€b" {
		t.Fatalf("text fragments %q, want %q", got, "€b")
	}
	w.Write([]byte("c\xf0\x9d"))
	expect(0x00, "c")
	if err := w.Close(); !errors.Is(err, errInvalidUTF8) {
		t.Fatalf("Close inside a character = %v", err)
	}
	expect(0x80, "") // the message ends without the partial character
}

// TestStreamControlBetweenFragments: while a streamed message is open on
// one side, a ping from the other is answered between its fragments, and
// a streamed read answers pings that come between fragments.
func TestStreamControlBetweenFragments(t *testing.T) {
	t.Run("send", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		w, err := c.SendStream(context.Background(), MessageBinary)
		must(t, err)
		w.Write([]byte("one"))
		go c.Wait() // reads the ping; ends at cleanup
		peer.write(clientFrame(0x89, "ping"))
		for _, want := range []struct {
			b0      byte
			payload string
		}{{0x02, "one"}, {0x8a, "ping"}} {
			b0, p, err := peer.readFrame()
			if err != nil || b0 != want.b0 || string(p) != want.payload {
				t.Fatalf("frame %#x %q (%v), want %#x %q", b0, p, err, want.b0, want.payload)
			}
		}
		w.Write([]byte("two"))
		must(t, w.Close())
		for _, want := range []byte{0x00, 0x80} {
			if b0, _, err := peer.readFrame(); err != nil || b0 != want {
				t.Fatalf("frame %#x (%v), want %#x", b0, err, want)
			}
		}
	})
	t.Run("receive", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		peer.write(clientFrame(0x02, "abc"), clientFrame(0x89, "p1"), clientFrame(0x00, "def"), clientFrame(0x8a, "unasked"), clientFrame(0x80, "ghi"))
		_, got, err := streamIn(c, 0)
		if err != nil || string(got) != "abcdefghi" {
			t.Fatalf("streamed read %q, %v", got, err)
		}
		if b0, p, err := peer.readFrame(); err != nil || b0 != 0x8a || string(p) != "p1" {
			t.Fatalf("pong %#x %q, %v", b0, p, err)
		}
	})
	// A Ping round trip while a streamed message is half sent: the
	// receiver's streamed read answers it.
	streamTransports(t, nil, func(t *testing.T, client, server *Conn) {
		done := make(chan error, 1)
		go func() {
			_, got, err := streamIn(server, 0)
			if err == nil && string(got) != "beforeafter" {
				err = errors.New("got " + string(got))
			}
			done <- err
		}()
		w, err := client.SendStream(context.Background(), MessageText)
		must(t, err)
		w.Write([]byte("before"))
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		must(t, client.Ping(ctx))
		w.Write([]byte("after"))
		must(t, w.Close())
		must(t, <-done)
	})
}

// TestStreamPeerClosesMidStream: a close frame, or the TCP connection
// ending, between fragments cuts the streamed read short with the close's
// code; the close is answered.
func TestStreamPeerClosesMidStream(t *testing.T) {
	t.Run("close frame", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		peer.write(clientFrame(0x02, "abc"), clientFrame(0x88, "\x03\xe9bye"))
		_, r, err := c.WaitStream(0)
		must(t, err)
		got, err := io.ReadAll(r)
		if string(got) != "abc" {
			t.Fatalf("read %q before the close", got)
		}
		expectCutShort(t, err, CloseGoingAway)
		peer.expectClose(CloseGoingAway)
		if _, err := r.Read(make([]byte, 1)); CloseStatus(err) != CloseGoingAway {
			t.Fatalf("Read after the end = %v", err)
		}
	})
	t.Run("tcp", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		peer.write(clientFrame(0x02, "abc"), []byte{0x80, 0x85}) // a header cut short
		peer.nc.Close()
		_, got, err := streamIn(c, 0)
		if string(got) != "abc" {
			t.Fatalf("read %q before the end", got)
		}
		expectCutShort(t, err, CloseAbnormalClosure)
	})
	// The sender closes the connection in the middle of its own stream:
	// the close frame goes between fragments, the reader is cut short, and
	// the stream's writes fail.
	streamTransports(t, nil, func(t *testing.T, client, server *Conn) {
		read := make(chan error, 1)
		go func() {
			_, _, err := streamIn(server, 0)
			read <- err
		}()
		w, err := client.SendStream(context.Background(), MessageBinary)
		must(t, err)
		w.Write([]byte("partial"))
		must(t, client.CloseWith(CloseNormalClosure, "done"))
		expectCutShort(t, <-read, CloseNormalClosure)
		if _, err := w.Write([]byte("more")); !errors.Is(err, ErrClosed) {
			t.Fatalf("Write after close = %v", err)
		}
		if err := w.Close(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Close after close = %v", err)
		}
		if _, err := client.SendStream(context.Background(), MessageBinary); !errors.Is(err, ErrClosed) {
			t.Fatalf("SendStream after close = %v", err)
		}
	})
}

// threeFragments is a binary message in three fragments, then a text
// message "next".
var threeFragments = [][]byte{clientFrame(0x02, "aa"), clientFrame(0x00, "bb"), clientFrame(0x80, "cc"), clientFrame(0x81, "next")}

// TestStreamAbandoned: a streamed message left half read is discarded by
// the next call that takes a message, by the reader's Close, or by
// CloseWith; the reader then says so.
func TestStreamAbandoned(t *testing.T) {
	take := map[string]func(*Conn) (string, error){
		"Wait": func(c *Conn) (string, error) {
			m, err := c.Wait()
			return string(m.Data), err
		},
		"WaitContext": func(c *Conn) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), testWait)
			defer cancel()
			m, err := c.WaitContext(ctx)
			return string(m.Data), err
		},
		"WaitStream": func(c *Conn) (string, error) {
			_, b, err := streamIn(c, 0)
			return string(b), err
		},
		"Close": func(c *Conn) (string, error) {
			if err := c.rstream.Load().Close(); err != nil {
				return "", err
			}
			_, b, err := streamIn(c, 0)
			return string(b), err
		},
	}
	for name, next := range take {
		t.Run(name, func(t *testing.T) {
			checkNoLeaks(t)
			peer, c := rawServerConn(t, nil, nil)
			peer.write(threeFragments...)
			_, r, err := c.WaitStream(0)
			must(t, err)
			var b [3]byte
			if n, err := io.ReadFull(r, b[:]); n != 3 || err != nil {
				t.Fatalf("first read %d, %v", n, err)
			}
			got, err := next(c)
			if err != nil || got != "next" {
				t.Fatalf("next message %q, %v", got, err)
			}
			if _, err := r.Read(b[:]); err != errStreamDiscarded {
				t.Fatalf("Read of the abandoned stream = %v", err)
			}
		})
	}
	// The same between two Conns, over net.Pipe (where the sender waits
	// for the discarding reads) and TCP.
	streamTransports(t, nil, func(t *testing.T, client, server *Conn) {
		p := jsonLike(3*maxStreamFragment, 7)
		sent := make(chan error, 1)
		go func() {
			if err := streamOut(client, MessageBinary, p, 1000); err != nil {
				sent <- err
				return
			}
			sent <- client.SendText("next")
		}()
		_, r, err := server.WaitStream(int64(len(p)))
		must(t, err)
		if _, err := io.ReadFull(r, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		m, err := server.Wait()
		if err != nil || string(m.Data) != "next" {
			t.Fatalf("Wait = %q, %v", m.Data, err)
		}
		must(t, <-sent)
	})
	t.Run("CloseWith", func(t *testing.T) {
		checkNoLeaks(t)
		peer, c := rawServerConn(t, nil, nil)
		peer.write(threeFragments[:2]...)
		_, r, err := c.WaitStream(0)
		must(t, err)
		r.Read(make([]byte, 1))
		go func() {
			peer.write(threeFragments[2:]...)
			answerClosing(peer)
		}()
		must(t, c.CloseWith(CloseNormalClosure, ""))
		if _, err := r.Read(make([]byte, 1)); err != errStreamDiscarded {
			t.Fatalf("Read after CloseWith = %v", err)
		}
		if CloseStatus(c.Err()) != CloseNormalClosure {
			t.Fatalf("Err = %v", c.Err())
		}
	})
	t.Run("still checked", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, quickClose(Options{}))
		peer.write(clientFrame(0x01, "fine"), clientFrame(0x80, "\xff"))
		_, r, err := c.WaitStream(0)
		must(t, err)
		r.Read(make([]byte, 2))
		if err := r.Close(); CloseStatus(err) != CloseInvalidFramePayloadData {
			t.Fatalf("Close over invalid text = %v", err)
		}
		peer.expectClose(CloseInvalidFramePayloadData)
	})
	// The reader goroutine, started without taking a message, leaves the
	// stream alone and takes over at its end.
	t.Run("Done", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		peer.write(threeFragments...)
		_, r, err := c.WaitStream(0)
		must(t, err)
		c.Done()
		got, err := io.ReadAll(r)
		if err != nil || string(got) != "aabbcc" {
			t.Fatalf("streamed read %q, %v", got, err)
		}
		m, err := c.Wait()
		if err != nil || string(m.Data) != "next" {
			t.Fatalf("Wait = %q, %v", m.Data, err)
		}
		if _, _, err := c.WaitStream(0); err != ErrStreamUnavailable {
			t.Fatalf("WaitStream with a reader goroutine = %v", err)
		}
	})
}

// TestStreamLimit: the limit may pass MaxMessageSize; the fragment that
// would pass it fails with 1009 before it is read.
func TestStreamLimit(t *testing.T) {
	peer, c := rawServerConn(t, nil, quickClose(Options{MaxMessageSize: 100}))
	p := strings.Repeat("x", 400)
	peer.write(clientFrame(0x02, p), clientFrame(0x80, p))
	_, got, err := streamIn(c, 1000)
	if err != nil || len(got) != 800 {
		t.Fatalf("800 bytes under a limit of 1000: %d bytes, %v", len(got), err)
	}
	peer.write(clientFrame(0x02, p), clientFrame(0x00, p), clientFrame(0x80, p))
	_, got, err = streamIn(c, 1000)
	if len(got) != 800 {
		t.Fatalf("read %d bytes before the limit", len(got))
	}
	expectCutShort(t, err, CloseMessageTooBig)
	peer.expectClose(CloseMessageTooBig)
}

// TestStreamUTF8: text is checked across fragments and fails with 1007 on
// the Read that meets the first bad byte, without waiting for the rest.
func TestStreamUTF8(t *testing.T) {
	peer, c := rawServerConn(t, nil, quickClose(Options{}))
	peer.write(clientFrame(0x01, "ab\xe2"), clientFrame(0x80, "\x82\xac"))
	typ, got, err := streamIn(c, 0)
	if err != nil || typ != MessageText || string(got) != "ab€" {
		t.Fatalf("split character: %v %q, %v", typ, got, err)
	}
	// The second fragment's first byte cannot continue the character; no
	// more fragments come, and none is needed to tell.
	peer.write(clientFrame(0x01, "ok\xe2"), clientFrame(0x00, "("))
	_, r, err := c.WaitStream(0)
	must(t, err)
	b := make([]byte, 10)
	if n, err := r.Read(b); err != nil || string(b[:n]) != "ok\xe2" {
		t.Fatalf("first read %q, %v", b[:n], err)
	}
	_, err = r.Read(b)
	expectCutShort(t, err, CloseInvalidFramePayloadData)
	peer.expectClose(CloseInvalidFramePayloadData)

	t.Run("incomplete at the end", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, quickClose(Options{}))
		peer.write(clientFrame(0x01, "ab"), clientFrame(0x80, "\xf0\x9d"))
		_, _, err := streamIn(c, 0)
		expectCutShort(t, err, CloseInvalidFramePayloadData)
	})
}

// TestStreamCompressed: a compressed message is inflated as it is read,
// across fragments with a ping between them, bounded by the stream's
// limit, and updates the window that context takeover keeps.
func TestStreamCompressed(t *testing.T) {
	p := jsonLike(200_000, 5)
	z := deflateRaw(t, p)
	peer, c := deflatePeer(t, deflateNegotiated{recvContext: true, sendWindow: 15}, &Options{MaxMessageSize: 1 << 10})
	peer.write(rawFrame(0x41, testKey, z[:100]), clientFrame(0x89, "hi"), rawFrame(0x80, testKey, z[100:]))
	typ, got, err := streamIn(c, 1<<20)
	if err != nil || typ != MessageText || !bytes.Equal(got, p) {
		t.Fatalf("inflated %v of %d bytes, %v", typ, len(got), err)
	}
	if b0, pong, err := peer.readFrame(); err != nil || b0 != 0x8a || string(pong) != "hi" {
		t.Fatalf("pong %#x %q, %v", b0, pong, err)
	}
	// With context takeover the next message may refer back to this one.
	var second bytes.Buffer
	fw, _ := flate.NewWriterDict(&second, flate.BestCompression, p[len(p)-windowSize:])
	fw.Write(p[len(p)-5000:])
	fw.Flush()
	if alone := len(deflateRaw(t, p[len(p)-5000:])); second.Len() > alone/2 {
		t.Fatalf("second message of %d bytes, %d on its own: no back-reference", second.Len(), alone)
	}
	peer.write(rawFrame(0xc2, testKey, second.Bytes()[:second.Len()-4]))
	_, got, err = streamIn(c, 1<<20)
	if err != nil || !bytes.Equal(got, p[len(p)-5000:]) {
		t.Fatalf("second message: %d bytes, %v", len(got), err)
	}

	t.Run("bomb", func(t *testing.T) {
		peer, c := deflatePeer(t, deflateNegotiated{sendWindow: 15}, quickClose(Options{}))
		peer.write(rawFrame(0xc2, testKey, deflateRaw(t, make([]byte, 4<<20))))
		_, got, err := streamIn(c, 1<<20)
		if len(got) != 1<<20 {
			t.Fatalf("read %d bytes before the limit", len(got))
		}
		expectCutShort(t, err, CloseMessageTooBig)
	})
}

// TestStreamSenderContext: a context ending before the first fragment
// drops the message unsent; after it, the connection closes with 1011. A
// send waiting for the slot gives up with its context.
func TestStreamSenderContext(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		w, err := c.SendStream(ctx, MessageBinary)
		must(t, err)
		cancel()
		if _, err := w.Write([]byte("x")); err != context.Canceled {
			t.Fatalf("Write = %v", err)
		}
		if err := w.Close(); err != context.Canceled {
			t.Fatalf("Close = %v", err)
		}
		must(t, c.Send([]byte("whole")))
		if b0, p, err := peer.readFrame(); err != nil || b0 != 0x82 || string(p) != "whole" {
			t.Fatalf("frame %#x %q, %v: the stream sent something", b0, p, err)
		}
	})
	t.Run("after", func(t *testing.T) {
		peer, c := rawServerConn(t, nil, nil)
		ctx, cancel := context.WithCancel(context.Background())
		w, err := c.SendStream(ctx, MessageBinary)
		must(t, err)
		w.Write([]byte("half"))
		cancel()
		if err := w.Close(); err != context.Canceled {
			t.Fatalf("Close = %v", err)
		}
		if b0, p, err := peer.readFrame(); err != nil || b0 != 0x02 || string(p) != "half" {
			t.Fatalf("frame %#x %q, %v", b0, p, err)
		}
		go answerClosing(peer)
		<-c.Done()
		if CloseStatus(c.Err()) != CloseInternalServerErr {
			t.Fatalf("Err = %v, want 1011", c.Err())
		}
	})
	t.Run("waiting for the slot", func(t *testing.T) {
		_, c := rawServerConn(t, nil, nil)
		w, err := c.SendStream(context.Background(), MessageBinary)
		must(t, err)
		defer w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := c.SendContext(ctx, Message{Type: MessageBinary}); err != context.DeadlineExceeded {
			t.Fatalf("SendContext = %v", err)
		}
		if _, err := c.SendStream(ctx, MessageText); err != context.DeadlineExceeded {
			t.Fatalf("SendStream = %v", err)
		}
	})
}

// TestWaitStreamUnavailable: with the reader goroutine reading, a streamed
// read is refused, not taken from the mailbox.
func TestWaitStreamUnavailable(t *testing.T) {
	client, server := pipe(t, nil)
	go client.SendText("queued")
	if _, _, err := server.WaitStream(0); err != ErrStreamUnavailable {
		t.Fatalf("WaitStream = %v", err)
	}
	m, err := server.Wait()
	if err != nil || string(m.Data) != "queued" {
		t.Fatalf("Wait = %q, %v", m.Data, err)
	}
	if _, err := server.SendStream(context.Background(), 7); err == nil {
		t.Fatal("SendStream of an unknown type succeeded")
	}
}

// TestStreamSendWaitsTCP: a Send made while a streamed message is open
// goes out after it, never between its fragments, which the receiver
// would fail with 1002. (TestStreamSendWaits shows on a fake clock that
// the Send waits; this runs the same over real TCP and a Conn pair.)
func TestStreamSendWaitsTCP(t *testing.T) {
	client, server := tcpPair(t, nil)
	w, err := client.SendStream(context.Background(), MessageText)
	must(t, err)
	w.Write([]byte("stream "))
	sent := make(chan error, 1)
	go func() { sent <- client.SendText("whole") }()
	read := make(chan error, 1)
	go func() {
		_, got, err := streamIn(server, 0)
		if err == nil && string(got) != "stream continued" {
			err = errors.New("streamed " + string(got))
		}
		read <- err
	}()
	w.Write([]byte("continued"))
	must(t, w.Close())
	must(t, <-read)
	must(t, <-sent)
	m, err := server.Wait()
	if err != nil || string(m.Data) != "whole" {
		t.Fatalf("Wait = %q, %v", m.Data, err)
	}
}

// TestStreamUncompressed: where permessage-deflate was negotiated, a
// streamed message goes out uncompressed, and messages compressed with
// context takeover before and after it still inflate.
func TestStreamUncompressed(t *testing.T) {
	peer, c := deflatePeer(t, deflateNegotiated{sendContext: true, recvContext: true, sendWindow: 15}, &Options{CompressionThreshold: -1})
	w, err := c.SendStream(context.Background(), MessageText)
	must(t, err)
	w.Write([]byte("plain"))
	must(t, w.Close())
	for _, want := range []byte{0x01, 0x80} { // RSV1 clear
		if b0, _, err := peer.readFrame(); err != nil || b0 != want {
			t.Fatalf("frame %#x (%v), want %#x", b0, err, want)
		}
	}

	o := (&Options{CompressionThreshold: -1}).withDefaults()
	mirror := deflateNegotiated{sendContext: true, recvContext: true, sendWindow: 15}
	a, b := tcpSockets(t)
	client := newConnDeflate(a, nil, true, o, "", nil, newDeflater(mirror, o))
	server := newConnDeflate(b, nil, false, o, "", nil, newDeflater(mirror, o))
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-client.Done()
		<-server.Done()
	})
	p := jsonLike(3000, 1)
	go func() {
		client.Send(p)
		streamOut(client, MessageBinary, p, 1000)
		client.Send(p) // refers back to the first, across the stream
	}()
	for i := range 3 {
		var got []byte
		var err error
		if i == 1 {
			_, got, err = streamIn(server, 0)
		} else {
			var m Message
			m, err = server.Wait()
			got = m.Data
		}
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("message %d: %d bytes, %v", i, len(got), err)
		}
	}
}
