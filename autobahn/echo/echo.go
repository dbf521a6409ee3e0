// Package echo holds the echo loops that the Autobahn testee server, the
// testee client and the Go-native conformance suite share: one loop per way
// of taking messages out of a websocket.Conn, so that every API style is put
// through the same cases.
package echo

import (
	"context"
	"net/http"

	"github.com/zerows/websocket"
)

// Style is one way of taking messages from a connection and echoing them.
type Style struct {
	Name string // short name, also the Autobahn agent suffix
	Path string // URL path the testee server serves it on
	Doc  string
	Loop func(ws *websocket.Conn)
}

// Styles lists every echo style, the default one first.
var Styles = []Style{
	{"wait", "/", "Wait + SendMessage", Wait},
	{"read", "/read", "Read polling with HasMessages, blocking in WaitContext when empty", Read},
	{"iter", "/iter", "range over Messages()", Iter},
	{"prepared", "/prepared", "Wait + NewPreparedMessage + SendPrepared", Prepared},
}

// Lookup returns the style with the given name.
func Lookup(name string) (Style, bool) {
	for _, s := range Styles {
		if s.Name == name {
			return s, true
		}
	}
	return Style{}, false
}

// Options returns the options the testees use: messages up to 32 MiB
// (Autobahn case 9.1.6 sends 16 MiB), a mailbox large enough for the 9.x
// cases, no Origin check (the fuzzer sends no browser Origin, and this is
// a test server), and permessage-deflate with context takeover on every
// message, however short, for sections 12 and 13.
func Options() *websocket.Options {
	return &websocket.Options{
		MaxMessageSize:          32 << 20,
		MailboxMessages:         4096,
		MailboxBytes:            64 << 20,
		InsecureSkipOriginCheck: true,
		Compression:             websocket.CompressionContextTakeover,
		CompressionThreshold:    -1,
	}
}

// Handler serves every style on its path, each behind websocket.Require.
// opts nil means Options().
func Handler(opts *websocket.Options) http.Handler {
	if opts == nil {
		opts = Options()
	}
	mux := http.NewServeMux()
	for _, s := range Styles {
		loop := s.Loop
		mux.Handle(s.Path, websocket.Require(func(ws *websocket.Conn, _ *http.Request) { loop(ws) }, opts))
	}
	return mux
}

// Wait echoes with the blocking Wait, until the connection has closed and
// the mailbox is empty.
func Wait(ws *websocket.Conn) {
	for {
		m, err := ws.Wait()
		if err != nil {
			return
		}
		if ws.SendMessage(m) != nil {
			return
		}
	}
}

// Read echoes by polling: it drains the mailbox with HasMessages and Read,
// and when the mailbox is empty it blocks in WaitContext instead of spinning,
// so an idle connection costs no CPU. WaitContext hands over the message it
// waited for, which is echoed like the polled ones.
func Read(ws *websocket.Conn) {
	ctx := context.Background()
	for {
		for ws.HasMessages() {
			m, ok := ws.Read()
			if !ok {
				break
			}
			if ws.SendMessage(m) != nil {
				return
			}
		}
		select {
		case <-ws.Done():
			// Closed: Read above already took everything that was queued.
			if !ws.HasMessages() {
				return
			}
			continue
		default:
		}
		m, err := ws.WaitContext(ctx)
		if err != nil {
			return
		}
		if ws.SendMessage(m) != nil {
			return
		}
	}
}

// Iter echoes every message of the Messages iterator.
func Iter(ws *websocket.Conn) {
	for m := range ws.Messages() {
		if ws.SendMessage(m) != nil {
			return
		}
	}
}

// Prepared echoes each message through NewPreparedMessage and SendPrepared.
func Prepared(ws *websocket.Conn) {
	for {
		m, err := ws.Wait()
		if err != nil {
			return
		}
		if ws.SendPrepared(websocket.NewPreparedMessage(m.Type, m.Data)) != nil {
			return
		}
	}
}
