package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/zerows/websocket"
)

// report is one JSON line from a worker to the coordinator.
type report struct {
	Kind string `json:"kind"` // ready, stats, up, done, closed

	// A server's.
	Addr       string `json:"addr,omitempty"`
	Goroutines int    `json:"goroutines,omitempty"`
	HeapBytes  uint64 `json:"heap_bytes,omitempty"`
	StackBytes uint64 `json:"stack_bytes,omitempty"`

	// A client's.
	Conns      int            `json:"conns,omitempty"`
	DialErrors int            `json:"dial_errors,omitempty"`
	Msgs       int64          `json:"msgs,omitempty"`
	Bytes      int64          `json:"bytes,omitempty"`
	Errors     int64          `json:"errors,omitempty"`
	Mismatches int64          `json:"mismatches,omitempty"`
	FirstError string         `json:"first_error,omitempty"`
	Latency    map[int]uint64 `json:"latency,omitempty"` // histogram bucket → count
	ElapsedNs  int64          `json:"elapsed_ns,omitempty"`
}

func emit(w io.Writer, r report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

type serverConfig struct {
	listen      string
	maxSize     int
	corruptEach int
	leakEach    int
	deadline    time.Duration
}

func (c *serverConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "listen", "127.0.0.1:0", "server: address to listen on (loopback only)")
	fs.IntVar(&c.maxSize, "max-message", 1<<20, "server and client: MaxMessageSize")
	fs.IntVar(&c.corruptEach, "corrupt", 0, "server: flip a byte of every nth echo (testing)")
	fs.IntVar(&c.leakEach, "leak", 0, "server: keep the goroutine of every nth connection after it ends (testing)")
	fs.DurationVar(&c.deadline, "deadline", 10*time.Minute, "server and client: exit after this long whatever happens")
}

// serve is the server role: an echo server on cfg.listen that answers
// "stats" on stdin with its goroutines after a garbage collection, and
// exits when stdin closes.
func serve(cfg serverConfig, stdin io.Reader, stdout io.Writer) error {
	host, _, err := net.SplitHostPort(cfg.listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to listen on %s: loopback only", cfg.listen)
	}
	ln, err := net.Listen("tcp4", cfg.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	time.AfterFunc(cfg.deadline, func() {
		fmt.Fprintln(os.Stderr, "load (server): deadline passed, exiting")
		os.Exit(3)
	})

	opts := &websocket.Options{MaxMessageSize: int64(cfg.maxSize)}
	var echoed, accepted atomic.Int64
	leaked := make(chan struct{}) // never closed: the process's end frees it
	echo := func(ws *websocket.Conn, _ *http.Request) {
		n := accepted.Add(1)
		for {
			m, err := ws.Wait()
			if err != nil {
				if cfg.leakEach > 0 && n%int64(cfg.leakEach) == 0 {
					<-leaked
				}
				return // the peer closed, or the connection failed
			}
			if n := echoed.Add(1); cfg.corruptEach > 0 && n%int64(cfg.corruptEach) == 0 {
				m.Data[len(m.Data)-1] ^= 1
			}
			if ws.SendMessage(m) != nil {
				return
			}
		}
	}
	srv := &http.Server{Handler: websocket.Require(echo, opts), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)

	if err := emit(stdout, report{Kind: "ready", Addr: ln.Addr().String()}); err != nil {
		return err
	}
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		switch in.Text() {
		case "stats":
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			// The goroutine reading stdin is this one; Serve's is the other.
			r := report{Kind: "stats", Goroutines: runtime.NumGoroutine(), HeapBytes: ms.HeapInuse, StackBytes: ms.StackInuse}
			if err := emit(stdout, r); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown command %q", in.Text())
		}
	}
	if err := in.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil // the coordinator closed stdin: done
}
