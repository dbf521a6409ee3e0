package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zerows/websocket"
)

type clientConfig struct {
	source   string
	servers  string
	first    int
	conns    int
	msgs     int
	minSize  int
	maxSize  int
	dist     string
	seed     uint64
	duration time.Duration
	rate     float64
	inflight int
	dialers  int
	phase    time.Duration

	// Flags shared with the other roles, copied in by cli.
	maxMessage int
	deadline   time.Duration
}

func (c *clientConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.source, "source", "127.0.0.1", "client: local address to dial from (loopback only)")
	fs.StringVar(&c.servers, "server-addrs", "", "client: comma-separated server addresses; connection i goes to server i mod their number")
	fs.IntVar(&c.first, "first", 0, "client: global index of this client's first connection (it seeds the messages)")
	fs.IntVar(&c.conns, "client-conns", 0, "client: connections of this client")
	fs.DurationVar(&c.phase, "phase", 5*time.Minute, "client: limit for the dial phase and for the message phase each")
}

// A message's first 16 bytes are its connection's global index and its
// sequence number, little-endian, so that an echo of another connection's
// message, or an old one, cannot pass for the expected one.
const tagSize = 16

// payloads makes every connection's messages from the seed alone.
type payloads struct {
	pool             []byte // random bytes the messages are cut from
	minSize, maxSize int
	logSizes         bool
	buffers          sync.Pool
}

func newPayloads(seed uint64, minSize, maxSize int, dist string) *payloads {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	pool := make([]byte, 2*maxSize)
	rand.NewChaCha8(key).Read(pool)
	p := &payloads{pool: pool, minSize: minSize, maxSize: maxSize, logSizes: dist == "log"}
	p.buffers.New = func() any { b := make([]byte, maxSize); return &b }
	return p
}

// connRand is connection conn's own generator of sizes and offsets.
func (p *payloads) connRand(seed uint64, conn int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(conn)))
}

// next fills a pooled buffer with message seq of connection conn.
func (p *payloads) next(r *rand.Rand, conn int, seq uint64) *[]byte {
	var size int
	if p.logSizes {
		lo, hi := math.Log(float64(p.minSize)), math.Log(float64(p.maxSize)+1)
		size = min(p.maxSize, int(math.Exp(lo+r.Float64()*(hi-lo))))
	} else {
		size = p.minSize + r.IntN(p.maxSize-p.minSize+1)
	}
	off := r.IntN(len(p.pool) - size + 1)
	bp := p.buffers.Get().(*[]byte)
	b := (*bp)[:size]
	binary.LittleEndian.PutUint64(b, uint64(conn))
	binary.LittleEndian.PutUint64(b[8:], seq)
	copy(b[tagSize:], p.pool[off+tagSize:off+size])
	*bp = b
	return bp
}

func (p *payloads) free(bp *[]byte) { p.buffers.Put(bp) }

// runClient is the client role: it dials cfg.conns connections, reports
// "up", sends and checks messages on "go", reports "done", and closes
// every connection on "close".
func runClient(cfg clientConfig, stdin io.Reader, stdout io.Writer) error {
	time.AfterFunc(cfg.deadline, func() {
		fmt.Fprintln(os.Stderr, "load (client): deadline passed, exiting")
		os.Exit(3)
	})
	src := net.ParseIP(cfg.source)
	if src == nil || !src.IsLoopback() {
		return fmt.Errorf("refusing to dial from %s: loopback only", cfg.source)
	}
	addrs := strings.Split(cfg.servers, ",")
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("refusing to dial %q: loopback only", a)
		}
	}
	if cfg.conns < 1 {
		return errors.New("-client-conns must be at least 1")
	}
	in := bufio.NewScanner(stdin)
	command := func(want string) error {
		if !in.Scan() {
			return errors.New("stdin closed before " + want)
		}
		if in.Text() != want {
			return fmt.Errorf("got command %q, want %q", in.Text(), want)
		}
		return nil
	}

	conns, dialErrs, firstErr := dialAll(cfg, src, addrs)
	defer func() { closeAll(conns, cfg.dialers) }() // on the way out early
	up := report{Kind: "up", Conns: cfg.conns - dialErrs, DialErrors: dialErrs}
	if firstErr != nil {
		up.FirstError = firstErr.Error()
	}
	if err := emit(stdout, up); err != nil {
		return err
	}
	if err := command("go"); err != nil {
		return err
	}
	done := exchange(cfg, conns)
	if err := emit(stdout, done); err != nil {
		return err
	}
	if err := command("close"); err != nil {
		return err
	}
	closeAll(conns, cfg.dialers)
	conns = nil
	return emit(stdout, report{Kind: "closed"})
}

// dialAll opens the connections from cfg.dialers goroutines; a failed
// connection is left nil.
func dialAll(cfg clientConfig, src net.IP, addrs []string) (conns []*websocket.Conn, failed int, first error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.phase)
	defer cancel()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	opts := &websocket.Options{
		MaxMessageSize: int64(cfg.maxMessage),
		DialContext:    d.DialContext,
		Proxy:          noProxy,
	}
	conns = make([]*websocket.Conn, cfg.conns)
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(cfg.dialers, cfg.conns) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < cfg.conns; i = int(next.Add(1)) - 1 {
				g := cfg.first + i
				c, _, err := websocket.Dial(ctx, "ws://"+addrs[g%len(addrs)]+"/", opts)
				if err != nil {
					mu.Lock()
					failed++
					if first == nil {
						first = fmt.Errorf("connection %d to %s: %w", g, addrs[g%len(addrs)], err)
					}
					mu.Unlock()
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	return conns, failed, first
}

// noProxy keeps the environment's HTTP_PROXY away from loopback traffic.
func noProxy(*http.Request) (*url.URL, error) { return nil, nil }

// exchange runs the message phase on every connection at once and
// returns the "done" report.
func exchange(cfg clientConfig, conns []*websocket.Conn) report {
	p := newPayloads(cfg.seed, cfg.minSize, cfg.maxSize, cfg.dist)
	ctx, cancel := context.WithTimeout(context.Background(), cfg.phase)
	defer cancel()
	start := time.Now()
	var stopAt time.Time // zero: count-bounded
	if cfg.duration > 0 {
		stopAt = start.Add(cfg.duration)
	}
	// The gap between one connection's messages when a total rate is set.
	var gap time.Duration
	if cfg.rate > 0 {
		gap = time.Duration(float64(len(conns)) / cfg.rate * float64(time.Second))
	}
	slots := make(chan struct{}, cfg.inflight)
	var hist histogram
	var msgs, byteCount, errCount, mismatches atomic.Int64
	var firstMu sync.Mutex
	var firstErr string
	fail := func(mismatch bool, format string, args ...any) {
		if mismatch {
			mismatches.Add(1)
		} else {
			errCount.Add(1)
		}
		firstMu.Lock()
		if firstErr == "" {
			firstErr = fmt.Sprintf(format, args...)
		}
		firstMu.Unlock()
	}
	// A connection stuck past the phase's end is closed, which ends its Wait.
	stop := context.AfterFunc(ctx, func() { closeAll(conns, cfg.dialers) })
	defer stop()

	var wg sync.WaitGroup
	for i, c := range conns {
		if c == nil {
			continue
		}
		g := cfg.first + i
		wg.Go(func() {
			r := p.connRand(cfg.seed, g)
			next := time.Now()
			if gap > 0 { // spread the connections over one gap
				next = next.Add(time.Duration(r.Int64N(int64(gap))))
			}
			for seq := uint64(0); ; seq++ {
				if stopAt.IsZero() && seq >= uint64(cfg.msgs) {
					return
				}
				if gap > 0 {
					wait := time.Until(next)
					if !stopAt.IsZero() {
						wait = min(wait, time.Until(stopAt))
					}
					if wait > 0 {
						t := time.NewTimer(wait)
						select {
						case <-t.C:
						case <-ctx.Done():
							t.Stop()
						}
					}
					next = next.Add(gap)
				}
				if !stopAt.IsZero() && !time.Now().Before(stopAt) || ctx.Err() != nil {
					return
				}
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				bp := p.next(r, g, seq)
				want := *bp
				t0 := time.Now()
				err := c.Send(want)
				var m websocket.Message
				if err == nil {
					m, err = c.Wait()
				}
				rtt := time.Since(t0)
				<-slots
				if err != nil {
					fail(false, "connection %d message %d: %v", g, seq, err)
					p.free(bp)
					return
				}
				if m.Type != websocket.MessageBinary || !bytes.Equal(m.Data, want) {
					fail(true, "connection %d message %d: %s", g, seq, describe(m, want))
					p.free(bp)
					return
				}
				p.free(bp)
				hist.add(rtt)
				msgs.Add(1)
				byteCount.Add(int64(len(want)))
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		fail(false, "message phase passed its limit of %s", cfg.phase)
	}
	return report{
		Kind: "done", Conns: len(conns), Msgs: msgs.Load(), Bytes: byteCount.Load(),
		Errors: errCount.Load(), Mismatches: mismatches.Load(), FirstError: firstErr,
		Latency: hist.snapshot(), ElapsedNs: int64(time.Since(start)),
	}
}

// describe says how an echo differs from the message sent.
func describe(m websocket.Message, want []byte) string {
	if m.Type != websocket.MessageBinary {
		return fmt.Sprintf("echo is of type %d, want binary", m.Type)
	}
	got := m.Data
	if len(got) >= tagSize {
		conn, seq := binary.LittleEndian.Uint64(got), binary.LittleEndian.Uint64(got[8:])
		if !bytes.Equal(got[:tagSize], want[:tagSize]) {
			return fmt.Sprintf("echo is of connection %d message %d (out of order or crossed)", conn, seq)
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("echo has %d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("echo differs at byte %d of %d: %#02x, want %#02x", i, len(want), got[i], want[i])
		}
	}
	return "echo differs"
}

// closeAll closes the connections with the closing handshake, workers at
// a time.
func closeAll(conns []*websocket.Conn, workers int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, workers*4) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(conns); i = int(next.Add(1)) - 1 {
				if conns[i] != nil {
					conns[i].Close()
				}
			}
		})
	}
	wg.Wait()
}
