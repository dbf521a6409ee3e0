package autobahn

import (
	"fmt"

	"github.com/zerows/websocket/internal/wstest"
)

// Section 5: Fragmentation.
func cases5() []*kase {
	f1, f2 := []byte("fragment1"), []byte("fragment2")
	pingPayload := []byte("ping payload")
	chopName := map[int]string{oneChop: "in one chop", frameChop: "in frame-wise chops", octetChop: "in octet-wise chops"}
	chops := []int{oneChop, frameChop, octetChop}

	cs := []*kase{
		{id: "5.1", desc: "Send ping fragmented into 2 fragments.",
			send: sendFrames(oneChop, frame(wstest.OpPing, false, f1), frame(wstest.OpContinuation, true, f2)),
			mode: closeByTestee, codes: codes(1002)},
		{id: "5.2", desc: "Send pong fragmented into 2 fragments.",
			send: sendFrames(oneChop, frame(wstest.OpPong, false, f1), frame(wstest.OpContinuation, true, f2)),
			mode: closeByTestee, codes: codes(1002)},
	}
	for i, chop := range chops { // 5.3-5.5
		cs = append(cs, &kase{
			id:   fmt.Sprintf("5.%d", 3+i),
			desc: "Send text message fragmented into 2 fragments, " + chopName[chop] + ".",
			send: sendFrames(chop, frame(wstest.OpText, false, f1), frame(wstest.OpContinuation, true, f2)),
			want: evs(msgText("fragment1fragment2")),
		})
	}
	for i, chop := range chops { // 5.6-5.8
		cs = append(cs, &kase{
			id:   fmt.Sprintf("5.%d", 6+i),
			desc: "Send text message fragmented into 2 fragments, one ping with payload in-between, " + chopName[chop] + ".",
			send: sendFrames(chop, frame(wstest.OpText, false, f1), pingFrame(pingPayload), frame(wstest.OpContinuation, true, f2)),
			want: evs(pong(pingPayload), msgText("fragment1fragment2")),
		})
	}
	for j, fin := range []bool{true, false} { // 5.9-5.11, 5.12-5.14
		for i, chop := range chops {
			cs = append(cs, &kase{
				id: fmt.Sprintf("5.%d", 9+3*j+i),
				desc: fmt.Sprintf("Send unfragmented text message after continuation frame with FIN = %v, where there is nothing to continue, %s.",
					fin, chopName[chop]),
				send: sendFrames(chop, frame(wstest.OpContinuation, fin, []byte("non-continuation payload")), textFrame("Hello, world!")),
				mode: closeByTestee, codes: codes(1002),
			})
		}
	}
	cs = append(cs, &kase{
		id:   "5.15",
		desc: "Send text message fragmented into 2 fragments, then continuation frame with FIN = false where there is nothing to continue, then unfragmented text message, all in one chop.",
		send: sendFrames(oneChop,
			frame(wstest.OpText, false, f1), frame(wstest.OpContinuation, true, f2),
			frame(wstest.OpContinuation, false, []byte("fragment3")), frame(wstest.OpText, true, []byte("fragment4"))),
		want: evs(msgText("fragment1fragment2")), nonStrict: none(),
		mode: closeByTestee, codes: codes(1002),
	})
	for i, fin := range []bool{false, true} { // 5.16, 5.17
		var frames []wstest.Frame
		for range 2 {
			frames = append(frames,
				frame(wstest.OpContinuation, fin, f1),
				frame(wstest.OpText, false, f2),
				frame(wstest.OpContinuation, true, []byte("fragment3")))
		}
		cs = append(cs, &kase{
			id:   fmt.Sprintf("5.%d", 16+i),
			desc: fmt.Sprintf("Repeated 2x: continuation frame with FIN = %v (nothing to continue), then text message fragmented into 2 fragments.", fin),
			send: sendFrames(oneChop, frames...),
			mode: closeByTestee, codes: codes(1002),
		})
	}
	cs = append(cs, &kase{
		id:   "5.18",
		desc: "Send text message fragmented into 2 fragments, with both frame opcodes set to text, in one chop.",
		send: sendFrames(oneChop, frame(wstest.OpText, false, f1), frame(wstest.OpText, true, f2)),
		mode: closeByTestee, codes: codes(1002),
	})
	for i, chop := range []int{oneChop, frameChop} { // 5.19, 5.20
		cs = append(cs, case519(fmt.Sprintf("5.%d", 19+i), chop))
	}
	return cs
}

// case519 is 5.19 (and, frame-wise, 5.20): a fragmented text message with a
// ping after the first two fragments; the pong must come back before the
// rest of the message is sent. Autobahn waits 1 s there; this suite waits for
// the pong itself.
func case519(id string, chop int) *kase {
	fr := [][]byte{[]byte("fragment1"), []byte("fragment2"), []byte("fragment3"), []byte("fragment4"), []byte("fragment5")}
	p1, p2 := []byte("pongme 1!"), []byte("pongme 2!")
	how := "one chop per part"
	if chop == frameChop {
		how = "frame-wise chops"
	}
	return &kase{
		id:   id,
		desc: "Fragmented text message in 5 frames with a ping after the 2nd and 4th; the first pong must arrive before the 3rd fragment is sent (" + how + ").",
		send: func(p *peer) {
			p.send(chop, frame(wstest.OpText, false, fr[0]), frame(wstest.OpContinuation, false, fr[1]), pingFrame(p1))
			if !p.waitFor(echoWait, func(evs []event) bool { return countData(evs) >= 1 || hasEnd(evs) }) {
				p.failures = append(p.failures, "no pong for the ping sent in the middle of the message")
			}
			p.send(chop, frame(wstest.OpContinuation, false, fr[2]), frame(wstest.OpContinuation, false, fr[3]),
				pingFrame(p2), frame(wstest.OpContinuation, true, fr[4]))
		},
		want: evs(pong(p1), pong(p2), msgText("fragment1fragment2fragment3fragment4fragment5")),
	}
}
