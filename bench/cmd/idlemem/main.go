// Command idlemem measures the memory an idle WebSocket connection costs a
// server, per library.
//
// For each library and compression mode it starts a copy of itself as
// the server (a child process, so that libraries do not share a heap),
// opens -conns connections to it over 127.0.0.1 with a minimal handshake
// of its own, waits until the server has every one parked in its read
// loop, makes the child collect garbage and return freed memory to the
// OS, and then reads the child's VmRSS from /proc/<pid>/status: the row
// with msgs 0. Then each connection sends one message of 1 KiB of JSON
// and reads the server's echo, and the child is measured again: the row
// with msgs 1. Each row gives the growth over the child's baseline per
// connection, beside the Go runtime's own heap+stack figure and
// goroutines per connection.
//
// Modes (-modes): off; no-takeover and takeover, permessage-deflate
// (RFC 7692) without and with context takeover; takeover-4k, gws's
// default with context takeover, whose server limits both windows to
// 4 KiB. With compression the client offers what browsers offer,
// "permessage-deflate; client_max_window_bits", and the server's
// configuration picks the mode. The run fails if a server's answer does
// not match its mode, or if a message either way is not compressed
// (RSV1) when it should be, so that a msgs 1 row has really compressed
// and inflated once each way: libraries that make their compressors on
// first use show that cost only there.
//
//	go run ./cmd/idlemem                  # 10000 conns, every library and mode
//	go run ./cmd/idlemem -conns 2000 -libs gorilla,zerows -modes off,no-takeover
//	go run ./cmd/idlemem -libs zerows -modes takeover -heapprofile /tmp/heap
//
// Everything is loopback only and bounded: each library's run is killed
// after -timeout.
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	conns := flag.Int("conns", 10000, "idle connections per library")
	libList := flag.String("libs", strings.Join(libs, ","), "comma-separated libraries to measure")
	modeList := flag.String("modes", strings.Join(modes, ","), "comma-separated compression modes to measure each library in")
	timeout := flag.Duration("timeout", 2*time.Minute, "limit for each library's run")
	dialers := flag.Int("dialers", 8, "goroutines opening connections")
	child := flag.String("child", "", "internal: serve this library as the measured child")
	childMode := flag.String("mode", modeOff, "internal: the child's compression mode")
	flag.StringVar(&heapProfiles, "heapprofile", "", "write each measured child's heap profile to this directory, as <lib>-<mode>-<msgs>.pprof")
	flag.Parse()

	if *conns < 1 || *conns > 100000 {
		fatal(errors.New("-conns must be between 1 and 100000"))
	}
	if err := raiseNoFile(uint64(*conns) + 256); err != nil {
		fatal(err)
	}
	if *child != "" {
		if heapProfiles != "" {
			runtime.MemProfileRate = 1 // every allocation, not a sample
		}
		fatal(serveChild(*child, *childMode, *conns))
	}

	libNames := strings.Split(*libList, ",")
	for _, lib := range libNames {
		if servers[lib] == nil {
			fatal(fmt.Errorf("unknown library %q", lib))
		}
	}
	modeNames := strings.Split(*modeList, ",")
	for _, m := range modeNames {
		if !slices.Contains(modes, m) {
			fatal(fmt.Errorf("unknown mode %q", m))
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "lib\tmode\tmsgs\tconns\tbase RSS KiB\tidle RSS KiB\tRSS KiB/conn\tGo heap+stack KiB/conn\tgoroutines/conn\t\n")
	for _, lib := range libNames {
		for _, mode := range modeNames {
			if servers[lib][mode] == nil {
				continue
			}
			r, err := measure(lib, mode, *conns, *dialers, *timeout)
			if err != nil {
				fatal(fmt.Errorf("%s, %s: %w", lib, mode, err))
			}
			n := float64(*conns)
			for msgs, s := range []snapshot{r.fresh, r.after} {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t\n", lib, mode, msgs, *conns, r.base.rssKiB, s.rssKiB,
					float64(s.rssKiB-r.base.rssKiB)/n, (float64(s.goBytes)-float64(r.base.goBytes))/1024/n, float64(s.goroutines-r.base.goroutines)/n)
			}
		}
	}
	tw.Flush()
}

func fatal(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "idlemem:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// raiseNoFile lifts RLIMIT_NOFILE's soft limit to at least want, as far as
// the hard limit allows.
func raiseNoFile(want uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= want {
		return nil
	}
	if lim.Max < want {
		return fmt.Errorf("RLIMIT_NOFILE hard limit %d is below the %d descriptors needed", lim.Max, want)
	}
	lim.Cur = want
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// snapshot is the child's memory at one moment.
// heapProfiles is the directory of -heapprofile, or "".
var heapProfiles string

type snapshot struct {
	rssKiB     int64  // VmRSS
	goBytes    uint64 // HeapInuse+StackInuse
	goroutines int
}

type result struct {
	base  snapshot // before any connection
	fresh snapshot // conns idle connections
	after snapshot // the same after one message each way
}

// measure runs one library's child in one mode and reports its memory
// before any connection, with conns idle connections, and with the same
// after one message each way.
func measure(lib, mode string, conns, dialers int, timeout time.Duration) (r result, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		return r, err
	}
	cmd := exec.CommandContext(ctx, exe, "-child", lib, "-mode", mode, "-conns", strconv.Itoa(conns), "-heapprofile", heapProfiles)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	out := bufio.NewScanner(stdout)
	line := func() ([]string, error) {
		if !out.Scan() {
			if out.Err() != nil {
				return nil, out.Err()
			}
			return nil, errors.New("child exited early")
		}
		return strings.Fields(out.Text()), nil
	}

	// "ready <addr> <go bytes> <goroutines>", after the child's GC.
	f, err := line()
	if err != nil {
		return r, err
	}
	if len(f) != 4 || f[0] != "ready" {
		return r, fmt.Errorf("child said %q", f)
	}
	addr := f[1]
	r.base.goBytes, _ = strconv.ParseUint(f[2], 10, 64)
	r.base.goroutines, _ = strconv.Atoi(f[3])
	if r.base.rssKiB, err = vmRSS(cmd.Process.Pid); err != nil {
		return r, err
	}

	open, err := dialAll(ctx, addr, mode, conns, dialers)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	if err != nil {
		return r, err
	}

	// The child answers once every connection is parked and it has
	// collected garbage: "idle <go bytes> <goroutines>".
	snap := func() (s snapshot, err error) {
		if _, err := io.WriteString(stdin, "measure\n"); err != nil {
			return s, err
		}
		f, err := line()
		if err != nil {
			return s, err
		}
		if len(f) != 3 || f[0] != "idle" {
			return s, fmt.Errorf("child said %q", f)
		}
		s.goBytes, _ = strconv.ParseUint(f[1], 10, 64)
		s.goroutines, _ = strconv.Atoi(f[2])
		s.rssKiB, err = vmRSS(cmd.Process.Pid)
		return s, err
	}
	if r.fresh, err = snap(); err != nil {
		return r, err
	}
	if err := echoAll(ctx, open, mode != modeOff, dialers); err != nil {
		return r, err
	}
	r.after, err = snap()
	return r, err
}

// vmRSS reads a process's resident set size in KiB.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// dialAll opens n WebSocket connections to addr, which must be on
// 127.0.0.1, from dialers goroutines, offering compression unless mode
// is off.
func dialAll(ctx context.Context, addr, mode string, n, dialers int) ([]net.Conn, error) {
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		return nil, fmt.Errorf("refusing to dial %s: loopback only", addr)
	}
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	for range max(1, dialers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				c, err := handshake(ctx, addr, mode)
				if err != nil {
					once.Do(func() { failed = fmt.Errorf("connection %d: %w", i, err) })
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	open := conns[:0]
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	return open, failed
}

// browserOffer is the permessage-deflate offer browsers make.
const browserOffer = "permessage-deflate; client_max_window_bits"

// handshake opens one connection and performs a minimal client opening
// handshake (RFC 6455 section 4.1) on it, with browserOffer unless mode
// is off. It fails if the server's answer does not match mode.
func handshake(ctx context.Context, addr, mode string) (net.Conn, error) {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp4", addr)
	if err != nil {
		return nil, err
	}
	dl, _ := dctx.Deadline()
	c.SetDeadline(dl)
	var key [16]byte
	rand.Read(key[:])
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n"
	if mode != modeOff {
		req += "Sec-WebSocket-Extensions: " + browserOffer + "\r\n"
	}
	req += "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	if err := checkExtensions(resp.Header.Get("Sec-WebSocket-Extensions"), mode); err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// checkExtensions checks that a server's Sec-WebSocket-Extensions
// answers browserOffer as mode says it should.
func checkExtensions(ext, mode string) error {
	has := func(param string) bool {
		for p := range strings.SplitSeq(ext, ";") {
			if strings.TrimSpace(p) == param {
				return true
			}
		}
		return false
	}
	var ok bool
	switch mode {
	case modeOff:
		ok = ext == ""
	case modeNoTakeover:
		ok = has("permessage-deflate") && has("server_no_context_takeover") && has("client_no_context_takeover")
	default:
		ok = has("permessage-deflate") && !has("server_no_context_takeover") && !has("client_no_context_takeover")
	}
	if !ok {
		return fmt.Errorf("mode %s, but the server answered Sec-WebSocket-Extensions %q", mode, ext)
	}
	return nil
}

// echoMessage is what each connection sends once: 1 KiB of JSON, above
// every library's compression threshold (gws's is 512 B).
var echoMessage = []byte(`[{"id":1,"user":"user_4711","event":"click","page":"/product/1234","tags":["new","sale"],"locale":"en-US","agent":"Mozilla/5.0 (X11; Linux x86_64)","ok":true}` +
	strings.Repeat(`,{"id":2,"user":"user_0815","event":"view","page":"/cart","tags":["gift"],"locale":"de-DE","agent":"Mozilla/5.0 (X11; Linux x86_64)","ok":false}`, 6) + "]")

// echoAll sends echoMessage on every conn, from dialers goroutines, as
// a masked binary frame, compressed when compress is set, and reads the
// echo back. It fails unless the echo is compressed exactly when the
// message was, and inflates to the message.
func echoAll(ctx context.Context, conns []net.Conn, compress bool, dialers int) error {
	payload, first := echoMessage, byte(0x82) // FIN, binary
	if compress {
		var z bytes.Buffer
		fw, _ := flate.NewWriter(&z, flate.BestSpeed)
		fw.Write(echoMessage)
		fw.Flush()
		payload, first = z.Bytes()[:z.Len()-4], first|0x40 // RFC 7692 §7.2.1; RSV1
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	for range max(1, dialers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(conns); i = int(next.Add(1)) - 1 {
				if err := echoOne(ctx, conns[i], first, payload, compress); err != nil {
					once.Do(func() { failed = fmt.Errorf("connection %d: %w", i, err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return failed
}

func echoOne(ctx context.Context, c net.Conn, first byte, payload []byte, compressed bool) error {
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	defer c.SetDeadline(time.Time{})
	var key [4]byte
	rand.Read(key[:])
	frame := []byte{first, 0x80 | 126, 0, 0}
	binary.BigEndian.PutUint16(frame[2:], uint16(len(payload)))
	frame = append(frame, key[:]...)
	for i, b := range payload {
		frame = append(frame, b^key[i&3])
	}
	if _, err := c.Write(frame); err != nil {
		return err
	}
	var h [10]byte
	if _, err := io.ReadFull(c, h[:2]); err != nil {
		return err
	}
	if h[0]&0x8f != 0x82 || h[1]&0x80 != 0 {
		return fmt.Errorf("echo's frame header %#x %#x: want one unmasked binary frame", h[0], h[1])
	}
	if got := h[0]&0x40 != 0; got != compressed {
		return fmt.Errorf("echo compressed (RSV1) %v, want %v", got, compressed)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(c, h[2:4]); err != nil {
			return err
		}
		n = int(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return errors.New("echo longer than 64 KiB")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c, p); err != nil {
		return err
	}
	if compressed {
		p = append(p, 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
		var err error
		if p, err = io.ReadAll(flate.NewReader(bytes.NewReader(p))); err != nil {
			return fmt.Errorf("inflating the echo: %w", err)
		}
	}
	if !bytes.Equal(p, echoMessage) {
		return errors.New("the echo differs from the message")
	}
	return nil
}

// serveChild is the measured server: it serves lib in mode on 127.0.0.1,
// reports its baseline, and on each "measure" waits for conns parked
// connections and reports again.
func serveChild(lib, mode string, conns int) error {
	var parked atomic.Int64
	all := make(chan struct{})
	serve := servers[lib][mode]
	if serve == nil {
		return fmt.Errorf("no %s server in mode %s", lib, mode)
	}
	h := serve(func() {
		if parked.Add(1) == int64(conns) {
			close(all)
		}
	})
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)

	goBytes, gs := settle()
	fmt.Printf("ready %s %d %d\n", ln.Addr(), goBytes, gs)
	in := bufio.NewScanner(os.Stdin)
	for msgs := 0; in.Scan(); msgs++ { // until the parent goes away or kills us
		select {
		case <-all:
		case <-time.After(time.Minute):
			return fmt.Errorf("only %d of %d connections parked", parked.Load(), conns)
		}
		goBytes, gs = settle()
		if heapProfiles != "" {
			if err := writeHeapProfile(filepath.Join(heapProfiles, fmt.Sprintf("%s-%s-%d.pprof", lib, mode, msgs))); err != nil {
				return err
			}
		}
		fmt.Printf("idle %d %d\n", goBytes, gs)
	}
	return nil
}

// writeHeapProfile writes the heap profile: read it with go tool pprof
// -sample_index=inuse_space. The profile may be two collections old, so
// two more run first: it then shows what settle measured.
func writeHeapProfile(name string) error {
	runtime.GC()
	runtime.GC()
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// settle collects garbage, returns freed memory to the OS and reports the
// heap and stack in use and the number of goroutines. It collects twice:
// what sync.Pools hold survives one collection, and an idle server's
// pools would be empty after two.
func settle() (uint64, int) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse, runtime.NumGoroutine()
}
