package autobahn

import (
	"fmt"
	"strings"

	"github.com/zerows/websocket/internal/wstest"
)

// Section 7: Close Handling.
func cases7() []*kase {
	hello := "Hello World!"
	close1000 := closeFrame(wstest.ClosePayload(1000, ""))
	sent := func(c *kase, cs ...int) *kase {
		c.mode, c.codes = closeSent, cs
		return c
	}
	cs := []*kase{
		{id: "7.1.1", desc: "Send a message followed by a close frame (once the echo is back).",
			send: sendFrames(oneChop, textFrame(hello)), want: evs(msgText(hello))},
		sent(&kase{id: "7.1.2", desc: "Send two close frames.",
			send: sendFrames(oneChop, close1000, closeFrame(nil))}, 1000),
		sent(&kase{id: "7.1.3", desc: "Send a ping after the close frame: no pong.",
			send: sendFrames(oneChop, close1000, pingFrame(nil))}, 1000),
		sent(&kase{id: "7.1.4", desc: "Send a text message after the close frame: no echo.",
			send: sendFrames(oneChop, close1000, textFrame(hello))}, 1000),
		sent(&kase{id: "7.1.5", desc: "Send message fragment1, then close, then fragment2: no echo.",
			send: sendFrames(oneChop, frame(wstest.OpText, false, []byte("fragment1")), close1000,
				frame(wstest.OpContinuation, true, []byte("fragment2")))}, 1000),
		sent(&kase{id: "7.1.6", desc: "Send a 256K message, a small message, close and a ping, back to back.",
			send: sendFrames(oneChop, frame(wstest.OpText, true, rep("BAsd7&jh23", 256<<10)), textFrame(hello), close1000, pingFrame(nil)),
			want: evs(msgText(hello)), nonStrict: none(), info: true}, 1000),

		{ // 7.3.1 accepts an answer without a code as well as 1000.
			id: "7.3.1", desc: "Send a close frame with payload length 0 (no code, no reason).",
			send: sendFrames(oneChop, closeFrame(nil)), mode: closeSent, codes: codes(1000), empty: true},
		sent(&kase{id: "7.3.2", desc: "Send a close frame with payload length 1.",
			send: sendFrames(oneChop, closeFrame([]byte("*")))}, 1002),
		sent(&kase{id: "7.3.3", desc: "Send a close frame with close code and no reason.",
			send: sendFrames(oneChop, close1000)}, 1000),
		sent(&kase{id: "7.3.4", desc: "Send a close frame with close code and a short reason.",
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(1000, "Hello World!")))}, 1000),
		sent(&kase{id: "7.3.5", desc: "Send a close frame with close code and a reason of 123 octets (payload 125).",
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(1000, strings.Repeat("*", 123))))}, 1000),
		sent(&kase{id: "7.3.6", desc: "Send a close frame with close code and a reason of 124 octets (payload 126).",
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(1000, strings.Repeat("*", 124))))}, 1002),
		sent(&kase{id: "7.5.1", desc: "Send a close frame with an invalid UTF-8 reason.",
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(1000,
				"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64")))}, 1002, 1007),
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, sent(&kase{id: fmt.Sprintf("7.7.%d", i+1), desc: fmt.Sprintf("Send close with valid close code %d.", code),
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(uint16(code), "")))}, 1000, code))
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cs = append(cs, sent(&kase{id: fmt.Sprintf("7.9.%d", i+1), desc: fmt.Sprintf("Send close with invalid close code %d.", code),
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(uint16(code), "")))}, 1002))
	}
	for i, code := range []int{5000, 65535} {
		cs = append(cs, sent(&kase{id: fmt.Sprintf("7.13.%d", i+1), desc: fmt.Sprintf("Send close with close code %d (undefined by the spec).", code),
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(uint16(code), ""))), info: true}, 1000, code, 1002))
	}
	// Extra: the codes IANA registered after Autobahn's lists were written.
	for i, code := range []int{1012, 1013, 1014} {
		cs = append(cs, sent(&kase{id: fmt.Sprintf("x7.7.%d", i+1), desc: fmt.Sprintf("Send close with registered close code %d.", code),
			send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(uint16(code), "")))}, 1000, code))
	}
	cs = append(cs, sent(&kase{id: "x7.9.1", desc: "Send close with close code 1015 (reserved, never on the wire).",
		send: sendFrames(oneChop, closeFrame(wstest.ClosePayload(1015, "")))}, 1002))
	return cs
}
