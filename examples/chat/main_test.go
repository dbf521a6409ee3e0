package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zerows/websocket"
	"github.com/zerows/websocket/internal/wstest"
)

// A bound on each wait, reached only when something is broken.
const timeout = 20 * time.Second

func startServer(t *testing.T, h *hub) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newHandler(h))
	t.Cleanup(srv.Close)
	return srv
}

// join connects as name to room over TCP, with the library's client.
func join(t *testing.T, srv *httptest.Server, room, name string) *websocket.Conn {
	t.Helper()
	ws, _ := joinTCP(t, srv, room, name)
	return ws
}

// joinTCP is join that also returns the TCP connection, to drop it.
func joinTCP(t *testing.T, srv *httptest.Server, room, name string) (*websocket.Conn, net.Conn) {
	t.Helper()
	var nc net.Conn
	opts := &websocket.Options{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var err error
		nc, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return nc, err
	}}
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/?" + url.Values{"room": {room}, "name": {name}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws, nc
}

// next reads one event.
func next(t *testing.T, ws *websocket.Conn) event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m, err := ws.WaitContext(ctx)
	if err != nil {
		t.Fatalf("waiting for an event: %v", err)
	}
	var e event
	if err := json.Unmarshal(m.Data, &e); err != nil || m.Type != websocket.MessageText {
		t.Fatalf("got %v %q, want a JSON text message", m.Type, m.Data)
	}
	return e
}

// expect reads one event and checks it.
func expect(t *testing.T, ws *websocket.Conn, want event) {
	t.Helper()
	if got := next(t, ws); got.Type != want.Type || got.Room != want.Room || got.Name != want.Name || got.Text != want.Text || !slices.Equal(got.Members, want.Members) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestRoom(t *testing.T) {
	srv := startServer(t, newHub(defaultQueue))

	alice := join(t, srv, "lobby", "alice")
	expect(t, alice, event{Type: "welcome", Room: "lobby", Name: "alice"})
	expect(t, alice, event{Type: "join", Name: "alice", Members: []string{"alice"}})

	bob := join(t, srv, "lobby", "  bob\n ")
	expect(t, bob, event{Type: "welcome", Room: "lobby", Name: "bob"})
	expect(t, bob, event{Type: "join", Name: "bob", Members: []string{"alice", "bob"}})
	expect(t, alice, event{Type: "join", Name: "bob", Members: []string{"alice", "bob"}})

	// A name taken in the room gets a number; another room is apart.
	alice2, alice2TCP := joinTCP(t, srv, "lobby", "alice")
	expect(t, alice2, event{Type: "welcome", Room: "lobby", Name: "alice-2"})
	members := []string{"alice", "alice-2", "bob"}
	for _, ws := range []*websocket.Conn{alice, bob, alice2} {
		expect(t, ws, event{Type: "join", Name: "alice-2", Members: members})
	}
	carol := join(t, srv, "other", "alice")
	expect(t, carol, event{Type: "welcome", Room: "other", Name: "alice"})
	expect(t, carol, event{Type: "join", Name: "alice", Members: []string{"alice"}})

	alice.SendText("  hello, wörld ")
	alice.SendText(" ") // nothing to say: not sent on
	carol.SendText("only for other")
	for _, ws := range []*websocket.Conn{alice, bob, alice2} {
		expect(t, ws, event{Type: "message", Name: "alice", Text: "hello, wörld"})
	}
	expect(t, carol, event{Type: "message", Name: "alice", Text: "only for other"})

	// Leaving, by a close or by a dropped connection, is announced.
	bob.Close()
	for _, ws := range []*websocket.Conn{alice, alice2} {
		expect(t, ws, event{Type: "leave", Name: "bob", Members: []string{"alice", "alice-2"}})
	}
	alice2TCP.Close()
	expect(t, alice, event{Type: "leave", Name: "alice-2", Members: []string{"alice"}})

	// A binary message is refused with 1003.
	alice.Send([]byte{1, 2, 3})
	if _, err := alice.WaitContext(context.Background()); websocket.CloseStatus(err) != websocket.CloseUnsupportedData {
		t.Fatalf("after a binary message: %v, want 1003", err)
	}
}

// TestSlowMember has a member that never reads. The room keeps serving
// the others at their own pace, and drops the slow one once its queue is
// full, announcing it.
func TestSlowMember(t *testing.T) {
	h := newHub(8)
	// Small socket buffers (which also turn off their growth), so that
	// the slow member's queue fills after a few hundred KB, not megabytes.
	srv := httptest.NewUnstartedServer(newHandler(h))
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	defer srv.Close()

	addr := srv.Listener.Addr().String()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A small receive window, so that the room's queue fills soon.
	conn.(*net.TCPConn).SetReadBuffer(4096)
	if _, _, err := wstest.ClientHandshake(conn, addr, "/?room=r&name=slow", nil); err != nil {
		t.Fatal(err)
	}
	// From here on, nothing reads conn.

	fast := join(t, srv, "r", "fast")
	expect(t, fast, event{Type: "welcome", Room: "r", Name: "fast"})
	// slow's join may come before or after fast's.
	for e := next(t, fast); !slices.Equal(e.Members, []string{"fast", "slow"}); e = next(t, fast) {
		if e.Type != "join" {
			t.Fatalf("got %+v, want the two joins", e)
		}
	}

	// Each message is sent once the last one came back, until the room
	// gives up on the slow member; the room must never wait for it.
	text := strings.Repeat("€", maxText-10) // about 3 KB a message
	for i := 0; ; i++ {
		if i == 100_000 {
			t.Fatal("the slow member was never dropped")
		}
		fast.SendText(fmt.Sprint(i, text))
		e := next(t, fast)
		if e.Type == "leave" {
			if e.Name != "slow" || !slices.Equal(e.Members, []string{"fast"}) {
				t.Fatalf("got %+v, want slow's leaving", e)
			}
			t.Logf("slow dropped after %d messages", i)
			expect(t, fast, event{Type: "message", Name: "fast", Text: fmt.Sprint(i, text)})
			break
		}
		if e.Type != "message" || e.Text != fmt.Sprint(i, text) {
			t.Fatalf("message %d: got %+v", i, e)
		}
	}
	if got := h.names("r"); !slices.Equal(got, []string{"fast"}) {
		t.Errorf("members %q, want only fast", got)
	}
}

type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// TestShutdown closes every member with 1001.
func TestShutdown(t *testing.T) {
	srv := startServer(t, newHub(defaultQueue))
	alice := join(t, srv, "lobby", "alice")
	bob := join(t, srv, "other", "bob")
	// Each reads until closed, so that it answers the close frame.
	read := func(ws *websocket.Conn) {
		for range ws.Messages() {
		}
	}
	go read(alice)
	go read(bob)
	if err := shutdown(srv.Config); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []*websocket.Conn{alice, bob} {
		<-ws.Done()
		var ce *websocket.CloseError
		if !errors.As(ws.Err(), &ce) || ce.Code != websocket.CloseGoingAway || ce.Reason != "server shutting down" {
			t.Errorf("after shutdown: %v, want 1001 server shutting down", ws.Err())
		}
	}
}

func TestPage(t *testing.T) {
	srv := startServer(t, newHub(defaultQueue))
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<input id="text" maxlength="1000"`, `id="members"`, "new WebSocket(", `rel="icon"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
