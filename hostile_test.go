package websocket

import (
	"encoding/binary"
	"io"
	"log"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Tests for peers that try to make this side spend what they do not pay
// for: memory for bytes never sent, a crash for a length it cannot hold,
// CPU for frames that carry nothing.

// countingConn signals reached once at least n bytes have been read from it.
type countingConn struct {
	net.Conn
	n       int64
	read    atomic.Int64
	once    sync.Once
	reached chan struct{}
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.read.Add(int64(n)) >= c.n {
		c.once.Do(func() { close(c.reached) })
	}
	return n, err
}

// stallingPeers opens n TCP connections to server Conns made with opts,
// each waiting for a message in the way wait says, and writes prefix on
// each. It returns once every server has read the whole prefix, with the
// server Conns and a function that closes every client socket.
func stallingPeers(t *testing.T, n int, opts *Options, prefix []byte, wait func(*Conn)) ([]*Conn, func()) {
	o := opts.withDefaults()
	var servers []*Conn
	var clients []net.Conn
	closeAll := func() {
		for _, c := range clients {
			c.Close()
		}
	}
	t.Cleanup(func() {
		closeAll()
		for _, s := range servers {
			<-s.Done()
		}
	})
	for range n {
		c, nc := tcpSockets(t)
		clients = append(clients, c)
		cc := &countingConn{Conn: nc, n: int64(len(prefix)), reached: make(chan struct{})}
		s := newConn(cc, nil, false, o, "", nil)
		servers = append(servers, s)
		go wait(s)
		if _, err := c.Write(prefix); err != nil {
			t.Fatal(err)
		}
		<-cc.reached
	}
	return servers, closeAll
}

// longHeader is a masked binary frame header declaring length, followed
// by the first few payload bytes.
func longHeader(length uint64, some int) []byte {
	b := []byte{0x82, 0x80 | 127}
	b = binary.BigEndian.AppendUint64(b, length)
	b = append(b, testKey...)
	return append(b, make([]byte, some)...)
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestStalledHeaderCostsLittle: a header declaring a 1 MiB payload, with
// ten bytes of it sent, must not make the server allocate the megabyte.
func TestStalledHeaderCostsLittle(t *testing.T) {
	const conns = 64
	before := heapInUse()
	servers, _ := stallingPeers(t, conns, nil, longHeader(DefaultMaxMessageSize, 10), func(c *Conn) { c.Wait() })
	grew := int64(heapInUse()) - int64(before)
	t.Logf("%d stalled 1 MiB headers: heap grew %d KiB (%d KiB per connection)", conns, grew>>10, grew/conns>>10)
	if limit := int64(conns * 64 << 10); grew > limit {
		t.Errorf("heap grew %d KiB for %d stalled headers, want under %d KiB", grew>>10, conns, limit>>10)
	}
	runtime.KeepAlive(servers)
}

// TestAnyDeclaredLength: any length a header can declare, with any limit,
// ends in reading or in 1009, on the reader goroutine too (where nothing
// could recover a panic) and in Wait.
func TestAnyDeclaredLength(t *testing.T) {
	for _, tc := range []struct {
		limit  int64
		length uint64
		want   CloseCode
	}{
		{0, 1 << 62, CloseMessageTooBig},
		{1 << 40, 1 << 40, CloseAbnormalClosure},
		{math.MaxInt64, 1 << 62, CloseAbnormalClosure},
		{math.MaxInt64, math.MaxInt64, CloseAbnormalClosure},
	} {
		for _, mode := range []string{"reader", "wait"} {
			t.Run("limit="+strconv.FormatInt(tc.limit, 10)+"/length="+strconv.FormatUint(tc.length, 10)+"/"+mode, func(t *testing.T) {
				opts := &Options{MaxMessageSize: tc.limit}
				start := func(c *Conn) { c.Wait() }
				if mode == "reader" {
					start = func(c *Conn) { c.Done() }
				}
				servers, hangUp := stallingPeers(t, 1, opts, longHeader(tc.length, 100), start)
				hangUp() // a peer that stops in the middle of the payload
				<-servers[0].Done()
				if got := CloseStatus(servers[0].Err()); got != tc.want {
					t.Errorf("Err() = %v, want %d", servers[0].Err(), tc.want)
				}
			})
		}
	}
}

// TestEmptyFragmentsBounded: a message of endless empty fragments fails
// with 1008 once past maxEmptyFragments; a few are fine.
func TestEmptyFragmentsBounded(t *testing.T) {
	addr := echoServer(t, nil)
	few := dialRaw(t, addr)
	few.write(clientFrame(0x01, ""), clientFrame(0x00, ""), clientFrame(0x00, ""), clientFrame(0x80, "ok"))
	if b0, p, err := few.readFrame(); err != nil || b0 != 0x81 || string(p) != "ok" {
		t.Fatalf("echo of a message with empty fragments = %#x %q %v", b0, p, err)
	}
	many := dialRaw(t, addr)
	stream := clientFrame(0x02, "")
	empty := clientFrame(0x00, "")
	for range maxEmptyFragments + 1 {
		stream = append(stream, empty...)
	}
	many.write(stream)
	many.expectClose(ClosePolicyViolation)
}

// panickyConn panics on its first read, standing for any bug on the read
// path.
type panickyConn struct{ net.Conn }

func (panickyConn) Read([]byte) (int, error) { panic("read path bug") }

// TestReaderGoroutinePanic: a panic on the reader goroutine fails the
// connection with 1011 instead of taking the process down.
func TestReaderGoroutinePanic(t *testing.T) {
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	a, b := net.Pipe()
	client, server := connPair(t, a, panickyConn{b}, nil)
	client.startReader()
	server.startReader()
	<-server.Done()
	if ce := server.Err().(*CloseError); ce.Code != CloseInternalServerErr {
		t.Errorf("server Err() = %v, want 1011", ce)
	}
	<-client.Done()
	if ce := client.Err().(*CloseError); ce.Code != CloseInternalServerErr || !strings.Contains(ce.Reason, "internal error") {
		t.Errorf("client Err() = %v, want the server's 1011", ce)
	}
}

// TestCloseReasonEscaped: a peer's close reason with control bytes comes
// out of Error quoted, never raw.
func TestCloseReasonEscaped(t *testing.T) {
	for reason, want := range map[string]string{
		"bye":             "1000 normal closure: bye",
		"\x1b[2Jgone\r\a": `1000 normal closure: "\x1b[2Jgone\r\a"`,
	} {
		got := (&CloseError{Code: CloseNormalClosure, Reason: reason}).Error()
		if !strings.HasSuffix(got, want) {
			t.Errorf("Error() = %q, want it to end in %q", got, want)
		}
	}
}
