package autobahn

import (
	"fmt"

	"github.com/zerows/websocket/internal/wstest"
)

// Section 1: Framing.
func cases1() []*kase {
	var cs []*kase
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range sizes {
		payload := rep("*", n)
		cs = append(cs, &kase{
			id:   fmt.Sprintf("1.1.%d", i+1),
			desc: fmt.Sprintf("Send text message with payload of length %d.", n),
			send: sendFrames(oneChop, frame(wstest.OpText, true, payload)),
			want: evs(msgTextB(payload)),
		})
	}
	p := rep("*", 65536)
	cs = append(cs, &kase{
		id:   "1.1.8",
		desc: "Send text message with payload of length 65536, sent in chops of 997 octets.",
		send: sendFrames(997, frame(wstest.OpText, true, p)),
		want: evs(msgTextB(p)),
	})
	for i, n := range sizes {
		payload := rep("\xfe", n)
		cs = append(cs, &kase{
			id:   fmt.Sprintf("1.2.%d", i+1),
			desc: fmt.Sprintf("Send binary message with payload of length %d.", n),
			send: sendFrames(oneChop, binFrame(payload)),
			want: evs(msgBinary(payload)),
		})
	}
	b := rep("\xfe", 65536)
	cs = append(cs, &kase{
		id:   "1.2.8",
		desc: "Send binary message with payload of length 65536, sent in chops of 997 octets.",
		send: sendFrames(997, binFrame(b)),
		want: evs(msgBinary(b)),
	})

	// Extra cases: rules of section 5.1 and 5.2 that Autobahn does not probe.
	hello := []byte("Hello")
	cs = append(cs,
		&kase{
			id:   "x1.1",
			desc: "Client sends an unmasked text frame (RFC 6455 5.1: the server must close).",
			send: func(p *peer) {
				p.sendRaw(oneChop, frame(wstest.OpText, true, hello))
			},
			mode: closeByTestee, codes: codes(1002), side: serverOnly,
		},
		&kase{
			id:   "x1.2",
			desc: "Server sends a masked text frame (RFC 6455 5.1: the client must close).",
			send: func(p *peer) {
				f := frame(wstest.OpText, true, hello)
				f.Masked, f.Key = true, wstest.NewKey()
				p.sendRaw(oneChop, f)
			},
			mode: closeByTestee, codes: codes(1002), side: clientOnly,
		},
		&kase{
			id:   "x1.3",
			desc: "Text frame of 5 octets with a 16-bit length (non-minimal encoding, RFC 6455 5.2).",
			send: func(p *peer) {
				f := textFrame("Hello")
				f.LenForm = wstest.Len16
				p.send(oneChop, f)
			},
			mode: closeByTestee, codes: codes(1002),
		},
		&kase{
			id:   "x1.4",
			desc: "Binary frame of 200 octets with a 64-bit length (non-minimal encoding).",
			send: func(p *peer) {
				f := binFrame(rep("\xfe", 200))
				f.LenForm = wstest.Len64
				p.send(oneChop, f)
			},
			mode: closeByTestee, codes: codes(1002),
		},
		&kase{
			id:   "x1.5",
			desc: "Text frame whose 64-bit length has its most significant bit set.",
			send: func(p *peer) {
				f := textFrame("Hello")
				f.LenForm, f.Len64High = wstest.Len64, 0x80
				p.send(oneChop, f)
			},
			mode: closeByTestee, codes: codes(1002, 1009),
		},
		&kase{
			id:   "x1.6",
			desc: "Ping of 4 octets with a 16-bit length (non-minimal encoding on a control frame).",
			send: func(p *peer) {
				f := pingFrame([]byte("ping"))
				f.LenForm = wstest.Len16
				p.send(oneChop, f)
			},
			mode: closeByTestee, codes: codes(1002),
		},
	)
	return cs
}

// Section 2: Pings/Pongs.
func cases2() []*kase {
	hello := []byte("Hello, world!")
	bin := []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")
	p125 := rep("\xfe", 125)
	unsolicited := []byte("unsolicited pong payload")
	pingPayload := []byte("ping payload")
	var pings []wstest.Frame
	var pongs []event
	for i := range 10 {
		b := []byte(fmt.Sprintf("payload-%d", i))
		pings = append(pings, pingFrame(b))
		pongs = append(pongs, pong(b))
	}
	return []*kase{
		{id: "2.1", desc: "Send ping without payload.", send: sendFrames(oneChop, pingFrame(nil)), want: evs(pong(nil))},
		{id: "2.2", desc: "Send ping with small text payload.", send: sendFrames(oneChop, pingFrame(hello)), want: evs(pong(hello))},
		{id: "2.3", desc: "Send ping with small binary (non UTF-8) payload.", send: sendFrames(oneChop, pingFrame(bin)), want: evs(pong(bin))},
		{id: "2.4", desc: "Send ping with binary payload of 125 octets.", send: sendFrames(oneChop, pingFrame(p125)), want: evs(pong(p125))},
		{id: "2.5", desc: "Send ping with binary payload of 126 octets.",
			send: sendFrames(oneChop, pingFrame(rep("\xfe", 126))), mode: closeByTestee, codes: codes(1002)},
		{id: "2.6", desc: "Send ping with binary payload of 125 octets, sent in octet-wise chops.",
			send: sendFrames(octetChop, pingFrame(p125)), want: evs(pong(p125))},
		{id: "2.7", desc: "Send unsolicited pong without payload.", send: sendFrames(oneChop, pongFrame(nil))},
		{id: "2.8", desc: "Send unsolicited pong with payload.", send: sendFrames(oneChop, pongFrame(unsolicited))},
		{id: "2.9", desc: "Send unsolicited pong with payload, then ping with payload.",
			send: sendFrames(oneChop, pongFrame(unsolicited), pingFrame(pingPayload)), want: evs(pong(pingPayload))},
		{id: "2.10", desc: "Send 10 pings with payload.", send: sendFrames(oneChop, pings...), want: pongs},
		{id: "2.11", desc: "Send 10 pings with payload, sent in octet-wise chops.", send: sendFrames(octetChop, pings...), want: pongs},
	}
}

// Section 3: Reserved Bits.
func cases3() []*kase {
	hello := "Hello, world!"
	fail := func(c *kase) *kase { c.mode, c.codes = closeByTestee, codes(1002); return c }
	echoThenFail := func(id string, rsv byte, chop int, how string) *kase {
		return fail(&kase{
			id:   id,
			desc: fmt.Sprintf("Send small text message, then send again with RSV = %d, then send ping%s.", rsv, how),
			send: sendFrames(chop, textFrame(hello), withRsv(textFrame(hello), rsv), pingFrame(nil)),
			want: evs(msgText(hello)), nonStrict: none(),
		})
	}
	return []*kase{
		fail(&kase{id: "3.1", desc: "Send small text message with RSV = 1.", send: sendFrames(oneChop, withRsv(textFrame(hello), 1))}),
		echoThenFail("3.2", 2, oneChop, ""),
		echoThenFail("3.3", 3, frameChop, ", sent in frame-wise chops"),
		echoThenFail("3.4", 4, octetChop, ", sent in octet-wise chops"),
		fail(&kase{id: "3.5", desc: "Send small binary message with RSV = 5.",
			send: sendFrames(oneChop, withRsv(binFrame([]byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")), 5))}),
		fail(&kase{id: "3.6", desc: "Send ping with RSV = 6.", send: sendFrames(oneChop, withRsv(pingFrame([]byte(hello)), 6))}),
		fail(&kase{id: "3.7", desc: "Send close with RSV = 7.",
			send: sendFrames(oneChop, withRsv(closeFrame(wstest.ClosePayload(1000, "")), 7))}),
	}
}

// Section 4: Opcodes.
func cases4() []*kase {
	hello := "Hello, world!"
	payload := []byte("reserved opcode payload")
	alone := func(id string, op byte, p []byte) *kase {
		d := fmt.Sprintf("Send frame with reserved %s opcode = %d", kindOf(op), op)
		if p != nil {
			d += " and non-empty payload"
		}
		return &kase{id: id, desc: d + ".", send: sendFrames(oneChop, frame(op, true, p)),
			mode: closeByTestee, codes: codes(1002)}
	}
	between := func(id string, op byte, p []byte) *kase {
		d := fmt.Sprintf("Send small text message, then frame with reserved %s opcode = %d", kindOf(op), op)
		if p != nil {
			d += " and non-empty payload"
		}
		return &kase{id: id, desc: d + ", then ping.",
			send: sendFrames(oneChop, textFrame(hello), frame(op, true, p), pingFrame(nil)),
			want: evs(msgText(hello)), nonStrict: none(), mode: closeByTestee, codes: codes(1002)}
	}
	return []*kase{
		alone("4.1.1", 3, nil),
		alone("4.1.2", 4, payload),
		between("4.1.3", 5, nil),
		between("4.1.4", 6, payload),
		between("4.1.5", 7, payload),
		alone("4.2.1", 11, nil),
		alone("4.2.2", 12, payload),
		between("4.2.3", 13, nil),
		between("4.2.4", 14, payload),
		between("4.2.5", 15, payload),
	}
}

func kindOf(op byte) string {
	if op >= 8 {
		return "control"
	}
	return "non-control"
}
