// Command load opens many WebSocket connections to echo servers built on
// github.com/zerows/websocket, sends messages of random size over every
// one, checks each echo byte for byte and in order, and reports
// connections held, messages per second, round-trip latency, server memory
// per connection and server goroutines before, during and after.
//
//	go run ./cmd/load                                      # 1000 conns × 20 messages
//	go run ./cmd/load -conns 10000 -msgs 10
//	go run ./cmd/load -conns 5000 -duration 10m -rate 2000  # soak, sampled every 30 s
//	go run ./cmd/load -ci                                  # seconds; exit 1 on any failure
//
// One process can hold fewer than 20,000 descriptors on the machine it was
// written for, and one source address has about 28,000 ephemeral ports, so
// the command is one binary in three roles. The coordinator (the default)
// starts copies of itself: -servers echo servers, each listening on its
// own 127.0.0.x address, and -clients clients, each dialing from its own
// 127.0.0.y source address to every server in turn. Workers print JSON
// lines on stdout and take one-word commands on stdin; the coordinator
// reads the servers' resident memory from /proc/<pid>/status itself.
//
// Everything is bounded: traffic goes to 127.0.0.0/8 only, every loop ends
// by count or by time, the whole run ends at -timeout, and every worker is
// killed when the coordinator returns (and by the kernel if it dies).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// childEnv marks a process started by the coordinator, so that a test
// binary re-executed as a worker runs the worker, not the tests.
const childEnv = "ZEROWS_LOAD_CHILD"

func main() {
	os.Exit(cli(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// cli runs one role with args and returns the exit status.
func cli(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "coordinator", "coordinator, or (started by the coordinator) server or client")
	var cfg config
	cfg.flags(fs)
	var sc serverConfig
	sc.flags(fs)
	var cc clientConfig
	cc.flags(fs)
	ci := fs.Bool("ci", false, "a run of seconds for CI: -conns 200 -msgs 20 -servers 2 -clients 2 -timeout 2m unless given")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := raiseNoFile(); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	var err error
	switch *role {
	case "coordinator":
		if *ci {
			cfg.ciPreset(fs)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		var res *result
		res, err = coordinate(ctx, cfg, stderr)
		if res != nil {
			res.print(stdout)
		}
	case "server":
		err = serve(sc, stdin, stdout)
	case "client":
		cc.msgs, cc.minSize, cc.maxSize, cc.dist, cc.seed = cfg.msgs, cfg.minSize, cfg.maxSize, cfg.dist, cfg.seed
		cc.duration, cc.rate, cc.inflight, cc.dialers = cfg.duration, cfg.rate, cfg.inflight, cfg.dialers
		cc.maxMessage, cc.deadline = sc.maxSize, sc.deadline
		err = runClient(cc, stdin, stdout)
	default:
		err = fmt.Errorf("unknown -role %q", *role)
	}
	if err != nil {
		fmt.Fprintf(stderr, "load (%s): %v\n", *role, err)
		return 1
	}
	return 0
}

// config is the coordinator's.
type config struct {
	conns       int
	msgs        int
	minSize     int
	maxSize     int
	dist        string
	seed        uint64
	duration    time.Duration
	rate        float64
	sample      time.Duration
	servers     int
	clients     int
	perProc     int
	inflight    int
	dialers     int
	timeout     time.Duration
	settle      time.Duration
	corruptEach int
	leakEach    int
}

func (c *config) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.conns, "conns", 1000, "connections")
	fs.IntVar(&c.msgs, "msgs", 20, "messages per connection when -duration is 0")
	fs.IntVar(&c.minSize, "min", 16, "smallest message, bytes (at least 16: each message starts with its connection and sequence number)")
	fs.IntVar(&c.maxSize, "max", 64<<10, "largest message, bytes")
	fs.StringVar(&c.dist, "dist", "log", "message sizes: log (every power of two between -min and -max equally likely) or uniform")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the message sizes and contents")
	fs.DurationVar(&c.duration, "duration", 0, "if set, send for this long instead of -msgs per connection (a soak)")
	fs.Float64Var(&c.rate, "rate", 0, "messages per second over all connections; 0 sends as fast as echoes come back")
	fs.DurationVar(&c.sample, "sample", 30*time.Second, "how often the servers' goroutines and memory are sampled while messages flow")
	fs.IntVar(&c.servers, "servers", 0, "server processes; 0 means conns / -per-proc, rounded up")
	fs.IntVar(&c.clients, "clients", 0, "client processes; 0 means conns / -per-proc, rounded up")
	fs.IntVar(&c.perProc, "per-proc", 16000, "most connections one process holds (a server also has a listener, and the descriptor limit is 20,000 here)")
	fs.IntVar(&c.inflight, "inflight", 256, "most messages in flight in one client process, to bound memory")
	fs.IntVar(&c.dialers, "dialers", 16, "goroutines dialing in each client process")
	fs.DurationVar(&c.timeout, "timeout", 0, "limit for the whole run; 0 means 5m plus -duration")
	fs.DurationVar(&c.settle, "settle", 30*time.Second, "how long the servers' goroutines may take to come back down after the clients leave")
	fs.IntVar(&c.corruptEach, "corrupt-every", 0, "testing: servers flip a byte of every nth echo, to show that the check catches it")
	fs.IntVar(&c.leakEach, "leak-every", 0, "testing: servers keep the goroutine of every nth connection, to show that the leak check catches it")
}

// ciPreset fills the flags that were not given with a run of seconds.
func (c *config) ciPreset(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	def := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	def("conns", func() { c.conns = 200 })
	def("msgs", func() { c.msgs = 20 })
	def("servers", func() { c.servers = 2 })
	def("clients", func() { c.clients = 2 })
	def("timeout", func() { c.timeout = 2 * time.Minute })
	def("settle", func() { c.settle = 10 * time.Second })
}

func (c *config) check() error {
	switch {
	case c.conns < 1:
		return errors.New("-conns must be at least 1")
	case c.msgs < 0 || c.duration < 0 || c.rate < 0:
		return errors.New("-msgs, -duration and -rate cannot be negative")
	case c.duration == 0 && c.msgs == 0:
		return errors.New("-msgs or -duration must be set")
	case c.minSize < 16 || c.maxSize < c.minSize:
		return errors.New("need 16 <= -min <= -max")
	case c.maxSize > 16<<20:
		return errors.New("-max is at most 16 MiB")
	case c.dist != "log" && c.dist != "uniform":
		return errors.New("-dist is log or uniform")
	case c.perProc < 1 || c.perProc > 19000:
		return errors.New("-per-proc must be between 1 and 19000")
	case c.servers < 0 || c.clients < 0 || c.servers > maxServers || c.clients > maxClients:
		return fmt.Errorf("at most %d servers and %d clients", maxServers, maxClients)
	case c.inflight < 1 || c.dialers < 1:
		return errors.New("-inflight and -dialers must be at least 1")
	case c.sample <= 0:
		return errors.New("-sample must be positive")
	}
	return nil
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit: each process
// holds up to -per-proc sockets.
func raiseNoFile() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= lim.Max {
		return nil
	}
	lim.Cur = lim.Max
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
