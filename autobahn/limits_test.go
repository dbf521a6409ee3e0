package autobahn

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/autobahn/echo"
	"github.com/zerows/websocket/internal/wstest"
)

// The cases below need options other than the testees' (a small
// MaxMessageSize, a short CloseTimeout), so they run on their own servers.

const limit = 64 << 10 // MaxMessageSize for the limit cases

func limitOptions() *websocket.Options {
	o := echo.Options()
	o.MaxMessageSize = limit
	return o
}

// limitCases: messages at and above MaxMessageSize (RFC 6455 7.4.1, 1009).
func limitCases() []*kase {
	at := rep("*", limit)
	return []*kase{
		{id: "x9.1.1", desc: "Send a text message of exactly MaxMessageSize octets.",
			send: sendFrames(oneChop, frame(wstest.OpText, true, at)), want: evs(msgTextB(at))},
		{id: "x9.1.2", desc: "Send a binary frame of MaxMessageSize+1 octets, header and 1 KiB first: the testee must fail with 1009 before the rest is sent.",
			send: func(p *peer) {
				f := binFrame(rep("\xfe", limit+1))
				if p.client {
					f.Masked, f.Key = true, wstest.NewKey()
				}
				raw := f.Encode()
				h := len(raw) - (limit + 1)
				p.failFast(nil, raw[:h+1024], raw[h+1024:])
			},
			mode: closeByTestee, codes: codes(1009)},
		{id: "x9.1.3", desc: "Send a text message in 2 fragments of 40 KiB (80 KiB in all, above MaxMessageSize).",
			send: sendFrames(oneChop, fragments(wstest.OpText, rep("*", 80<<10), 40<<10)...),
			mode: closeByTestee, codes: codes(1009)},
		{id: "x9.1.4", desc: "Send 4 messages of MaxMessageSize/2 octets back to back: each is under the limit.",
			send: sendFrames(oneChop, binFrame(rep("\xfe", limit/2)), binFrame(rep("\xfe", limit/2)), binFrame(rep("\xfe", limit/2)), binFrame(rep("\xfe", limit/2))),
			want: evs(msgBinary(rep("\xfe", limit/2)), msgBinary(rep("\xfe", limit/2)), msgBinary(rep("\xfe", limit/2)), msgBinary(rep("\xfe", limit/2)))},
	}
}

// runTable runs cases against tg, logs the table and fails on misses.
func runTable(t *testing.T, tg target, sec section) {
	var results []result
	for _, c := range sec.cases {
		if (c.side == serverOnly && !tg.server) || (c.side == clientOnly && tg.server) {
			continue
		}
		r := runCase(tg, c)
		results = append(results, r)
		if r.grade != gradeOK && r.grade != gradeInfo {
			t.Errorf("%s %s: %s\n  case: %s\n  sent: %s\n  expected: %s\n  observed: %s\n  %v",
				tg.name, c.id, r.grade, c.desc, r.sent, r.expected, r.observed, r.problems)
		}
	}
	t.Log(table(tg.name, sec, results))
}

func TestServerMessageTooBig(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(echo.Handler(limitOptions()))
	defer srv.Close()
	runTable(t, serverTarget(srv.Listener.Addr().String(), echo.Styles[0]),
		section{"x9.1", fmt.Sprintf("MaxMessageSize %d", limit), limitCases(), nil})
}

// TestServerDropsTCPAfterCloseTimeout: when the peer never answers the
// server's close frame, the server must still drop TCP, after CloseTimeout.
func TestServerDropsTCPAfterCloseTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	o := echo.Options()
	o.CloseTimeout = timeout
	srv := httptest.NewServer(echo.Handler(o))
	defer srv.Close()
	tg := serverTarget(srv.Listener.Addr().String(), echo.Styles[0])

	for _, tc := range []struct {
		name  string
		frame wstest.Frame
		code  int
	}{
		{"server fails the connection", withRsv(textFrame("Hello"), 1), 1002},
		{"server answers our close", closeFrame(wstest.ClosePayload(1000, "")), 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tg.connect(&kase{})
			if err != nil {
				t.Fatal(err)
			}
			p := conn.p
			defer p.nc.Close()
			start := time.Now()
			p.send(oneChop, tc.frame)
			if !p.waitFor(closeWait, hasEnd) {
				t.Fatalf("no close frame within %v", closeWait)
			}
			// We never answer and never close: the server must drop TCP
			// itself, no later than CloseTimeout after its close frame.
			if !p.waitFor(timeout+time.Second, hasEOF) {
				t.Fatalf("server did not drop TCP within %v", timeout+time.Second)
			}
			evs := p.snapshot()
			t.Logf("events %s; TCP dropped %v after our frame", describeEvents(evs), round(time.Since(start)))
			if evs[0].kind != evClose || evs[0].code != tc.code {
				t.Errorf("first event %v, want close %d", evs[0], tc.code)
			}
		})
	}

	// A handler that returns at once: the library closes with 1000.
	bye := httptest.NewServer(websocket.Require(func(*websocket.Conn, *http.Request) {}, o))
	defer bye.Close()
	byeTarget := serverTarget(bye.Listener.Addr().String(), echo.Style{Path: "/"})
	for _, answer := range []bool{false, true} {
		t.Run(fmt.Sprintf("handler returns, peer answers=%v", answer), func(t *testing.T) {
			conn, err := byeTarget.connect(&kase{})
			if err != nil {
				t.Fatal(err)
			}
			p := conn.p
			defer p.nc.Close()
			if !p.waitFor(closeWait, hasEnd) {
				t.Fatalf("no close frame within %v", closeWait)
			}
			closeAt := time.Now()
			if answer {
				p.sendClose(1000, "")
			}
			if !p.waitFor(timeout+time.Second, hasEOF) {
				t.Fatalf("server did not drop TCP within %v", timeout+time.Second)
			}
			evs := p.snapshot()
			t.Logf("events %s; TCP dropped %v after the close frame", describeEvents(evs), round(time.Since(closeAt)))
			if evs[0].kind != evClose || evs[0].code != 1000 {
				t.Errorf("first event %v, want close 1000", evs[0])
			}
		})
	}
}
