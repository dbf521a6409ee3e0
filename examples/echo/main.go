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
	"strings"
	"syscall"
	"time"

	"github.com/zerows/websocket"
)

const maxMessageSize = 16 << 20 // 16 MiB

// newHandler echoes every message. subprotocols are the ones it accepts,
// in its order of preference; none means it never picks one. compression
// says whether it accepts a client's permessage-deflate offer.
func newHandler(insecureOrigin bool, subprotocols []string, compression websocket.CompressionMode) http.Handler {
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
		Compression:             compression,
	})
}

// defaultCompression is -compression's default: on, unlike the library's
// Options, because this demo shows what a browser gets and every browser
// offers permessage-deflate; without context takeover, an idle connection
// holds no compressor memory.
const defaultCompression = "no-context-takeover"

// compressionModes are the values of -compression.
var compressionModes = map[string]websocket.CompressionMode{
	"off":                 websocket.CompressionOff,
	"no-context-takeover": websocket.CompressionNoContextTakeover,
	"context-takeover":    websocket.CompressionContextTakeover,
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "`address` to listen on")
	insecureOrigin := flag.Bool("insecure-origin", false, "accept connections from web pages of any origin")
	subprotocols := flag.String("subprotocols", "", "comma-separated `list` of subprotocols to accept, in order of preference (e.g. chat,superchat)")
	compression := flag.String("compression", defaultCompression, "permessage-deflate: `mode` off, no-context-takeover or context-takeover")
	flag.Parse()
	mode, ok := compressionModes[*compression]
	if !ok {
		fmt.Fprintf(os.Stderr, "-compression %q: want off, no-context-takeover or context-takeover\n", *compression)
		os.Exit(2)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo server listening on ws://%s/\n", ln.Addr())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := serve(websocket.NewServer("", newHandler(*insecureOrigin, splitList(*subprotocols), mode)), ln, stop); err != nil {
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
