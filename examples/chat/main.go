// Command chat is a chat server with rooms: one URL serves the page and
// the WebSocket it opens to itself. Each room is a websocket.Group: a
// message is framed once and queued for every member, and one slow member
// never holds up the room.
//
//	go run ./examples/chat
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/zerows/websocket"
)

//go:embed page.html
var page []byte

// Limits on what a page sends. maxText is also the page's maxlength.
const (
	maxText        = 1000 // characters in a chat message
	maxName        = 32   // characters in a name or a room name
	maxMessageSize = 4 * maxText
)

func newHandler(h *hub) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", websocket.Accept(func(w http.ResponseWriter, r *http.Request, ws *websocket.Conn) {
		if ws == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
			return
		}
		serve(h, ws, r)
	}, &websocket.Options{
		MaxMessageSize: maxMessageSize,
		// Drops members whose network went away without a word.
		PingInterval: 30 * time.Second,
	}))
	return mux
}

// serve runs one member: it joins the room named in the URL
// (?room=lobby&name=alice), says each text message it receives, and
// leaves when the connection closes.
func serve(h *hub, ws *websocket.Conn, r *http.Request) {
	room := clean(r.URL.Query().Get("room"), "lobby")
	m, err := h.join(room, clean(r.URL.Query().Get("name"), "guest"), ws)
	if err != nil {
		return
	}
	defer h.leave(m)
	for msg := range ws.Messages() { // ends when the connection has closed
		if msg.Type != websocket.MessageText {
			ws.CloseWith(websocket.CloseUnsupportedData, "text messages only")
			return
		}
		text := strings.TrimSpace(string(msg.Data))
		if text == "" {
			continue
		}
		if utf8.RuneCountInString(text) > maxText {
			text = string([]rune(text)[:maxText])
		}
		h.say(m, text)
	}
}

// clean trims s to a short single line, or returns def for an empty one.
func clean(s, def string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxName {
		s = string([]rune(s)[:maxName])
	}
	if s == "" {
		return def
	}
	return s
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "`address` to listen on (port 0 picks a free port)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintln(os.Stderr, "chat: another program uses this port; pick another one with -addr, e.g. -addr 127.0.0.1:0")
		}
		os.Exit(1)
	}
	a := ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost" // browsers cannot open a wildcard address
	}
	fmt.Printf("open http://%s/ in a browser\n", net.JoinHostPort(host, strconv.Itoa(a.Port)))

	srv := websocket.NewServer("", newHandler(newHub(defaultQueue)))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		log.Fatal(err)
	case <-ctx.Done():
		stop() // a second Ctrl-C kills the process
	}
	log.Print("shutting down: closing every connection with 1001")
	if err := shutdown(srv); err != nil {
		log.Fatal(err)
	}
}

// shutdown closes every member's connection with 1001 (going away) and
// waits, at most 5 s, for the handlers to return.
func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Shutdown(ctx, srv)
}
