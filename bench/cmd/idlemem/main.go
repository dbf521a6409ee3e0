// Command idlemem measures the memory an idle WebSocket connection costs a
// server, per library.
//
// For each library it starts a copy of itself as the server (a child
// process, so that libraries do not share a heap), opens -conns
// connections to it over 127.0.0.1 with a minimal handshake of its own,
// waits until the server has every one parked in its read loop, makes the
// child collect garbage and return freed memory to the OS, and then reads
// the child's VmRSS from /proc/<pid>/status. It prints the growth over the
// child's idle baseline per connection, beside the Go runtime's own
// heap+stack figure and goroutines per connection.
//
//	go run ./cmd/idlemem                  # 10000 conns, every library
//	go run ./cmd/idlemem -conns 2000 -libs gorilla,zerows
//
// Everything is loopback only and bounded: each library's run is killed
// after -timeout.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
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
	timeout := flag.Duration("timeout", 2*time.Minute, "limit for each library's run")
	dialers := flag.Int("dialers", 8, "goroutines opening connections")
	child := flag.String("child", "", "internal: serve this library as the measured child")
	flag.Parse()

	if *conns < 1 || *conns > 100000 {
		fatal(errors.New("-conns must be between 1 and 100000"))
	}
	if err := raiseNoFile(uint64(*conns) + 256); err != nil {
		fatal(err)
	}
	if *child != "" {
		fatal(serveChild(*child, *conns))
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "lib\tconns\tbase RSS KiB\tidle RSS KiB\tRSS KiB/conn\tGo heap+stack KiB/conn\tgoroutines/conn\t\n")
	for _, lib := range strings.Split(*libList, ",") {
		if servers[lib] == nil {
			fatal(fmt.Errorf("unknown library %q", lib))
		}
		r, err := measure(lib, *conns, *dialers, *timeout)
		if err != nil {
			fatal(fmt.Errorf("%s: %w", lib, err))
		}
		n := float64(*conns)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t\n", lib, *conns, r.baseKiB, r.idleKiB,
			float64(r.idleKiB-r.baseKiB)/n, float64(r.goIdle-r.goBase)/1024/n, float64(r.gIdle-r.gBase)/n)
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

type result struct {
	baseKiB, idleKiB int64  // child VmRSS
	goBase, goIdle   uint64 // child HeapInuse+StackInuse, bytes
	gBase, gIdle     int    // child goroutines
}

// measure runs one library's child and reports its memory before and
// after conns idle connections.
func measure(lib string, conns, dialers int, timeout time.Duration) (r result, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		return r, err
	}
	cmd := exec.CommandContext(ctx, exe, "-child", lib, "-conns", strconv.Itoa(conns))
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
	r.goBase, _ = strconv.ParseUint(f[2], 10, 64)
	r.gBase, _ = strconv.Atoi(f[3])
	if r.baseKiB, err = vmRSS(cmd.Process.Pid); err != nil {
		return r, err
	}

	open, err := dialAll(ctx, addr, conns, dialers)
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
	if _, err := io.WriteString(stdin, "measure\n"); err != nil {
		return r, err
	}
	if f, err = line(); err != nil {
		return r, err
	}
	if len(f) != 3 || f[0] != "idle" {
		return r, fmt.Errorf("child said %q", f)
	}
	r.goIdle, _ = strconv.ParseUint(f[1], 10, 64)
	r.gIdle, _ = strconv.Atoi(f[2])
	r.idleKiB, err = vmRSS(cmd.Process.Pid)
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
// 127.0.0.1, from dialers goroutines.
func dialAll(ctx context.Context, addr string, n, dialers int) ([]net.Conn, error) {
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
				c, err := handshake(ctx, addr)
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

// handshake opens one connection and performs a minimal client opening
// handshake (RFC 6455 section 4.1) on it.
func handshake(ctx context.Context, addr string) (net.Conn, error) {
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
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
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
	c.SetDeadline(time.Time{})
	return c, nil
}

// serveChild is the measured server: it serves lib on 127.0.0.1, reports
// its baseline, and on "measure" waits for conns parked connections and
// reports again.
func serveChild(lib string, conns int) error {
	var parked atomic.Int64
	all := make(chan struct{})
	h := servers[lib](func() {
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
	if !in.Scan() {
		return nil // the parent went away
	}
	select {
	case <-all:
	case <-time.After(time.Minute):
		return fmt.Errorf("only %d of %d connections parked", parked.Load(), conns)
	}
	goBytes, gs = settle()
	fmt.Printf("idle %d %d\n", goBytes, gs)
	in.Scan() // wait for the parent to finish reading our RSS and kill us
	return nil
}

// settle collects garbage, returns freed memory to the OS and reports the
// heap and stack in use and the number of goroutines.
func settle() (uint64, int) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse, runtime.NumGoroutine()
}
