package websocket

import (
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// groupPairs makes n connections with pair; the servers are the members.
func groupPairs(t testing.TB, n int, pair func(testing.TB, *Options) (*Conn, *Conn), opts *Options) (clients, servers []*Conn) {
	for range n {
		c, s := pair(t, opts)
		clients = append(clients, c)
		servers = append(servers, s)
	}
	return clients, servers
}

// expectSeq reads messages "0", "1", ... "n-1" from c, in that order.
func expectSeq(c *Conn, from, n int) error {
	for i := from; i < n; i++ {
		m, err := c.Wait()
		if err != nil {
			return fmt.Errorf("message %d: %v", i, err)
		}
		if got := string(m.Data); got != strconv.Itoa(i) {
			return fmt.Errorf("message %d = %q", i, got)
		}
	}
	return nil
}

func TestGroupDeliversEveryMessageInOrder(t *testing.T) {
	for _, tr := range []struct {
		name string
		pair func(testing.TB, *Options) (*Conn, *Conn)
	}{{"pipe", pipe}, {"tcp", tcpPair}} {
		t.Run(tr.name, func(t *testing.T) {
			const members, messages = 4, 300
			clients, servers := groupPairs(t, members, tr.pair, nil)
			g := &Group{MaxBacklog: messages} // no member can be dropped
			for _, s := range servers {
				g.Join(s)
			}
			errs := make(chan error, members)
			for _, c := range clients {
				go func() { errs <- expectSeq(c, 0, messages) }()
			}
			for i := range messages {
				must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte(strconv.Itoa(i)))))
			}
			for range members {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if g.Len() != members {
				t.Errorf("Len() = %d, want %d", g.Len(), members)
			}
		})
	}
}

// stuckMember returns a server Conn over 127.0.0.1 TCP with small socket
// buffers, and its peer, which reads nothing until the test says so.
func stuckMember(t *testing.T, opts *Options) (*Conn, *rawPeer) {
	a, b := tcpSockets(t)
	a.(*net.TCPConn).SetReadBuffer(4096)
	b.(*net.TCPConn).SetWriteBuffer(4096)
	s := newConn(b, nil, false, opts.withDefaults(), "", nil)
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-s.Done()
	})
	return s, &rawPeer{t: t, nc: a, br: bufioReader(a)}
}

// TestGroupDropsStuckMember has a peer that reads nothing while the group
// broadcasts: Broadcast keeps returning, the healthy members get every
// message as it is sent, and the stuck member is removed and closed with
// 1008 once its backlog is full. When it reads at last, it finds whole
// messages in order, then the close frame.
func TestGroupDropsStuckMember(t *testing.T) {
	clients, servers := groupPairs(t, 2, tcpPair, nil)
	stuck, peer := stuckMember(t, nil)
	g := &Group{MaxBacklog: 8}
	for _, s := range servers {
		g.Join(s)
	}
	g.Join(stuck)

	payload := strings.Repeat("x", 1024)
	msg := func(i int) *PreparedMessage {
		return NewPreparedMessage(MessageText, []byte(strconv.Itoa(i)+" "+payload))
	}
	const limit = 1 << 16 // 64 MiB: far more than any socket buffer
	done := make(chan int)
	go func() {
		// Each message reaches the healthy members before the next is
		// sent, so their backlog never passes 1.
		i := 0
		for ; g.Len() == 3 && i < limit; i++ {
			if err := g.Broadcast(msg(i)); err != nil {
				t.Error(err)
				break
			}
			for _, c := range clients {
				m, err := c.Wait()
				if err != nil || !strings.HasPrefix(string(m.Data), strconv.Itoa(i)+" ") {
					t.Errorf("healthy member got %.10q, %v; want message %d", m.Data, err, i)
					return
				}
			}
		}
		done <- i
	}()
	var sent int
	select {
	case sent = <-done:
	case <-time.After(time.Minute): // only a hang detector
		t.Fatal("Broadcast blocked on the stuck member")
	}
	if sent == limit || g.Len() != 2 {
		t.Fatalf("after %d messages, Len() = %d; want the stuck member dropped", sent, g.Len())
	}

	t.Logf("stuck member dropped after %d messages", sent)

	// The stuck member reads now: what was written before it was dropped,
	// whole and in order, then 1008.
	peer.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; ; i++ {
		b0, p, err := peer.readFrame()
		if err != nil {
			t.Fatalf("stuck member, frame %d: %v", i, err)
		}
		if b0 == 0x88 {
			code := CloseCode(binary.BigEndian.Uint16(p))
			if code != ClosePolicyViolation || !strings.HasPrefix(string(p[2:]), "too slow") {
				t.Fatalf("close %d %q, want 1008 too slow", code, p[2:])
			}
			// The broadcast that found 8 waiting (the last of the sent)
			// dropped the 7 queued behind the one being written, or all 8
			// if its writer had not started on them yet.
			if i != sent-1-7 && i != sent-1-8 {
				t.Errorf("%d messages before the close, want %d or %d", i, sent-8, sent-9)
			}
			break
		}
		if b0 != 0x81 || !strings.HasPrefix(string(p), strconv.Itoa(i)+" ") || len(p) < len(payload) {
			t.Fatalf("stuck member, frame %d: %#x %.10q", i, b0, p)
		}
	}
	peer.nc.Close()
	<-stuck.Done()

	// The others go on.
	must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte("after"))))
	for _, c := range clients {
		if m, err := c.Wait(); err != nil || string(m.Data) != "after" {
			t.Errorf("after the drop: %q, %v", m.Data, err)
		}
	}
}

// TestGroupLeaveClosesNothing: after Leave the connection works as before
// and gets no more broadcasts.
func TestGroupLeaveClosesNothing(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		var g Group
		g.Join(server)
		g.Join(server) // twice is once
		if g.Len() != 1 {
			t.Fatalf("Len() = %d", g.Len())
		}
		must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte("0"))))
		must(t, expectSeq(client, 0, 1))
		g.Leave(server)
		g.Leave(server)
		if g.Len() != 0 {
			t.Fatalf("Len() = %d after Leave", g.Len())
		}
		must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte("not for you"))))
		must(t, server.SendText("1"))
		must(t, expectSeq(client, 1, 2))
		if client.HasMessages() {
			m, _ := client.Read()
			t.Errorf("got %q after Leave", m.Data)
		}
	})
}

func TestGroupBroadcastRefusesBadMessage(t *testing.T) {
	client, server := tcpPair(t, nil)
	var g Group
	g.Join(server)
	if err := g.Broadcast(NewPreparedMessage(MessageText, []byte{0xff})); err == nil {
		t.Fatal("invalid UTF-8 broadcast")
	}
	if g.Len() != 1 {
		t.Fatal("member removed for the group's own error")
	}
	must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte("0"))))
	must(t, expectSeq(client, 0, 1))
}

// TestGroupJoinLeaveDuringBroadcast churns members while messages go out:
// a member that stays gets everything in order; members that come and go
// get an increasing sequence (a member that joins again continues after
// what it already had), and the group ends with exactly the members that
// stayed.
func TestGroupJoinLeaveDuringBroadcast(t *testing.T) {
	const messages, churners = 500, 4
	steadyClient, steady := tcpPair(t, nil)
	clients, servers := groupPairs(t, churners, tcpPair, nil)
	g := &Group{MaxBacklog: messages}
	g.Join(steady)

	var wg sync.WaitGroup
	got := make([][]int, churners)
	for k, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range c.Messages() {
				i, err := strconv.Atoi(string(m.Data))
				if err != nil {
					t.Error(err)
				}
				got[k] = append(got[k], i)
			}
		}()
	}
	steadyErr := make(chan error, 1)
	go func() { steadyErr <- expectSeq(steadyClient, 0, messages) }()
	stop := make(chan struct{})
	churned := make(chan struct{})
	go func() {
		defer close(churned)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s := servers[i%churners]
			if i/churners%2 == 0 {
				g.Join(s)
			} else {
				g.Leave(s)
			}
		}
	}()
	for i := range messages {
		must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte(strconv.Itoa(i)))))
	}
	close(stop)
	<-churned
	if err := <-steadyErr; err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		g.Leave(s)
	}
	if g.Len() != 1 {
		t.Errorf("Len() = %d, want the steady member only", g.Len())
	}
	for _, s := range servers {
		s.Close()
	}
	wg.Wait()
	total := 0
	for k, seq := range got {
		total += len(seq)
		for j := 1; j < len(seq); j++ {
			if seq[j] <= seq[j-1] {
				t.Fatalf("churned member %d got %d after %d", k, seq[j], seq[j-1])
			}
		}
	}
	t.Logf("churned members got %d messages", total)
}

// BenchmarkGroupJoin measures what a member costs while idle: B/op is the
// bytes of one member's record, with the small buffer it keeps once it has
// had a message.
func BenchmarkGroupJoin(b *testing.B) {
	conns := make([]*Conn, b.N)
	for i := range conns {
		conns[i] = new(Conn) // Join touches nothing in it
	}
	var g Group
	b.ReportAllocs()
	b.ResetTimer()
	for _, c := range conns {
		g.Join(c)
		m := g.members[c]
		m.queue.push(nil) // the buffer a member keeps after a broadcast
		m.queue.pop()
	}
}
