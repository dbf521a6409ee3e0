package websocket_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/zerows/websocket"
)

// dial opens a client connection to an httptest server.
func dial(srv *httptest.Server) *websocket.Conn {
	ws, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	return ws
}

// A page and its live feed on one URL: plain HTTP requests get ws == nil.
func ExampleAccept() {
	srv := httptest.NewServer(websocket.Accept(func(w http.ResponseWriter, r *http.Request, ws *websocket.Conn) {
		if ws == nil {
			io.WriteString(w, "<progress></progress>")
			return
		}
		for pct := 0; pct <= 100; pct += 50 {
			if ws.SendText(fmt.Sprintf("%d%%", pct)) != nil {
				return
			}
		}
	}, nil)) // returning closes the connection with 1000
	defer srv.Close()

	resp, _ := http.Get(srv.URL)
	page, _ := io.ReadAll(resp.Body)
	fmt.Println("page:", string(page))

	ws := dial(srv)
	for m := range ws.Messages() {
		fmt.Println("feed:", string(m.Data))
	}
	fmt.Println(ws.Err())
	// Output:
	// page: <progress></progress>
	// feed: 0%
	// feed: 50%
	// feed: 100%
	// websocket: closed: 1000 normal closure
}

// An echo server that speaks only WebSocket; a plain GET gets 400.
func ExampleRequire() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for m := range ws.Messages() {
			ws.SendMessage(m) // text stays text, binary stays binary
		}
	}, nil))
	defer srv.Close()

	resp, _ := http.Get(srv.URL)
	fmt.Println("plain GET:", resp.Status)

	ws := dial(srv)
	defer ws.Close()
	ws.SendText("hello")
	m, _ := ws.Wait()
	fmt.Println(m.Type, string(m.Data))
	// Output:
	// plain GET: 400 Bad Request
	// text hello
}

// Wait blocks for the next message; WaitTimeout bounds the wait without
// harming the connection.
func ExampleConn_Wait() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		if _, err := ws.WaitTimeout(10 * time.Millisecond); err != nil {
			ws.SendText("still there?")
		}
		m, err := ws.Wait()
		if err == nil {
			ws.SendText("got " + string(m.Data))
		}
	}, nil))
	defer srv.Close()

	ws := dial(srv)
	m, _ := ws.Wait()
	fmt.Println(string(m.Data))
	ws.SendText("yes")
	m, _ = ws.Wait()
	fmt.Println(string(m.Data))
	_, err := ws.Wait()
	fmt.Println(websocket.CloseStatus(err))
	// Output:
	// still there?
	// got yes
	// normal closure
}

// Read never blocks: it suits a loop that has other work to do. Messages
// queued before the peer closed can still be read after the close.
func ExampleConn_Read() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ws.SendText("one")
		ws.SendText("two")
	}, nil)) // returning closes the connection
	defer srv.Close()

	ws := dial(srv)
	<-ws.Done() // closed by the server; the messages wait in the mailbox
	fmt.Println("queued:", ws.CountMessages())
	for ws.HasMessages() {
		m, _ := ws.Read()
		fmt.Println(string(m.Data))
	}
	_, ok := ws.Read()
	fmt.Println("more:", ok)
	// Output:
	// queued: 2
	// one
	// two
	// more: false
}

// Messages ranges over the messages until the peer closes; Err says how.
func ExampleConn_Messages() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		for _, s := range []string{"a", "b", "c"} {
			ws.SendText(s)
		}
		ws.CloseWith(websocket.CloseGoingAway, "shutting down")
	}, nil))
	defer srv.Close()

	ws := dial(srv)
	for m := range ws.Messages() {
		fmt.Println(string(m.Data))
	}
	fmt.Println(ws.Err())
	// Output:
	// a
	// b
	// c
	// websocket: closed: 1001 going away: shutting down
}

// A prepared message is framed once and sent to every connection.
func Example_broadcast() {
	joined := make(chan *websocket.Conn)
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		joined <- ws
		<-ws.Done()
	}, nil))
	defer srv.Close()

	var clients, members []*websocket.Conn
	for range 3 {
		clients = append(clients, dial(srv))
		members = append(members, <-joined)
	}
	pm := websocket.NewPreparedMessage(websocket.MessageText, []byte("hello, everyone"))
	for _, ws := range members {
		ws.SendPrepared(pm)
	}
	for i, ws := range clients {
		m, _ := ws.Wait()
		fmt.Println(i, string(m.Data))
		ws.Close()
	}
	// Output:
	// 0 hello, everyone
	// 1 hello, everyone
	// 2 hello, everyone
}

// Dial opens a client connection with the same mailbox as the server's.
func ExampleDial() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		ws.SendText("welcome, " + ws.Subprotocol())
	}, &websocket.Options{Subprotocols: []string{"chat.v2", "chat.v1"}}))
	defer srv.Close()

	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	ws, resp, err := websocket.Dial(context.Background(), url, &websocket.Options{
		Subprotocols: []string{"chat.v1", "chat.v2"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()
	fmt.Println(resp.Status)
	m, _ := ws.Wait()
	fmt.Println(string(m.Data))
	// Output:
	// 101 Switching Protocols
	// welcome, chat.v2
}
