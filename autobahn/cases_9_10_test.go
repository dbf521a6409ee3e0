package autobahn

import (
	"fmt"
	"time"

	"github.com/zerows/websocket/internal/wstest"
)

// Section 9 is scaled down unless -full is given: sizes by 16, message
// counts by 10. Frame and chop sizes stay as Autobahn has them, so "many
// small frames" still means many.
func scaleSize(n int) int {
	if *full {
		return n
	}
	return max(n/16, 1)
}

func scaleCount(n int) int {
	if *full {
		return n
	}
	return max(n/10, 1)
}

// bigWait bounds a section 9 case: Autobahn allows up to 1000 s at full size.
func bigWait() time.Duration {
	if *full {
		return 10 * time.Minute
	}
	return 30 * time.Second
}

const (
	kib = 1 << 10
	mib = 1 << 20
)

func sizeName(n int) string { return short(make([]byte, n), false) }

// Section 9: Limits/Performance.
func cases9() []*kase {
	var cs []*kase
	big := []int{64 * kib, 256 * kib, 1 * mib, 4 * mib, 8 * mib, 16 * mib}
	for j, binary := range []bool{false, true} { // 9.1.x, 9.2.x
		for i, n := range big {
			n = scaleSize(n)
			var payload []byte
			var f wstest.Frame
			var want event
			if binary {
				payload = rep("\xfe", n)
				f, want = binFrame(payload), msgBinary(payload)
			} else {
				payload = rep("BAsd7&jh23", n)
				f, want = frame(wstest.OpText, true, payload), msgTextB(payload)
			}
			cs = append(cs, &kase{
				id:   fmt.Sprintf("9.%d.%d", 1+j, i+1),
				desc: fmt.Sprintf("Send %s message of %s.", kindName(binary), sizeName(n)),
				send: sendFrames(oneChop, f), want: evs(want), wait: bigWait(),
			})
		}
	}
	fragSizes := []int{64, 256, 1 * kib, 4 * kib, 16 * kib, 64 * kib, 256 * kib, 1 * mib, 4 * mib}
	for j, binary := range []bool{false, true} { // 9.3.x, 9.4.x
		for i, fs := range fragSizes {
			n := scaleSize(4 * mib)
			op, payload, want := byte(wstest.OpText), rep("*", n), msgTextB(nil)
			if binary {
				op, payload = wstest.OpBinary, rep("\xfe", n)
				want = msgBinary(payload)
			} else {
				want = msgTextB(payload)
			}
			cs = append(cs, &kase{
				id:   fmt.Sprintf("9.%d.%d", 3+j, i+1),
				desc: fmt.Sprintf("Send fragmented %s message of %s in fragments of %s.", kindName(binary), sizeName(n), sizeName(fs)),
				send: sendFrames(oneChop, fragments(op, payload, fs)...), want: evs(want), wait: bigWait(),
			})
		}
	}
	for j, binary := range []bool{false, true} { // 9.5.x, 9.6.x
		for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
			n := scaleSize(1 * mib)
			var f wstest.Frame
			var want event
			if binary {
				p := rep("\xfe", n)
				f, want = binFrame(p), msgBinary(p)
			} else {
				p := rep("BAsd7&jh23", n)
				f, want = frame(wstest.OpText, true, p), msgTextB(p)
			}
			cs = append(cs, &kase{
				id:   fmt.Sprintf("9.%d.%d", 5+j, i+1),
				desc: fmt.Sprintf("Send %s message of %s in chops of %d octets.", kindName(binary), sizeName(n), chop),
				send: sendFrames(chop, f), want: evs(want), wait: bigWait(),
			})
		}
	}
	for j, binary := range []bool{false, true} { // 9.7.x, 9.8.x
		for i, size := range []int{0, 16, 64, 256, 1024, 4096} {
			cs = append(cs, roundTrips(fmt.Sprintf("9.%d.%d", 7+j, i+1), binary, size, scaleCount(1000)))
		}
	}
	return cs
}

func kindName(binary bool) string {
	if binary {
		return "binary"
	}
	return "text"
}

// roundTrips is 9.7.x/9.8.x: count messages, each sent once the previous
// echo is back.
func roundTrips(id string, binary bool, size, count int) *kase {
	var f wstest.Frame
	var e event
	if binary {
		p := rep("\xfe", size)
		f, e = binFrame(p), msgBinary(p)
	} else {
		p := rep("*", size)
		f, e = frame(wstest.OpText, true, p), msgTextB(p)
	}
	want := make([]event, count)
	for i := range want {
		want[i] = e
	}
	return &kase{
		id:   id,
		desc: fmt.Sprintf("Send %d %s messages of %d octets, each after the previous echo.", count, kindName(binary), size),
		send: func(p *peer) {
			deadline := time.Now().Add(bigWait())
			for i := range count {
				p.send(oneChop, f)
				if !p.waitFor(time.Until(deadline), func(evs []event) bool { return countData(evs) > i || hasEnd(evs) }) || hasEnd(p.snapshot()) {
					return
				}
			}
		},
		want: want, wait: bigWait(),
	}
}

// Section 10: Misc.
func cases10() []*kase {
	p := rep("*", 65536)
	return []*kase{{
		id:   "10.1.1",
		desc: "Send text message of 65536 octets auto-fragmented into frames of 1300 octets.",
		send: sendFrames(oneChop, fragments(wstest.OpText, p, 1300)...), want: evs(msgTextB(p)),
	}}
}
