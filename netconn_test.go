package websocket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerows/websocket/internal/wstest"
)

// NetConn against what net.Conn promises, checked over a pair of NetConns
// on net.Pipe and on TCP: the ideas of x/net/nettest's TestConn, written
// here as the root module imports nothing. Then the things a WebSocket
// adds (text messages, the message size, the close handshake), and real
// traffic: an io.Copy of 100 MiB and net/http.

// netConnPairs runs f over two NetConns joined by a WebSocket connection,
// on net.Pipe and on TCP. Both are closed at the end of the test.
func netConnPairs(t *testing.T, opts *Options, f func(t *testing.T, c1, c2 net.Conn)) {
	transports(t, opts, func(t *testing.T, client, server *Conn) {
		c1, c2 := NetConn(client), NetConn(server)
		t.Cleanup(func() { closeAll(c1, c2) })
		f(t, c1, c2)
	})
}

// closeAll closes the conns at once: each Close waits for the other side's
// answer to its close frame.
func closeAll(cs ...net.Conn) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Close()
		}()
	}
	wg.Wait()
}

// checkTimeout fails the test unless err is a deadline's, as net.Conn
// callers look for it.
func checkTimeout(t *testing.T, err error) {
	t.Helper()
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout satisfying os.ErrDeadlineExceeded", err)
	}
}

// readString reads exactly n bytes from c.
func readString(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return string(b)
}

func writeString(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if n, err := io.WriteString(c, s); n != len(s) || err != nil {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// chunkedCopy copies src to dst in pieces of random sizes up to 64 KiB,
// so that Writes and Reads fall across message boundaries every way.
func chunkedCopy(dst io.Writer, src io.Reader, rng *rand.Rand) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf[:1+rng.IntN(len(buf))])
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// blockedWriter writes to c until a Write fails, and sends that error.
// With a peer that reads nothing, the Writes soon block.
func blockedWriter(c net.Conn) <-chan error {
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Write(buf); err != nil {
				errc <- err
				return
			}
		}
	}()
	return errc
}

// stuckOpts makes a peer that reads nothing hold little: its mailbox takes
// one message, so a writer blocks soon.
var stuckOpts = &Options{MailboxMessages: 1, MailboxBytes: 1}

// TestNetConnBasicIO sends 1 MiB of random bytes through the pair in
// random pieces, closes, and checks that the other side reads the same
// bytes, then io.EOF.
func TestNetConnBasicIO(t *testing.T) {
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		rng := rand.New(rand.NewPCG(1, 2))
		want := make([]byte, 1<<20)
		for i := range want {
			want[i] = byte(rng.Uint32())
		}
		sent := make(chan error, 1)
		go func() {
			err := chunkedCopy(c1, bytes.NewReader(want), rand.New(rand.NewPCG(3, 4)))
			if cerr := c1.Close(); err == nil {
				err = cerr
			}
			sent <- err
		}()
		var got bytes.Buffer
		if err := chunkedCopy(&got, c2, rng); err != nil {
			t.Fatalf("reading: %v", err)
		}
		must(t, <-sent)
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("read %d bytes, not the %d sent", got.Len(), len(want))
		}
		if n, err := c2.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("Read after EOF = %d, %v; want io.EOF again", n, err)
		}
	})
}

// TestNetConnPingPong passes a counter back and forth, 8 bytes at a time.
func TestNetConnPingPong(t *testing.T) {
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		const rounds = 500
		pong := func(c net.Conn, first bool) error {
			var b [8]byte
			var v uint64
			if first {
				if _, err := c.Write(b[:]); err != nil {
					return err
				}
			}
			for v < rounds {
				if _, err := io.ReadFull(c, b[:]); err != nil {
					return err
				}
				got := binary.BigEndian.Uint64(b[:])
				if got < v {
					return errors.New("counter went back")
				}
				v = got + 1
				binary.BigEndian.PutUint64(b[:], v)
				if _, err := c.Write(b[:]); err != nil {
					return err
				}
			}
			return nil
		}
		errc := make(chan error, 1)
		go func() { errc <- pong(c2, false) }()
		must(t, pong(c1, true))
		must(t, <-errc)
	})
}

// TestNetConnRacyRead reads from many goroutines at once, each moving the
// read deadline, while the peer writes: every Read returns bytes or a
// timeout, and the race detector sees no shared state touched unguarded.
func TestNetConnRacyRead(t *testing.T) {
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		writing := blockedWriter(c2)
		c1.SetReadDeadline(time.Now().Add(time.Millisecond))
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := make([]byte, 1024)
				for range 50 {
					if _, err := c1.Read(b); err != nil {
						if !errors.Is(err, os.ErrDeadlineExceeded) {
							t.Errorf("Read: %v", err)
							return
						}
						c1.SetReadDeadline(time.Now().Add(time.Millisecond))
					}
				}
			}()
		}
		wg.Wait()
		closeAll(c1, c2)
		<-writing
	})
}

// TestNetConnRacyWrite writes from many goroutines at once, each moving
// the write deadline, while the peer reads everything.
func TestNetConnRacyWrite(t *testing.T) {
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		reading := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, c2)
			reading <- err
		}()
		c1.SetWriteDeadline(time.Now().Add(time.Millisecond))
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := make([]byte, 1024)
				for range 50 {
					if _, err := c1.Write(b); err != nil {
						if errors.Is(err, net.ErrClosed) {
							return // a deadline cut a frame, and so failed the connection
						}
						if !errors.Is(err, os.ErrDeadlineExceeded) {
							t.Errorf("Write: %v", err)
							return
						}
						c1.SetWriteDeadline(time.Now().Add(time.Millisecond))
					}
				}
			}()
		}
		wg.Wait()
		closeAll(c1, c2)
		<-reading
	})
}

// TestNetConnPastDeadline: a deadline already passed fails Read and Write
// before they do anything, and harms nothing: once it is lifted, both
// directions work, and the failed Write sent nothing.
func TestNetConnPastDeadline(t *testing.T) {
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		for _, past := range []time.Time{time.Unix(1, 0), time.Now()} {
			c1.SetDeadline(past)
			for range 2 {
				_, err := c1.Read(make([]byte, 1))
				checkTimeout(t, err)
				_, err = c1.Write([]byte("lost"))
				checkTimeout(t, err)
			}
			c1.SetDeadline(time.Time{})
			go c2.Write([]byte("ab"))
			if got := readString(t, c1, 2); got != "ab" {
				t.Fatalf("after the deadline: read %q", got)
			}
			go c1.Write([]byte("cd"))
			if got := readString(t, c2, 2); got != "cd" {
				t.Fatalf("after the deadline: peer read %q", got)
			}
		}
	})
}

// TestNetConnPresentDeadline: setting a deadline to now ends a Read and a
// Write that are blocked, with timeouts. (What that leaves of the
// connection: TestNetConnReadTimeoutKeepsConn, TestNetConnWriteCutFailsConn.)
func TestNetConnPresentDeadline(t *testing.T) {
	netConnPairs(t, stuckOpts, func(t *testing.T, c1, c2 net.Conn) {
		reading := make(chan error, 1)
		go func() {
			_, err := c1.Read(make([]byte, 1))
			reading <- err
		}()
		writing := blockedWriter(c1)
		c1.SetDeadline(time.Now())
		checkTimeout(t, <-reading)
		checkTimeout(t, <-writing)
	})
}

// TestNetConnFutureDeadline: a deadline set ahead ends the Read, and then
// the Write, that block past it.
func TestNetConnFutureDeadline(t *testing.T) {
	netConnPairs(t, stuckOpts, func(t *testing.T, c1, c2 net.Conn) {
		c1.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err := c1.Read(make([]byte, 1))
		checkTimeout(t, err)
		c1.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
		checkTimeout(t, <-blockedWriter(c1))
	})
}

// TestNetConnReadTimeoutKeepsConn interrupts a blocked Read with its
// deadline again and again: the connection loses nothing, and the bytes
// that come later are read. (On a fake clock, which makes sure the Read
// was blocked: TestNetConnReadDeadlineMoves.)
func TestNetConnReadTimeoutKeepsConn(t *testing.T) {
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		for i := range 5 {
			c1.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			_, err := c1.Read(make([]byte, 1))
			checkTimeout(t, err)
			c1.SetReadDeadline(time.Time{})
			msg := string(rune('a' + i))
			writeString(t, c2, msg)
			if got := readString(t, c1, 1); got != msg {
				t.Fatalf("round %d: read %q, want %q", i, got, msg)
			}
		}
	})
}

// TestNetConnWriteCutFailsConn: a write deadline that passes while a
// frame is half written fails the connection, as documented: the Write
// says so, and every later call fails.
func TestNetConnWriteCutFailsConn(t *testing.T) {
	netConnPairs(t, stuckOpts, func(t *testing.T, c1, c2 net.Conn) {
		// A deadline that passes between frames leaves the connection
		// whole, and the writing goes on, until the peer's buffers are
		// full and a Write blocks in its frame.
		for {
			c1.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
			err := <-blockedWriter(c1)
			checkTimeout(t, err)
			if errors.Is(err, errWriteCut) {
				break
			}
		}
		c1.SetDeadline(time.Time{})
		if _, err := c1.Write([]byte("x")); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Write after the cut = %v, want the connection's failure", err)
		}
		if _, err := c1.Read(make([]byte, 1)); err == nil || err == io.EOF {
			t.Fatalf("Read after the cut = %v, want the connection's failure", err)
		}
	})
}

// TestNetConnClose: Close ends a blocked Read and a blocked Write at once,
// later calls fail with net.ErrClosed, and so does a second Close.
func TestNetConnClose(t *testing.T) {
	checkNoLeaks(t)
	netConnPairs(t, stuckOpts, func(t *testing.T, c1, c2 net.Conn) {
		reading := make(chan error, 1)
		go func() {
			_, err := c1.Read(make([]byte, 1))
			reading <- err
		}()
		writing := blockedWriter(c1)
		closed := make(chan error, 1)
		go func() { closed <- c1.Close() }()
		for what, errc := range map[string]<-chan error{"Read": reading, "Write": writing} {
			if err := <-errc; !errors.Is(err, net.ErrClosed) {
				t.Errorf("blocked %s ended by Close: %v, want net.ErrClosed", what, err)
			}
		}
		// Now the peer reads, and answers the close frame if the Write
		// had not begun one (a Write cut in the middle of one fails the
		// connection instead).
		go io.Copy(io.Discard, c2)
		if err := <-closed; err != nil {
			t.Errorf("Close = %v", err)
		}
		if _, err := c1.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close = %v", err)
		}
		if _, err := c1.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close = %v", err)
		}
		if err := c1.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v, want net.ErrClosed", err)
		}
	})
}

// TestNetConnCloseHandshake: Close sends 1000, which the peer reads as
// io.EOF after the bytes that came before it; the peer's Close then
// returns nil.
func TestNetConnCloseHandshake(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		c1 := NetConn(client)
		writeString(t, c1, "last words")
		closed := make(chan error, 1)
		go func() { closed <- c1.Close() }()
		m, err := server.Wait()
		if err != nil || string(m.Data) != "last words" {
			t.Fatalf("Wait = %q, %v", m.Data, err)
		}
		if _, err := server.Wait(); CloseStatus(err) != CloseNormalClosure {
			t.Fatalf("peer saw %v, want 1000", err)
		}
		must(t, <-closed)
	})
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		writeString(t, c1, "bye")
		closed := make(chan error, 1)
		go func() { closed <- c1.Close() }()
		got, err := io.ReadAll(c2)
		if string(got) != "bye" || err != nil {
			t.Fatalf("peer read %q, %v; want \"bye\" and then io.EOF", got, err)
		}
		must(t, <-closed)
		must(t, c2.Close())
	})
}

// TestNetConnPeerCloseOtherThanNormal: only 1000 ends the stream as
// io.EOF; any other close is an error that carries the code.
func TestNetConnPeerCloseOtherThanNormal(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		c := NetConn(server)
		go client.CloseWith(CloseGoingAway, "restart")
		for range 2 {
			if _, err := c.Read(make([]byte, 1)); err == io.EOF || CloseStatus(err) != CloseGoingAway {
				t.Fatalf("Read after a close with 1001 = %v", err)
			}
		}
	})
}

// TestNetConnConcurrentMethods calls every method from its own goroutines
// at once, then closes: for the race detector, and for calls that hang.
func TestNetConnConcurrentMethods(t *testing.T) {
	checkNoLeaks(t)
	netConnPairs(t, nil, func(t *testing.T, c1, c2 net.Conn) {
		echoed := make(chan error, 1)
		go func() {
			_, err := io.Copy(c2, c2)
			echoed <- err
		}()
		var wg sync.WaitGroup
		run := func(f func()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f()
			}()
		}
		for range 4 {
			run(func() { c1.Write(make([]byte, 1000)) })
			run(func() { c1.Read(make([]byte, 1000)) })
			run(func() { c1.SetDeadline(time.Now().Add(time.Hour)) })
			run(func() { c1.SetReadDeadline(time.Now().Add(time.Hour)) })
			run(func() { c1.SetWriteDeadline(time.Now().Add(time.Hour)) })
			run(func() { c1.LocalAddr(); c1.RemoteAddr() })
		}
		run(func() { c1.Close() })
		wg.Wait()
		c2.Close()
		<-echoed
	})
}

// TestNetConnReadSpansMessages: Read returns the rest of a message the
// buffer could not hold before the next one, skips empty messages, and
// never mixes the bytes of messages.
func TestNetConnReadSpansMessages(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		c := NetConn(server)
		go func() {
			for _, s := range []string{"hello", "", "big", "world"} {
				client.Send([]byte(s))
			}
		}()
		var got []string
		b := make([]byte, 2)
		for n := 0; n < len("hellobigworld"); {
			k, err := c.Read(b)
			if err != nil || k == 0 {
				t.Fatalf("Read = %d, %v", k, err)
			}
			got = append(got, string(b[:k]))
			n += k
		}
		want := []string{"he", "ll", "o", "bi", "g", "wo", "rl", "d"}
		if !slicesEqual(got, want) {
			t.Fatalf("Reads of 2 bytes returned %q, want %q", got, want)
		}
	})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNetConnWriteSplits: a Write longer than MaxMessageSize goes out as
// messages the peer accepts, in order; a Write of nothing sends nothing.
func TestNetConnWriteSplits(t *testing.T) {
	opts := &Options{MaxMessageSize: 1000}
	transports(t, opts, func(t *testing.T, client, server *Conn) {
		c := NetConn(client)
		p := make([]byte, 2500)
		for i := range p {
			p[i] = byte(i)
		}
		written := make(chan error, 1)
		go func() {
			if _, err := c.Write(nil); err != nil {
				written <- err
				return
			}
			n, err := c.Write(p)
			if err == nil && n != len(p) {
				err = io.ErrShortWrite
			}
			written <- err
		}()
		var got []byte
		for _, size := range []int{1000, 1000, 500} {
			m, err := server.Wait()
			if err != nil || m.Type != MessageBinary || len(m.Data) != size {
				t.Fatalf("Wait = %v %d bytes, %v; want binary %d", m.Type, len(m.Data), err, size)
			}
			got = append(got, m.Data...)
		}
		must(t, <-written)
		if !bytes.Equal(got, p) {
			t.Fatal("the messages do not hold the bytes written")
		}
	})
}

// TestNetConnConcurrentWrites: Writes from two goroutines, each split into
// several messages, arrive each in one piece.
func TestNetConnConcurrentWrites(t *testing.T) {
	netConnPairs(t, &Options{MaxMessageSize: 1000}, func(t *testing.T, c1, c2 net.Conn) {
		const size = 10_000
		for _, b := range []byte("ab") {
			go c1.Write(bytes.Repeat([]byte{b}, size))
		}
		got := readString(t, c2, 2*size)
		first, second := got[:size], got[size:]
		if first != strings.Repeat(first[:1], size) || second != strings.Repeat(second[:1], size) || first[0] == second[0] {
			t.Fatalf("two Writes interleaved: %q…", got[:64])
		}
	})
}

// TestNetConnTextMessage: a text message has no place in a byte stream:
// Read fails, from then on, and the peer is told 1003.
func TestNetConnTextMessage(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		c := NetConn(server)
		must(t, client.Send([]byte("bin")))
		must(t, client.SendText("text"))
		peer := make(chan error, 1)
		go func() { // reads the close frame, which the NetConn waits for
			_, err := client.Wait()
			peer <- err
		}()
		if got := readString(t, c, 3); got != "bin" {
			t.Fatalf("read %q", got)
		}
		for range 2 {
			if _, err := c.Read(make([]byte, 8)); !errors.Is(err, errTextInStream) {
				t.Fatalf("Read of a text message = %v", err)
			}
		}
		if err := <-peer; CloseStatus(err) != CloseUnsupportedData {
			t.Fatalf("peer saw %v, want 1003", err)
		}
	})
}

// TestNetConnAddrs: the addresses are the WebSocket connection's.
func TestNetConnAddrs(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		c := NetConn(client)
		if c.LocalAddr() != client.LocalAddr() || c.RemoteAddr() != client.RemoteAddr() {
			t.Fatalf("addresses %v %v, want %v %v", c.LocalAddr(), c.RemoteAddr(), client.LocalAddr(), client.RemoteAddr())
		}
	})
}

// TestNetConnCopy streams 100 MiB (8 MiB with -short or -race) through a
// pair on TCP with io.Copy, and compares checksums.
func TestNetConnCopy(t *testing.T) {
	size := int64(100 << 20)
	if testing.Short() || raceEnabled {
		size = 8 << 20
	}
	client, server := tcpPair(t, nil)
	c1, c2 := NetConn(client), NetConn(server)
	t.Cleanup(func() { closeAll(c1, c2) })

	sentSum := sha256.New()
	sent := make(chan error, 1)
	start := time.Now()
	go func() {
		src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{1}), size), sentSum)
		_, err := io.Copy(c1, src)
		if cerr := c1.Close(); err == nil {
			err = cerr
		}
		sent <- err
	}()
	gotSum := sha256.New()
	n, err := io.Copy(gotSum, c2)
	elapsed := time.Since(start)
	must(t, err)
	must(t, <-sent)
	if n != size || !bytes.Equal(gotSum.Sum(nil), sentSum.Sum(nil)) {
		t.Fatalf("received %d bytes, checksum %x; sent %d, %x", n, gotSum.Sum(nil), size, sentSum.Sum(nil))
	}
	t.Logf("%d MiB in %v: %.0f MB/s", size>>20, elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6)
}

// TestNetConnHTTP serves HTTP/1.1 inside a WebSocket connection: the
// handler of a real WebSocket server hands its NetConn to http.Server, and
// an http.Client dials a NetConn on a real WebSocket client. Two GETs on
// the one connection: between requests net/http interrupts its background
// read with a past deadline and then reads on, which needs a read timeout
// that leaves the connection whole.
func TestNetConnHTTP(t *testing.T) {
	checkNoLeaks(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	mux := http.NewServeMux()
	mux.HandleFunc("/data", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		w.Write(payload)
	})
	served := make(chan error, 1)
	srv := httptest.NewServer(Require(func(ws *Conn, r *http.Request) {
		hs := &http.Server{Handler: mux}
		served <- hs.Serve(wstest.ListenOnce(NetConn(ws)))
	}, nil))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	ws, _, err := Dial(ctx, wsURLOf(srv), nil)
	must(t, err)
	dials := 0
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		if dials++; dials > 1 {
			return nil, errors.New("a second dial: the first connection was not reused")
		}
		return NetConn(ws), nil
	}}
	client := &http.Client{Transport: tr, Timeout: testWait}
	for range 2 {
		resp, err := client.Get("http://tunnel/data")
		must(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		must(t, err)
		if resp.StatusCode != 200 || resp.Header.Get("X-Path") != "/data" || !bytes.Equal(got, payload) {
			t.Fatalf("GET = %s, %d bytes, X-Path %q", resp.Status, len(got), resp.Header.Get("X-Path"))
		}
	}
	tr.CloseIdleConnections()
	if err := <-served; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve = %v, want it to end with the connection", err)
	}
	<-ws.Done()
	if CloseStatus(ws.Err()) != CloseNormalClosure {
		t.Fatalf("tunnel ended with %v, want 1000", ws.Err())
	}
}
