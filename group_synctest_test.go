//go:build go1.25

package websocket

import (
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
)

// Group tests on a fake clock (testing/synctest, Go 1.25): synctest.Wait
// tells when every writer has done what it can.

// TestGroupBacklogBounds checks both bounds with a member on net.Pipe that
// never reads, on a fake clock: the member is dropped by the Broadcast that
// would pass a bound, not before; a message bigger than the byte bound
// still reaches a member with nothing waiting; the dropped member's writer
// ends, and then no goroutine of the group is left.
func TestGroupBacklogBounds(t *testing.T) {
	frame := int64(len(NewPreparedMessage(MessageBinary, make([]byte, 100)).frame))
	for _, tc := range []struct {
		name     string
		maxN     int
		maxBytes int64
		fits     int // messages the stuck member may have waiting
	}{
		{"messages", 5, 0, 5},
		{"bytes", 0, 3 * frame, 3},
		{"bytes, not a whole message more", 0, 4*frame - 1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := &Group{MaxBacklog: tc.maxN, MaxBacklogBytes: tc.maxBytes}
				client, healthy := pipe(t, nil)
				a, b := net.Pipe()
				defer b.Close()
				stuck := newConn(a, nil, false, (*Options)(nil).withDefaults(), "", nil)
				g.Join(healthy)
				g.Join(stuck)

				// One message bigger than the byte bound passes alone.
				big := make([]byte, 8*frame)
				pm := NewPreparedMessage(MessageBinary, big)
				must(t, g.Broadcast(pm))
				if m, err := client.Wait(); err != nil || len(m.Data) != len(big) {
					t.Fatalf("big message: %d bytes, %v", len(m.Data), err)
				}
				synctest.Wait()
				go io.ReadFull(b, make([]byte, len(pm.frame))) // the stuck member takes only that
				synctest.Wait()

				for i := range tc.fits {
					must(t, g.Broadcast(NewPreparedMessage(MessageBinary, make([]byte, 100))))
					synctest.Wait()
					if g.Len() != 2 {
						t.Fatalf("dropped after %d messages, want %d to fit", i+1, tc.fits)
					}
				}
				must(t, g.Broadcast(NewPreparedMessage(MessageBinary, make([]byte, 100))))
				if g.Len() != 1 {
					t.Fatalf("Len() = %d after a message past the bound", g.Len())
				}
				for range tc.fits + 1 {
					if _, err := client.Wait(); err != nil {
						t.Fatal(err)
					}
				}
				// The peer reads at last: the message being written when
				// the member was dropped, then 1008; the messages waiting
				// were dropped with the member.
				peer := &rawPeer{t: t, nc: b, br: bufioReader(b)}
				if b0, p, err := peer.readFrame(); err != nil || b0 != 0x82 || len(p) != 100 {
					t.Fatalf("first frame %#x, %d bytes, %v", b0, len(p), err)
				}
				if b0, p, err := peer.readFrame(); err != nil || b0 != 0x88 || CloseCode(binary.BigEndian.Uint16(p)) != ClosePolicyViolation {
					t.Fatalf("second frame %#x %q, %v; want close 1008", b0, p, err)
				}
				b.Close()
				<-stuck.Done()
				synctest.Wait()
				if n := groupWriters(); n != 0 {
					t.Errorf("%d group writers left", n)
				}
				g.mu.Lock()
				if len(g.members) != 1 {
					t.Errorf("%d member records, want 1", len(g.members))
				}
				g.mu.Unlock()
			})
		})
	}
}

// groupWriters counts the goroutines running Group.write.
func groupWriters() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "(*Group).write(")
}

// TestGroupIdleMembersHoldNoGoroutine checks that writers run only while
// there is something to write.
func TestGroupIdleMembersHoldNoGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clients, servers := groupPairs(t, 20, pipe, nil)
		var g Group
		for _, s := range servers {
			g.Join(s)
		}
		must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte("0"))))
		for _, c := range clients {
			must(t, expectSeq(c, 0, 1))
		}
		synctest.Wait()
		if n := groupWriters(); n != 0 {
			t.Errorf("%d writers after the broadcast was written", n)
		}
	})
}

// TestGroupForgetsEndedMember: a member whose connection ended is removed
// by the next Broadcast, without any goroutine watching it.
func TestGroupForgetsEndedMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server := pipe(t, nil)
		other, member := pipe(t, nil)
		var g Group
		g.Join(server)
		g.Join(member)
		must(t, client.Close())
		synctest.Wait()
		if g.Len() != 2 {
			t.Fatalf("Len() = %d before any broadcast", g.Len())
		}
		must(t, g.Broadcast(NewPreparedMessage(MessageText, []byte("0"))))
		must(t, expectSeq(other, 0, 1))
		synctest.Wait()
		if g.Len() != 1 {
			t.Fatalf("Len() = %d, want the ended member removed", g.Len())
		}
		g.mu.Lock()
		if len(g.members) != 1 || g.members[member] == nil {
			t.Errorf("member records: %v", g.members)
		}
		g.mu.Unlock()
	})
}
