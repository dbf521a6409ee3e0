package websocket

import (
	"fmt"
	"os"
	"testing"
)

// TestMain fails the run if any goroutine of this package outlives the
// tests: every Conn must release its reader, timers and pong writers.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if left := goroutinesLeftSince(nil); left != "" {
			fmt.Fprintf(os.Stderr, "goroutines left behind:\n%s\n", left)
			code = 1
		}
	}
	os.Exit(code)
}
