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
	"strings"
	"time"

	"github.com/zerows/websocket"
)

const maxMessageSize = 16 << 20 // 16 MiB

// newHandler echoes every message. subprotocols are the ones it accepts,
// in its order of preference; none means it never picks one.
func newHandler(insecureOrigin bool, subprotocols []string) http.Handler {
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
		Subprotocols:            subprotocols,
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "`address` to listen on")
	insecureOrigin := flag.Bool("insecure-origin", false, "accept connections from web pages of any origin")
	subprotocols := flag.String("subprotocols", "", "comma-separated `list` of subprotocols to accept, in order of preference (e.g. chat,superchat)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo server listening on ws://%s/\n", ln.Addr())
	srv := &http.Server{Handler: newHandler(*insecureOrigin, splitList(*subprotocols)), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// splitList splits a comma-separated list, dropping spaces and empty items.
func splitList(s string) []string {
	var list []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	return list
}
