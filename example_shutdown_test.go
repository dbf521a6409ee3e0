package websocket_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/zerows/websocket"
)

// A server with safe timeouts that, on Ctrl-C, closes every WebSocket with
// 1001 (going away) and gives the handlers 5 s to return.
func ExampleNewServer() {
	http.Handle("/echo", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for m := range ws.Messages() {
			ws.SendMessage(m)
		}
	}, nil))
	srv := websocket.NewServer(":8080", nil) // nil: http.DefaultServeMux
	go srv.ListenAndServe()

	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-sig.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := websocket.Shutdown(ctx, srv); err != nil {
		fmt.Println("shutdown:", err) // a handler is still running
	}
}

// Shutdown closes every WebSocket of a server with 1001 and waits until
// their handlers have returned.
func ExampleShutdown() {
	srv := websocket.NewServer("", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for m := range ws.Messages() { // ends when Shutdown closes ws
			ws.SendMessage(m)
		}
		fmt.Println("handler returned")
	}, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)

	client, _, err := websocket.Dial(context.Background(), "ws://"+ln.Addr().String()+"/", nil)
	if err != nil {
		panic(err)
	}
	client.SendText("hello")
	client.Wait() // the echo: the handler runs
	closed := make(chan error)
	go func() {
		_, err := client.Wait() // reads, and answers, the close
		closed <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println("Shutdown:", websocket.Shutdown(ctx, srv))
	fmt.Println("client:", <-closed)
	// Output:
	// handler returned
	// Shutdown: <nil>
	// client: websocket: closed: 1001 going away: server shutting down
}
