// Command server is the Autobahn TestSuite testee server (wstest
// fuzzingclient mode): an echo server with one path per API style.
//
//	/          Wait + SendMessage
//	/read      Read polling with HasMessages (blocks in WaitContext when empty)
//	/iter      range over Messages()
//	/prepared  Wait + NewPreparedMessage + SendPrepared
//
// Usage:
//
//	go run ./autobahn/server -addr 127.0.0.1:9001
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zerows/websocket/autobahn/echo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on (host:port; port 0 picks a free one)")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Handler:           echo.Handler(nil),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Printf("listening on ws://%s\n", ln.Addr())
	for _, s := range echo.Styles {
		fmt.Printf("  ws://%s%-10s %s\n", ln.Addr(), s.Path, s.Doc)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
