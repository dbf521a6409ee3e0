package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Servers listen on 127.0.0.10 upward and clients dial from 127.0.0.100
// upward: one source address per client keeps each client's connections
// within one address's ephemeral ports.
const (
	firstServerIP = 10
	firstClientIP = 100
	maxServers    = firstClientIP - firstServerIP
	maxClients    = 250 - firstClientIP
)

// worker is one child process and its two pipes.
type worker struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan report   // closed when stdout ends
	exited  chan struct{} // closed once the process is waited for
	waitErr error
}

func startWorker(name string, args []string, stderr io.Writer) (*worker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = stderr
	// The kernel kills the worker if the coordinator dies without
	// cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := &worker{name: name, cmd: cmd, stdin: stdin, lines: make(chan report, 4), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var r report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				r = report{Kind: "garbled", FirstError: sc.Text()}
			}
			w.lines <- r
		}
		close(w.lines)
		w.waitErr = cmd.Wait()
		close(w.exited)
	}()
	return w, nil
}

func (w *worker) send(command string) error {
	_, err := io.WriteString(w.stdin, command+"\n")
	if err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	return nil
}

// recv waits for the worker's next report, which must be of kind.
func (w *worker) recv(ctx context.Context, kind string) (report, error) {
	select {
	case r, ok := <-w.lines:
		if !ok {
			<-w.exited
			return r, fmt.Errorf("%s exited before %q: %v", w.name, kind, w.waitErr)
		}
		if r.Kind != kind {
			return r, fmt.Errorf("%s said %q (%s), want %q", w.name, r.Kind, r.FirstError, kind)
		}
		return r, nil
	case <-ctx.Done():
		return report{}, fmt.Errorf("%s: no %q before the run's limit: %w", w.name, kind, ctx.Err())
	}
}

// kill ends the worker at once; the deferred cleanup of every run.
func (w *worker) kill() {
	w.stdin.Close()
	_ = w.cmd.Process.Kill()
	<-w.exited
}

// stats asks a server for its goroutines and reads its resident memory.
func (w *worker) stats(ctx context.Context) (serverStats, error) {
	if err := w.send("stats"); err != nil {
		return serverStats{}, err
	}
	r, err := w.recv(ctx, "stats")
	if err != nil {
		return serverStats{}, err
	}
	rss, err := vmRSS(w.cmd.Process.Pid)
	return serverStats{goroutines: r.Goroutines, rssKiB: rss, heapKiB: int64(r.HeapBytes >> 10), stackKiB: int64(r.StackBytes >> 10)}, err
}

// serverStats is summed over the server processes.
type serverStats struct {
	goroutines int
	rssKiB     int64
	heapKiB    int64 // runtime HeapInuse
	stackKiB   int64 // runtime StackInuse
}

func (s serverStats) plus(o serverStats) serverStats {
	return serverStats{s.goroutines + o.goroutines, s.rssKiB + o.rssKiB, s.heapKiB + o.heapKiB, s.stackKiB + o.stackKiB}
}

func allStats(ctx context.Context, servers []*worker) (total serverStats, each []serverStats, err error) {
	for _, s := range servers {
		st, err := s.stats(ctx)
		if err != nil {
			return total, each, err
		}
		each = append(each, st)
		total = total.plus(st)
	}
	return total, each, nil
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

// sample is the servers' state at one moment of the message phase.
type sample struct {
	at    time.Duration
	stats serverStats
}

// result is what a run measured, and what went wrong.
type result struct {
	cfg                config
	servers, clients   int
	held, dialErrors   int
	base, up, busy     serverStats // before, with every conn up, after the messages
	end                serverStats // after the clients left
	settledIn          time.Duration
	msgs, bytes        int64
	errors, mismatches int64
	elapsed            time.Duration
	latency            merged
	samples            []sample
	failures           []string
}

func (r *result) fail(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// coordinate runs the whole test and returns what it measured; the error
// is non-nil if anything failed, a leak included.
func coordinate(parent context.Context, cfg config, stderr io.Writer) (*result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.timeout == 0 {
		cfg.timeout = 5*time.Minute + cfg.duration
	}
	nServers, nClients := cfg.servers, cfg.clients
	perProc := (cfg.conns + cfg.perProc - 1) / cfg.perProc
	if nServers == 0 {
		nServers = perProc
	}
	if nClients == 0 {
		nClients = perProc
	}
	if nServers > maxServers || nClients > maxClients {
		return nil, fmt.Errorf("%d conns need %d processes of each kind; at most %d servers and %d clients", cfg.conns, perProc, maxServers, maxClients)
	}
	if (cfg.conns+nServers-1)/nServers > cfg.perProc || (cfg.conns+nClients-1)/nClients > cfg.perProc {
		return nil, fmt.Errorf("%d servers and %d clients would hold more than -per-proc %d connections each", nServers, nClients, cfg.perProc)
	}
	ctx, cancel := context.WithTimeout(parent, cfg.timeout)
	defer cancel()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "load: "+format+"\n", args...)
	}
	res := &result{cfg: cfg, servers: nServers, clients: nClients}
	// Workers give up on their own a little after the coordinator would.
	deadline := (cfg.timeout + 30*time.Second).String()

	var workers []*worker
	defer func() {
		for _, w := range workers {
			w.kill()
		}
	}()
	maxMessage := strconv.Itoa(cfg.maxSize)

	// Servers.
	var servers []*worker
	var addrs []string
	for j := range nServers {
		listen := fmt.Sprintf("127.0.0.%d:0", firstServerIP+j)
		args := []string{"-role=server", "-listen", listen, "-max-message", maxMessage, "-deadline", deadline}
		if cfg.corruptEach > 0 {
			args = append(args, "-corrupt", strconv.Itoa(cfg.corruptEach))
		}
		if cfg.leakEach > 0 {
			args = append(args, "-leak", strconv.Itoa(cfg.leakEach))
		}
		w, err := startWorker(fmt.Sprintf("server %d", j), args, stderr)
		if err != nil {
			return nil, err
		}
		workers = append(workers, w)
		servers = append(servers, w)
	}
	for _, s := range servers {
		r, err := s.recv(ctx, "ready")
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, r.Addr)
	}
	base, baseEach, err := allStats(ctx, servers)
	res.base = base
	if err != nil {
		return nil, err
	}
	logf("%d servers up on %s; %d goroutines, %d KiB RSS in all", nServers, strings.Join(addrs, ","), res.base.goroutines, res.base.rssKiB)

	// Clients: each dials its share, to every server in turn.
	var clients []*worker
	dialStart := time.Now()
	rate := cfg.rate / float64(nClients)
	for k := range nClients {
		first, last := k*cfg.conns/nClients, (k+1)*cfg.conns/nClients
		args := []string{"-role=client",
			"-source", fmt.Sprintf("127.0.0.%d", firstClientIP+k),
			"-server-addrs", strings.Join(addrs, ","),
			"-first", strconv.Itoa(first), "-client-conns", strconv.Itoa(last - first),
			"-msgs", strconv.Itoa(cfg.msgs), "-min", strconv.Itoa(cfg.minSize), "-max", strconv.Itoa(cfg.maxSize),
			"-dist", cfg.dist, "-seed", strconv.FormatUint(cfg.seed, 10),
			"-duration", cfg.duration.String(), "-rate", strconv.FormatFloat(rate, 'g', -1, 64),
			"-inflight", strconv.Itoa(cfg.inflight), "-dialers", strconv.Itoa(cfg.dialers),
			"-max-message", maxMessage, "-phase", cfg.timeout.String(), "-deadline", deadline,
		}
		w, err := startWorker(fmt.Sprintf("client %d", k), args, stderr)
		if err != nil {
			return res, err
		}
		workers = append(workers, w)
		clients = append(clients, w)
	}
	for _, c := range clients {
		r, err := c.recv(ctx, "up")
		if err != nil {
			return res, err
		}
		res.held += r.Conns
		res.dialErrors += r.DialErrors
		if r.DialErrors > 0 {
			res.fail("%s: %d connections failed, the first: %s", c.name, r.DialErrors, r.FirstError)
		}
	}
	logf("%d clients hold %d connections (%d failed), dialed in %s", nClients, res.held, res.dialErrors, time.Since(dialStart).Round(time.Millisecond))
	// Each held connection is one goroutine on its server: the handler's.
	// net/http's goroutine for the connection ends just after the
	// handshake, so it may take a moment.
	for try := 0; ; try++ {
		if res.up, _, err = allStats(ctx, servers); err != nil {
			return res, err
		}
		got := res.up.goroutines - res.base.goroutines
		if got == res.held {
			break
		}
		if try == 10 {
			res.fail("servers have %d goroutines more with %d connections up, want one each", got, res.held)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	logf("servers: %d goroutines, %d KiB RSS", res.up.goroutines, res.up.rssKiB)

	// Messages, with the servers sampled every cfg.sample meanwhile.
	res.samples = append(res.samples, sample{0, res.up})
	start := time.Now()
	for _, c := range clients {
		if err := c.send("go"); err != nil {
			return res, err
		}
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampling sync.WaitGroup
	var sampleErr error
	sampling.Go(func() {
		tick := time.NewTicker(cfg.sample)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
			case <-sampleCtx.Done():
				return
			}
			// A sample is dated when it starts: a collection on a busy
			// server can take seconds.
			at := time.Since(start)
			st, _, err := allStats(ctx, servers)
			if err != nil {
				sampleErr = err
				return
			}
			res.samples = append(res.samples, sample{at, st})
			logf("%s: servers %d goroutines, %d KiB RSS", at.Round(time.Second), st.goroutines, st.rssKiB)
		}
	})
	var lastErr string
	for _, c := range clients {
		r, err := c.recv(ctx, "done")
		if err != nil {
			stopSampling()
			sampling.Wait()
			return res, err
		}
		res.msgs += r.Msgs
		res.bytes += r.Bytes
		res.errors += r.Errors
		res.mismatches += r.Mismatches
		res.latency.add(r.Latency)
		if r.FirstError != "" {
			lastErr = c.name + ": " + r.FirstError
			res.fail("%s: %d errors, %d mismatches; the first: %s", c.name, r.Errors, r.Mismatches, r.FirstError)
		}
	}
	res.elapsed = time.Since(start)
	stopSampling()
	sampling.Wait()
	if sampleErr != nil {
		return res, sampleErr
	}
	if cfg.duration == 0 && res.msgs != int64(res.held)*int64(cfg.msgs) {
		res.fail("%d messages echoed, want %d", res.msgs, int64(res.held)*int64(cfg.msgs))
	}
	logf("%d messages in %s, %d errors, %d mismatches %s", res.msgs, res.elapsed.Round(time.Millisecond), res.errors, res.mismatches, lastErr)
	if res.busy, _, err = allStats(ctx, servers); err != nil {
		return res, err
	}
	res.samples = append(res.samples, sample{res.elapsed, res.busy})
	slices.SortFunc(res.samples, func(a, b sample) int { return cmp.Compare(a.at, b.at) })

	// The clients leave; every server's goroutines must come back down.
	for _, c := range clients {
		if err := c.send("close"); err != nil {
			return res, err
		}
	}
	for _, c := range clients {
		if _, err := c.recv(ctx, "closed"); err != nil {
			return res, err
		}
	}
	closed := time.Now()
	settle, cancelSettle := context.WithTimeout(ctx, cfg.settle)
	defer cancelSettle()
	for {
		st, each, err := allStats(ctx, servers)
		if err != nil {
			return res, err
		}
		res.end = st
		down := true
		for j := range each {
			down = down && each[j].goroutines <= baseEach[j].goroutines
		}
		if down {
			res.settledIn = time.Since(closed)
			break
		}
		select {
		case <-time.After(100 * time.Millisecond):
			continue
		case <-settle.Done():
		}
		res.settledIn = time.Since(closed)
		res.fail("servers still have %d goroutines %s after the clients left, %d before they came (a leak)", st.goroutines, cfg.settle, res.base.goroutines)
		break
	}
	logf("clients gone: servers %d goroutines (%d before), %d KiB RSS", res.end.goroutines, res.base.goroutines, res.end.rssKiB)
	if len(res.failures) > 0 {
		return res, fmt.Errorf("%d failures", len(res.failures))
	}
	return res, nil
}

func (r *result) print(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "processes: %d servers, %d clients; sizes %d..%d B (%s), seed %d, %d in flight per client\n",
		r.servers, r.clients, c.minSize, c.maxSize, c.dist, c.seed, c.inflight)
	fmt.Fprintf(w, "connections held: %d of %d\n", r.held, c.conns)
	if r.held > 0 && r.up.rssKiB > 0 {
		n := float64(r.held)
		fmt.Fprintf(w, "server RSS: %d KiB before, %d KiB with every connection up: %.2f KiB per connection (Go heap %.2f KiB, stacks %.2f KiB)\n",
			r.base.rssKiB, r.up.rssKiB, float64(r.up.rssKiB-r.base.rssKiB)/n,
			float64(r.up.heapKiB-r.base.heapKiB)/n, float64(r.up.stackKiB-r.base.stackKiB)/n)
		fmt.Fprintf(w, "server RSS after the messages, connections still up: %d KiB: %.2f KiB per connection (Go heap %.2f KiB, stacks %.2f KiB)\n",
			r.busy.rssKiB, float64(r.busy.rssKiB-r.base.rssKiB)/n,
			float64(r.busy.heapKiB-r.base.heapKiB)/n, float64(r.busy.stackKiB-r.base.stackKiB)/n)
		fmt.Fprintf(w, "server goroutines: %d before, %d with every connection up (%.2f per connection), %d after the messages\n",
			r.base.goroutines, r.up.goroutines, float64(r.up.goroutines-r.base.goroutines)/float64(r.held), r.busy.goroutines)
	}
	if r.elapsed > 0 {
		secs := r.elapsed.Seconds()
		fmt.Fprintf(w, "messages: %d echoed and checked in %.1f s: %.0f messages/s, %.1f MiB/s each way\n",
			r.msgs, secs, float64(r.msgs)/secs, float64(r.bytes)/secs/(1<<20))
		fmt.Fprintf(w, "round trip: p50 %s, p99 %s, p99.9 %s (bucket lower bounds, within 6.25%%)\n",
			roundDur(r.latency.quantile(0.5)), roundDur(r.latency.quantile(0.99)), roundDur(r.latency.quantile(0.999)))
		fmt.Fprintf(w, "errors: %d, mismatches: %d\n", r.errors, r.mismatches)
	}
	if len(r.samples) > 2 || c.duration > 0 {
		fmt.Fprintf(w, "samples while messages flowed (servers, summed):\n")
		fmt.Fprintf(w, "  %8s  %10s  %10s  %10s  %10s\n", "t", "goroutines", "RSS KiB", "heap KiB", "stacks KiB")
		for _, s := range r.samples {
			fmt.Fprintf(w, "  %8s  %10d  %10d  %10d  %10d\n", s.at.Round(time.Second), s.stats.goroutines, s.stats.rssKiB, s.stats.heapKiB, s.stats.stackKiB)
		}
	}
	if r.end.goroutines > 0 {
		fmt.Fprintf(w, "after the clients left: %d server goroutines (%d before) within %s, %d KiB RSS\n",
			r.end.goroutines, r.base.goroutines, r.settledIn.Round(time.Millisecond), r.end.rssKiB)
	}
	if len(r.failures) == 0 {
		fmt.Fprintln(w, "result: ok")
		return
	}
	for _, f := range r.failures {
		fmt.Fprintln(w, "FAIL:", f)
	}
}

// roundDur keeps three significant digits or so: the histogram has no more.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
