// Command client is a small WebSocket client in the manner of websocat: it
// dials a ws:// or wss:// URL, sends each line of standard input as a text
// message, and prints every message that comes back, text as it is and
// binary in hex.
//
// When standard input ends, it keeps printing what arrives until the
// connection has been quiet for a moment (-linger, 1 s), so that the
// answers to the last lines are not lost, then closes the connection
// normally (1000) and exits once the server has answered. When the server
// closes first, it exits too. Either way it prints the close code on
// standard error. It exits with status 0 for a normal close (1000, 1001
// or no code), 1 for any other close or a failed connection, and 2 for bad
// arguments, a URL it cannot use among them. An interrupt (Ctrl-C) closes
// with 1001 going away.
//
// Usage:
//
//	go run ./examples/client [-H "Name: value"]... [-subprotocol name]... [-max-size 16MiB] [-linger 1s] ws://127.0.0.1:9000/
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zerows/websocket"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// headerFlag collects repeated -H "Name: value" flags.
type headerFlag http.Header

func (h headerFlag) String() string { return "" }

func (h headerFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return errors.New(`want "Name: value"`)
	}
	http.Header(h).Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

// listFlag collects a repeated flag's values in order.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// run is the whole command, with its streams passed in so that it can be
// tested. It returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	header := http.Header{}
	var subprotocols listFlag
	flags.Var(headerFlag(header), "H", `add a request header "Name: value" (repeatable), e.g. -H "Origin: http://127.0.0.1:9000"`)
	flags.Var(&subprotocols, "subprotocol", "offer a subprotocol (repeatable, in order of preference)")
	timeout := flags.Duration("timeout", websocket.DefaultHandshakeTimeout, "bound on the opening handshake")
	linger := flags.Duration("linger", time.Second, "after standard input ends, close once no message has come for this long")
	maxSize := sizeFlag(defaultMaxSize)
	flags.Var(&maxSize, "max-size", "largest message to accept from the server, in bytes or with KiB, MiB or GiB")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: client [flags] ws://host[:port]/path\n\n"+
			"Sends each line of standard input as a text message and prints what comes back.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err == flag.ErrHelp {
		return 0
	} else if err != nil {
		return 2
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return 2
	}
	u, err := checkURL(flags.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := &websocket.Options{
		Header:           header,
		Subprotocols:     subprotocols,
		HandshakeTimeout: *timeout,
		MaxMessageSize:   int64(maxSize),
		// Room for one message of the largest size waiting behind others.
		MailboxBytes: max(int64(maxSize), 4<<20),
	}
	ws, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		fmt.Fprintln(stderr, "client:", dialError(u, err))
		return 1
	}
	if p := ws.Subprotocol(); p != "" {
		fmt.Fprintf(stderr, "connected to %s, subprotocol %q\n", ws.RemoteAddr(), p)
	} else {
		fmt.Fprintf(stderr, "connected to %s\n", ws.RemoteAddr())
	}

	arrived := make(chan struct{}, 1) // a message was printed
	var longestSent atomic.Int64      // bytes: tells whose limit a 1009 was
	go func() {
		sendLines(ws, stdin, stderr, &longestSent)
		// Wait for the answers to the last lines, then close.
		quiet := time.NewTimer(*linger)
		defer quiet.Stop()
		for {
			select {
			case <-arrived:
				quiet.Reset(*linger)
			case <-quiet.C:
				ws.Close() // waits for the server's answer, bounded by CloseTimeout
				return
			case <-ws.Done():
				return
			}
		}
	}()
	go func() {
		select {
		case <-ctx.Done(): // interrupted
			stop() // a second interrupt kills the process
			ws.CloseWith(websocket.CloseGoingAway, "")
		case <-ws.Done():
		}
	}()

	for m := range ws.Messages() {
		if m.Type == websocket.MessageText {
			fmt.Fprintf(stdout, "%s\n", m.Data)
		} else {
			fmt.Fprintf(stdout, "binary, %d bytes: %x\n", len(m.Data), m.Data)
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
	var ce *websocket.CloseError
	if !errors.As(ws.Err(), &ce) {
		fmt.Fprintln(stderr, "closed:", ws.Err())
		return 1
	}
	fmt.Fprintln(stderr, describeClose(ce, int64(maxSize), longestSent.Load()))
	switch ce.Code {
	case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived:
		return 0
	}
	return 1
}

// sendLines sends each line of r as a text message, until r ends or the
// connection closes.
func sendLines(ws *websocket.Conn, r io.Reader, stderr io.Writer, longest *atomic.Int64) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" || err == nil {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if int64(len(line)) > longest.Load() {
				longest.Store(int64(len(line)))
			}
			if serr := ws.SendText(line); errors.Is(serr, websocket.ErrClosed) {
				return // the server closed first
			} else if serr != nil {
				fmt.Fprintln(stderr, "client: not sent:", serr)
			}
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(stderr, "client: reading standard input:", err)
			}
			return
		}
	}
}
