// Command echo is the smallest WebSocket echo server: every message comes
// back as it came, text as text and binary as binary, on any path.
//
//	go run ./examples/echo
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
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
	srv := &http.Server{Handler: newHandler(*insecureOrigin), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
