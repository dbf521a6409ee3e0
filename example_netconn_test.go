package websocket_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/zerows/websocket"
)

// A line protocol written for net.Conn, carried in WebSocket messages: the
// server answers each line in upper case until the client closes.
func ExampleNetConn() {
	srv := httptest.NewServer(websocket.Require(func(ws *websocket.Conn, r *http.Request) {
		c := websocket.NetConn(ws)
		defer c.Close()
		lines := bufio.NewScanner(c) // ends at io.EOF, when the client closes
		for lines.Scan() {
			fmt.Fprintln(c, strings.ToUpper(lines.Text()))
		}
	}, nil))
	defer srv.Close()

	c := websocket.NetConn(dial(srv))
	defer c.Close()
	answers := bufio.NewReader(c)
	for _, line := range []string{"hello", "over websocket"} {
		fmt.Fprintln(c, line)
		answer, _ := answers.ReadString('\n')
		fmt.Print(answer)
	}
	// Output:
	// HELLO
	// OVER WEBSOCKET
}
