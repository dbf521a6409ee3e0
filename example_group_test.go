package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/zerows/websocket"
)

// A chat room: every connection joins the room, and every message one of
// them sends is broadcast to all of them, framed once.
func ExampleGroup() {
	var room websocket.Group
	joined := make(chan struct{})
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		room.Join(ws)
		defer room.Leave(ws)
		joined <- struct{}{}
		for m := range ws.Messages() {
			room.Broadcast(websocket.NewPreparedMessage(m.Type, m.Data))
		}
	}, nil))
	defer srv.Close()

	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	alice, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	<-joined
	bob, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	<-joined

	alice.SendText("hello, room")
	for _, c := range []*websocket.Conn{alice, bob} {
		m, _ := c.Wait()
		fmt.Printf("%s\n", m.Data)
	}
	alice.Close()
	bob.Close()
	// Output:
	// hello, room
	// hello, room
}
