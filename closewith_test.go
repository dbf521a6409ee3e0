package websocket

import (
	"sync"
	"testing"
)

// TestCloseWhileReading (B3): CloseWith reading the peer's answer on its
// own goroutine, while Read on another goroutine starts the reader and
// makes the mailbox's channels, is free of data races (run with -race).
func TestCloseWhileReading(t *testing.T) {
	for range 20 {
		client, server := tcpPair(t, &Options{MailboxMessages: 4})
		client.startReader()
		for range 50 {
			go client.SendText("m")
		}
		if _, err := server.Wait(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			server.Close()
		}()
		go func() {
			defer wg.Done()
			for !server.ended() {
				server.Read()
			}
		}()
		wg.Wait()
	}
}
