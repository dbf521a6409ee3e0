// Command client is the Autobahn TestSuite testee client (wstest
// fuzzingserver mode). It asks the fuzzing server how many cases there are,
// runs each one by echoing every message back as it came, and then asks the
// server to write its reports.
//
// Usage:
//
//	go run ./autobahn/client -url ws://127.0.0.1:9001 -agent zerows
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/autobahn/echo"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "fuzzing server URL")
	agent := flag.String("agent", "zerows", "agent name in the reports")
	style := flag.String("style", "wait", "echo style: wait, read, iter or prepared")
	flag.Parse()

	s, ok := echo.Lookup(*style)
	if !ok {
		log.Fatalf("unknown -style %q", *style)
	}
	root := strings.TrimRight(*base, "/")
	opts := echo.Options()

	n, err := caseCount(root, opts)
	if err != nil {
		log.Fatalf("getCaseCount: %v", err)
	}
	fmt.Printf("%d cases, agent %q, echo style %s\n", n, *agent, s.Name)
	failed := 0
	for i := 1; i <= n; i++ {
		u := fmt.Sprintf("%s/runCase?case=%d&agent=%s", root, i, url.QueryEscape(*agent))
		ws, err := dial(u, opts)
		if err != nil {
			// A case may refuse the handshake on purpose; the report says
			// what happened, so keep going.
			fmt.Printf("case %d/%d: %v\n", i, n, err)
			failed++
			continue
		}
		s.Loop(ws)
		<-ws.Done()
		if i%50 == 0 || i == n {
			fmt.Printf("ran %d/%d\n", i, n)
		}
	}

	ws, err := dial(fmt.Sprintf("%s/updateReports?agent=%s", root, url.QueryEscape(*agent)), opts)
	if err != nil {
		log.Fatalf("updateReports: %v", err)
	}
	drain(ws)
	fmt.Println("reports updated")
	if failed > 0 {
		fmt.Printf("%d cases could not connect\n", failed)
		os.Exit(1)
	}
}

func dial(u string, opts *websocket.Options) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, opts)
	return ws, err
}

// caseCount reads the number the server sends on /getCaseCount.
func caseCount(root string, opts *websocket.Options) (int, error) {
	ws, err := dial(root+"/getCaseCount", opts)
	if err != nil {
		return 0, err
	}
	defer drain(ws)
	m, err := ws.WaitTimeout(30 * time.Second)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(m.Data)))
}

// drain waits for the server to close the connection, discarding messages.
func drain(ws *websocket.Conn) {
	for range ws.Messages() {
	}
}
