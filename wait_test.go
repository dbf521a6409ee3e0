package websocket

import (
	"context"
	"strconv"
	"sync"
	"testing"
)

// TestWaitReadsWithoutReaderGoroutine: a connection that is only sent on
// and waited on never starts a reader goroutine, and its Wait still answers
// pings and the closing handshake.
func TestWaitReadsWithoutReaderGoroutine(t *testing.T) {
	client, server := tcpPair(t, nil)
	client.Done() // the client reads in the background, to see pongs
	go func() {
		for i := range 100 {
			client.SendText(strconv.Itoa(i))
			if i == 50 {
				client.Ping(context.Background())
			}
		}
		client.Close()
	}()
	for i := range 100 {
		m, err := server.Wait()
		if err != nil || string(m.Data) != strconv.Itoa(i) {
			t.Fatalf("Wait = %q, %v, want %d", m.Data, err, i)
		}
	}
	if _, err := server.Wait(); CloseStatus(err) != CloseNormalClosure {
		t.Fatalf("Wait at the end = %v, want 1000", err)
	}
	if server.readerStarted.Load() {
		t.Error("the server started a reader goroutine")
	}
	<-client.Done()
	if CloseStatus(client.Err()) != CloseNormalClosure {
		t.Errorf("client.Err() = %v", client.Err())
	}
}

// TestReaderTakesOverFromWait: a reader goroutine started while Wait reads
// the socket takes over after it, and no message is lost or reordered.
func TestReaderTakesOverFromWait(t *testing.T) {
	for _, takeOver := range []struct {
		name string
		f    func(c *Conn)
	}{
		{"Done", func(c *Conn) { c.Done() }},
		{"HasMessages", func(c *Conn) { c.HasMessages() }},
		{"WaitTimeout", func(c *Conn) { c.WaitTimeout(0) }},
	} {
		t.Run(takeOver.name, func(t *testing.T) {
			client, server := tcpPair(t, nil)
			const total = 200
			go func() {
				for i := range total {
					client.SendText(strconv.Itoa(i))
				}
			}()
			for i := range total {
				if i == total/3 {
					takeOver.f(server)
				}
				m, err := server.Wait()
				if err != nil || string(m.Data) != strconv.Itoa(i) {
					t.Fatalf("Wait = %q, %v, want %d", m.Data, err, i)
				}
			}
			if !server.readerStarted.Load() {
				t.Error("no reader goroutine started")
			}
		})
	}
}

// TestConcurrentWaits: goroutines waiting at once each get different
// messages, all of them exactly once, whichever of them reads the socket.
func TestConcurrentWaits(t *testing.T) {
	transports(t, nil, func(t *testing.T, client, server *Conn) {
		const waiters, total = 4, 400
		go func() {
			for i := range total {
				client.SendText(strconv.Itoa(i))
			}
			client.Close()
		}()
		var (
			mu   sync.Mutex
			seen = make(map[string]bool)
			wg   sync.WaitGroup
		)
		for range waiters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					m, err := server.Wait()
					if err != nil {
						if CloseStatus(err) != CloseNormalClosure {
							t.Errorf("Wait: %v", err)
						}
						return
					}
					mu.Lock()
					if seen[string(m.Data)] {
						t.Errorf("message %q delivered twice", m.Data)
					}
					seen[string(m.Data)] = true
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != total {
			t.Errorf("%d messages delivered, want %d", len(seen), total)
		}
	})
}
