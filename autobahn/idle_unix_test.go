//go:build unix

package autobahn

import (
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/zerows/websocket/autobahn/echo"
)

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestEchoStylesIdle checks that an idle connection costs no CPU on any echo
// path, the polling one (/read) included: it must block, not spin. It is not
// parallel, so nothing else runs while it measures.
func TestEchoStylesIdle(t *testing.T) {
	srv := httptest.NewServer(echo.Handler(nil))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	var peers []*peer
	for _, s := range echo.Styles {
		for range 5 {
			conn, err := serverTarget(addr, s).connect(&kase{})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.p.nc.Close()
			peers = append(peers, conn.p)
		}
	}
	// One round trip on each, so that every echo loop is running.
	for _, p := range peers {
		p.send(oneChop, textFrame("warm up"))
		if !p.waitFor(echoWait, func(evs []event) bool { return countData(evs) >= 1 }) {
			t.Fatal("no echo")
		}
	}
	const idle = 300 * time.Millisecond
	before := cpuTime(t)
	time.Sleep(idle) // the measurement window, not synchronisation
	used := cpuTime(t) - before
	t.Logf("%d idle connections used %v of CPU in %v", len(peers), used, idle)
	if used > idle/4 {
		t.Errorf("idle connections used %v of CPU in %v: an echo loop is spinning", used, idle)
	}
	// Still working after the idle time.
	for _, p := range peers {
		p.send(oneChop, textFrame("again"))
		if !p.waitFor(echoWait, func(evs []event) bool { return countData(evs) >= 2 }) {
			t.Fatal("no echo after idling")
		}
		p.sendClose(1000, "")
	}
}
