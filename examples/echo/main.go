// Command echo is the smallest WebSocket echo server: every message comes
// back as it came, text as text and binary as binary, on any path.
//
//	go run ./examples/echo
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zerows/websocket"
)

const maxMessageSize = 16 << 20 // 16 MiB

func newHandler(insecureOrigin bool) http.Handler {
	return websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for m := range ws.Messages() {
			if err := ws.SendMessage(m); err != nil {
				return
			}
		}
	}, &websocket.Options{
		MaxMessageSize: maxMessageSize,
		// Room for one whole message waiting behind others (one message is
		// always let in, however big).
		MailboxBytes:            maxMessageSize,
		InsecureSkipOriginCheck: insecureOrigin,
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "`address` to listen on")
	insecureOrigin := flag.Bool("insecure-origin", false, "accept connections from web pages of any origin")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo server listening on ws://%s/\n", ln.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := serve(websocket.NewServer("", newHandler(*insecureOrigin)), ln, stop); err != nil {
		log.Fatal(err)
	}
}

// serve runs srv on ln until a signal arrives on stop, then shuts it down:
// every WebSocket client gets 1001 (going away), and the handlers have 5 s
// to return.
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
