// Command download is the zerows demo: one URL serves both an HTML page and
// the WebSocket feed that page opens to itself. Pressing Start on the page
// runs a simulated file download on the server, whose progress is streamed
// to the page's progress bar.
//
//	go run ./examples/download
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zerows/websocket"
)

//go:embed page.html
var page []byte

// The simulated download: fileSize bytes in steps equal steps.
const (
	steps    = 20
	fileSize = 20 << 20
)

// event is one message to the page, as JSON.
type event struct {
	Type    string `json:"type"` // started, progress, done, busy or error
	Percent int    `json:"percent,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	Total   int64  `json:"total,omitempty"`
	Text    string `json:"text,omitempty"`
}

func send(ws *websocket.Conn, e event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return ws.SendText(string(b))
}

// newHandler serves the page on a plain GET of / and the progress feed on a
// WebSocket upgrade of the same URL. step is the time between two progress
// messages.
func newHandler(step time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", websocket.Accept(func(w http.ResponseWriter, r *http.Request, ws *websocket.Conn) {
		if ws == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
			return
		}
		feed(ws, step)
	}, nil))
	return mux
}

// feed serves one page's WebSocket until it closes. Each "start" runs a
// download in its own goroutine, at most one at a time, while this loop
// keeps reading commands.
func feed(ws *websocket.Conn, step time.Duration) {
	log.Printf("%v: connected", ws.RemoteAddr())
	var (
		running atomic.Bool
		wg      sync.WaitGroup
	)
	for m := range ws.Messages() { // ends when the connection has closed
		switch {
		case m.Type != websocket.MessageText || string(m.Data) != "start":
			send(ws, event{Type: "error", Text: `unknown command: send "start"`})
		case !running.CompareAndSwap(false, true):
			send(ws, event{Type: "busy", Text: "already running"})
		default:
			send(ws, event{Type: "started", Total: fileSize})
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok := download(ws, step)
				// Cleared before "done" is sent, so that a "start" sent in
				// answer to it is never refused.
				running.Store(false)
				if ok {
					send(ws, event{Type: "done", Bytes: fileSize, Total: fileSize, Text: "download complete"})
				}
			}()
		}
	}
	wg.Wait() // a download in progress sees ws.Done() and returns at once
	log.Printf("%v: disconnected: %v", ws.RemoteAddr(), ws.Err())
}

// download sends one progress message per step, and reports whether it got
// to 100% before the connection closed.
func download(ws *websocket.Conn, step time.Duration) bool {
	tick := time.NewTicker(step)
	defer tick.Stop()
	for i := 1; i <= steps; i++ {
		select {
		case <-ws.Done():
			return false
		case <-tick.C:
		}
		err := send(ws, event{Type: "progress", Percent: i * 100 / steps, Bytes: fileSize * int64(i) / steps, Total: fileSize})
		if err != nil {
			return false
		}
	}
	return true
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`address` to listen on (port 0 picks a free port)")
	step := flag.Duration("step", 150*time.Millisecond, "time between two progress messages")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "download:", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintln(os.Stderr, "download: another program uses this port; pick another one with -addr, e.g. -addr 127.0.0.1:0")
		}
		os.Exit(1)
	}
	fmt.Printf("open %s in a browser\n", pageURL(ln.Addr().(*net.TCPAddr)))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := serve(websocket.NewServer("", newHandler(*step)), ln, stop); err != nil {
		log.Fatal(err)
	}
}

// serve runs srv on ln until a signal arrives on stop, then shuts it down:
// every page gets 1001 (going away), and the handlers have 5 s to return.
func serve(srv *http.Server, ln net.Listener, stop <-chan os.Signal) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Shutdown(ctx, srv)
}

// pageURL is the URL of the page served on a, with "localhost" for a
// wildcard address, which browsers cannot open.
func pageURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + "/"
}
