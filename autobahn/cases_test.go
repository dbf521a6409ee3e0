package autobahn

import "github.com/zerows/websocket/internal/wstest"

// The case tables are split by section: cases_1_4_test.go (framing,
// pings/pongs, reserved bits, opcodes), cases_5_test.go (fragmentation),
// cases_6_test.go (UTF-8), cases_7_test.go (close handling),
// cases_9_10_test.go (limits/performance, auto-fragmentation),
// cases_12_13_test.go (permessage-deflate). This file
// holds what they share.

// section is one Autobahn chapter.
type section struct {
	id    string
	name  string
	cases []*kase
	// styles, if not nil, are the only echo styles the section runs
	// against (all of them with -full).
	styles []string
}

// sections returns every case, grouped by chapter.
func sections() []section {
	return []section{
		{"1", "Framing", cases1(), nil},
		{"2", "Pings/Pongs", cases2(), nil},
		{"3", "Reserved Bits", cases3(), nil},
		{"4", "Opcodes", cases4(), nil},
		{"5", "Fragmentation", cases5(), nil},
		{"6", "UTF-8 Handling", cases6(), nil},
		{"7", "Close Handling", cases7(), nil},
		{"9", "Limits/Performance", cases9(), nil},
		{"10", "Misc (auto-fragmentation)", cases10(), nil},
		{"12", "WebSocket Compression (different payloads)", cases12(), compressionStyles()},
		{"13", "WebSocket Compression (different parameters)", cases13(), compressionStyles()},
	}
}

// Expected events.

func msgText(s string) event   { return event{kind: evMessage, text: true, data: []byte(s)} }
func msgTextB(b []byte) event  { return event{kind: evMessage, text: true, data: b} }
func msgBinary(b []byte) event { return event{kind: evMessage, data: b} }
func pong(b []byte) event      { return event{kind: evPong, data: b} }
func none() *[]event           { return &[]event{} }
func evs(e ...event) []event   { return e }
func codes(c ...int) []int     { return c }

// Frame and payload helpers shared by the case tables.

func frame(op byte, fin bool, payload []byte) wstest.Frame {
	return wstest.Frame{Fin: fin, Opcode: op, Payload: payload}
}

func textFrame(s string) wstest.Frame  { return frame(wstest.OpText, true, []byte(s)) }
func binFrame(b []byte) wstest.Frame   { return frame(wstest.OpBinary, true, b) }
func pingFrame(b []byte) wstest.Frame  { return frame(wstest.OpPing, true, b) }
func pongFrame(b []byte) wstest.Frame  { return frame(wstest.OpPong, true, b) }
func closeFrame(p []byte) wstest.Frame { return frame(wstest.OpClose, true, p) }
func withRsv(f wstest.Frame, rsv byte) wstest.Frame {
	f.Rsv = rsv
	return f
}

// rep repeats pattern up to n bytes, as Autobahn's payload_len does.
func rep(pattern string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = pattern[i%len(pattern)]
	}
	return b
}

// sendFrames is a send step that writes frames with one chop mode.
func sendFrames(chop int, frames ...wstest.Frame) func(p *peer) {
	return func(p *peer) { p.send(chop, frames...) }
}
