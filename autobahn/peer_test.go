package autobahn

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/zerows/websocket/internal/wstest"
)

// The peer is the fuzzer's side of one connection: it writes the case's
// frames with the naive codec and records, in order, everything the testee
// sends back.

type evKind int

const (
	evMessage evKind = iota
	evPing
	evPong
	evClose
	evViolation // the testee broke the protocol in what it sent
	evEOF       // the TCP connection ended (or reading failed)
)

type event struct {
	kind   evKind
	text   bool   // evMessage: a text message
	data   []byte // message or ping/pong payload, close reason
	code   int    // evClose: the code, -1 for an empty close frame
	detail string // evViolation, evEOF
	at     time.Time
}

func (e event) isData() bool { return e.kind == evMessage || e.kind == evPing || e.kind == evPong }
func (e event) isEnd() bool  { return e.kind == evClose || e.kind == evEOF }

// String is a short description for the tables.
func (e event) String() string {
	switch e.kind {
	case evMessage:
		k := "binary"
		if e.text {
			k = "text"
		}
		return fmt.Sprintf("%s %s", k, short(e.data, e.text))
	case evPing:
		return "ping " + short(e.data, false)
	case evPong:
		return "pong " + short(e.data, false)
	case evClose:
		if e.code < 0 {
			return "close (empty)"
		}
		if len(e.data) > 0 {
			if len(e.data) <= 60 && utf8.Valid(e.data) {
				return fmt.Sprintf("close %d %q", e.code, e.data)
			}
			return fmt.Sprintf("close %d %s", e.code, short(e.data, true))
		}
		return fmt.Sprintf("close %d", e.code)
	case evViolation:
		return "VIOLATION " + e.detail
	case evEOF:
		return "eof"
	}
	return "?"
}

// short renders a payload: quoted when it is short printable text, else its size.
func short(b []byte, text bool) string {
	if len(b) == 0 {
		return "0B"
	}
	if len(b) <= 24 && utf8.Valid(b) {
		printable := true
		for _, r := range string(b) {
			if r < 0x20 || r == 0x7f {
				printable = false
				break
			}
		}
		if printable {
			return fmt.Sprintf("%q", b)
		}
	}
	if len(b) >= 1<<20 && len(b)%(1<<20) == 0 {
		return fmt.Sprintf("%dMiB", len(b)>>20)
	}
	if len(b) >= 1<<10 && len(b)%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", len(b)>>10)
	}
	return fmt.Sprintf("%dB", len(b))
}

type peer struct {
	nc     net.Conn
	br     *bufio.Reader
	client bool // the peer is the client: it masks, and expects unmasked frames
	pmd    *pmd // permessage-deflate, when negotiated (sections 12 and 13)

	mu          sync.Mutex
	events      []event
	notify      chan struct{} // a new event (capacity 1)
	done        chan struct{} // the read loop ended
	closeSentAt time.Time     // when our first close frame went out
	notes       []string      // what the case's send steps noticed
	nonStrict   []string      // reasons for NON-STRICT (e.g. failed, but not fast)
	failures    []string      // reasons for FAILED noticed during sending
	writeErr    error
	sent        []string // what was written, for failure reports
}

// maxRead bounds one frame from the testee (it never needs to send more than
// the largest echo).
const maxRead = 64 << 20

func newPeer(nc net.Conn, br *bufio.Reader, client bool, d *pmd) *peer {
	p := &peer{nc: nc, br: br, client: client, pmd: d, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go p.readLoop()
	return p
}

func (p *peer) add(e event) {
	e.at = time.Now()
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

func (p *peer) violation(format string, args ...any) {
	p.add(event{kind: evViolation, detail: fmt.Sprintf(format, args...)})
}

// readLoop decodes the testee's frames, checks each against the rules a
// sender must follow, reassembles messages and records events.
func (p *peer) readLoop() {
	defer close(p.done)
	var (
		inMsg      bool
		msgText    bool
		compressed bool // the message's first frame has RSV1 (permessage-deflate)
		msg        []byte
		closed     bool
	)
	for {
		f, err := wstest.ReadFrame(p.br, maxRead)
		if err != nil {
			p.add(event{kind: evEOF, detail: err.Error()})
			return
		}
		if closed {
			p.violation("frame after close: %v", f)
			continue
		}
		if p.client && f.Masked {
			p.violation("server sent a masked frame: %v", f)
		}
		if !p.client && !f.Masked {
			p.violation("client sent an unmasked frame: %v", f)
		}
		// RSV1 marks a compressed message, on its first frame only (RFC
		// 7692 §6), when compression was negotiated.
		rsv1Allowed := p.pmd != nil && (f.Opcode == wstest.OpText || f.Opcode == wstest.OpBinary)
		if f.Rsv != 0 && !(f.Rsv == 4 && rsv1Allowed) {
			p.violation("RSV bits set: %v", f)
		}
		if !f.MinimalLen() {
			p.violation("non-minimal length encoding: %v", f)
		}
		switch f.Opcode {
		case wstest.OpText, wstest.OpBinary:
			if inMsg {
				p.violation("new data frame inside a fragmented message: %v", f)
			}
			inMsg, msgText, msg = true, f.Opcode == wstest.OpText, append([]byte(nil), f.Payload...)
			compressed = f.Rsv == 4 && rsv1Allowed
		case wstest.OpContinuation:
			if !inMsg {
				p.violation("continuation without a message: %v", f)
				continue
			}
			msg = append(msg, f.Payload...)
		case wstest.OpClose, wstest.OpPing, wstest.OpPong:
			if !f.Fin || len(f.Payload) > 125 {
				p.violation("bad control frame: %v", f)
			}
			switch f.Opcode {
			case wstest.OpPing:
				p.add(event{kind: evPing, data: f.Payload})
			case wstest.OpPong:
				p.add(event{kind: evPong, data: f.Payload})
			default:
				code, reason, ok := wstest.ParseClose(f.Payload)
				if !ok {
					p.violation("1-byte close payload")
				} else if !utf8.Valid(reason) {
					p.violation("close reason is not UTF-8")
				}
				if code >= 0 && !sendableCode(code) {
					p.violation("close code %d may not be sent", code)
				}
				closed = true
				p.add(event{kind: evClose, code: code, data: reason})
			}
			continue
		default:
			p.violation("reserved opcode: %v", f)
			continue
		}
		if f.Fin {
			if p.pmd != nil {
				p.mu.Lock()
				p.pmd.messagesIn++
				if compressed {
					p.pmd.compressedIn++
				}
				p.mu.Unlock()
				if compressed {
					m, err := p.pmd.inflate(msg)
					if err != nil {
						p.violation("compressed message of %d octets: %v", len(msg), err)
					} else {
						msg = m
					}
				}
			}
			if msgText && !utf8.Valid(msg) {
				p.violation("text message is not UTF-8")
			}
			p.add(event{kind: evMessage, text: msgText, data: msg})
			inMsg, msg = false, nil
		}
	}
}

// sendableCode reports whether an endpoint may put code in a close frame
// (RFC 6455 section 7.4 and the IANA registry).
func sendableCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// snapshot returns a copy of the events so far.
func (p *peer) snapshot() []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]event(nil), p.events...)
}

// waitFor waits until pred holds for the events so far, the read loop ends,
// or d passes; it reports whether pred held.
func (p *peer) waitFor(d time.Duration, pred func([]event) bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		if pred(p.snapshot()) {
			return true
		}
		select {
		case <-p.notify:
		case <-p.done:
			return pred(p.snapshot())
		case <-timer.C:
			return pred(p.snapshot())
		}
	}
}

func hasEnd(evs []event) bool {
	for _, e := range evs {
		if e.isEnd() {
			return true
		}
	}
	return false
}

func hasEOF(evs []event) bool {
	for _, e := range evs {
		if e.kind == evEOF {
			return true
		}
	}
	return false
}

func countData(evs []event) int {
	n := 0
	for _, e := range evs {
		if e.isData() {
			n++
		}
	}
	return n
}

// Chop modes for send, after Autobahn's: all frames in one write, one write
// per frame ("sync"), or writes of n bytes ("chopsize").
const (
	oneChop   = 0
	frameChop = -1
	octetChop = 1
)

// send writes frames, masked the way this side must mask.
func (p *peer) send(chop int, frames ...wstest.Frame) {
	frames = slices.Clone(frames) // case tables share their frames between parallel runs
	for i := range frames {
		frames[i].Masked = p.client
		if p.client {
			frames[i].Key = wstest.NewKey()
		}
	}
	p.sendRaw(chop, frames...)
}

// sendRaw writes frames exactly as given (masking included).
func (p *peer) sendRaw(chop int, frames ...wstest.Frame) {
	var chunks [][]byte
	var desc []string
	for _, f := range frames {
		desc = append(desc, describeFrame(f))
		chunks = append(chunks, f.Encode())
		// A close frame with RSV bits or FIN unset is a protocol error,
		// not the start of a closing handshake (case 3.7).
		if f.Opcode == wstest.OpClose && f.Fin && f.Rsv == 0 {
			p.mu.Lock()
			if p.closeSentAt.IsZero() {
				p.closeSentAt = time.Now()
			}
			p.mu.Unlock()
		}
	}
	how := map[int]string{oneChop: "one chop", frameChop: "frame-wise chops", octetChop: "octet-wise chops"}[chop]
	if how == "" {
		how = fmt.Sprintf("chops of %d", chop)
	}
	p.logSent(strings.Join(desc, ", ") + " (" + how + ")")
	switch {
	case chop == frameChop:
		p.write(chunks...)
	case chop == oneChop:
		p.write(bytes.Join(chunks, nil))
	default:
		all := bytes.Join(chunks, nil)
		var parts [][]byte
		for len(all) > 0 {
			n := min(chop, len(all))
			parts = append(parts, all[:n])
			all = all[n:]
		}
		p.write(parts...)
	}
}

func (p *peer) logSent(s string) {
	if len(p.sent) < 12 {
		p.sent = append(p.sent, s)
	} else if len(p.sent) == 12 {
		p.sent = append(p.sent, "…")
	}
}

// describeFrame is a one-line description of a frame the peer sends.
func describeFrame(f wstest.Frame) string {
	names := map[byte]string{0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
	name, ok := names[f.Opcode]
	if !ok {
		name = fmt.Sprintf("op%d", f.Opcode)
	}
	var b strings.Builder
	b.WriteString(name)
	if !f.Fin {
		b.WriteString("(fin=0)")
	}
	if f.Rsv != 0 {
		fmt.Fprintf(&b, "(rsv=%d)", f.Rsv)
	}
	if f.LenForm != wstest.LenMinimal || f.Len64High != 0 {
		fmt.Fprintf(&b, "(lenform=%d,high=%#x)", f.LenForm, f.Len64High)
	}
	if f.Masked {
		b.WriteString("(masked)")
	} else {
		b.WriteString("(unmasked)")
	}
	if len(f.Payload) <= 32 {
		fmt.Fprintf(&b, " %x", f.Payload)
	} else {
		fmt.Fprintf(&b, " %s", short(f.Payload, false))
	}
	return b.String()
}

// write writes each chunk with its own system call. A failed write is
// remembered, not fatal: the testee may rightly have dropped the connection.
func (p *peer) write(chunks ...[]byte) {
	for _, c := range chunks {
		if p.writeErr != nil {
			return
		}
		if _, err := p.nc.Write(c); err != nil {
			p.writeErr = err
		}
	}
}

func (p *peer) sendClose(code int, reason string) {
	var payload []byte
	if code >= 0 {
		payload = wstest.ClosePayload(uint16(code), reason)
	}
	p.send(oneChop, wstest.Frame{Fin: true, Opcode: wstest.OpClose, Payload: payload})
}

func (p *peer) closeSent() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closeSentAt.IsZero()
}

func (p *peer) note(format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, args...))
}

// quiet checks that the testee sends nothing for d: a pause between chunks
// after which the testee must not have failed the connection yet.
func (p *peer) quiet(d time.Duration) bool {
	n := len(p.snapshot())
	if p.waitFor(d, func(evs []event) bool { return len(evs) > n }) {
		e := p.snapshot()[n]
		p.failures = append(p.failures, fmt.Sprintf("%v before the invalid octet was sent", e))
		return false
	}
	return true
}

// failFast sends the chunks of a message whose first part is valid and
// whose second part makes it invalid (6.4.x): after the valid part the
// testee must stay quiet; after the invalid part it must fail the
// connection within failFastBound, before the rest (third chunk) is sent.
// A nil first chunk skips the quiet check.
func (p *peer) failFast(valid, invalid, rest []byte) {
	p.logSent(fmt.Sprintf("raw %x | pause | %x | wait for close | %x", valid, invalid, rest))
	if len(valid) > 0 {
		p.write(valid)
		if !p.quiet(quietPause) {
			return
		}
	}
	sent := time.Now()
	p.write(invalid)
	if p.waitFor(failFastBound, hasEnd) {
		p.note("failed %s after the invalid octet", round(time.Since(sent)))
	} else {
		p.nonStrict = append(p.nonStrict, fmt.Sprintf("not failed within %v of the invalid octet", failFastBound))
	}
	p.write(rest)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func describeEvents(evs []event) string {
	if len(evs) == 0 {
		return "nothing"
	}
	// Long runs of the same event (9.7.x) collapse to a count.
	var parts []string
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].String() == evs[i].String() {
			j++
		}
		if j-i > 1 {
			parts = append(parts, fmt.Sprintf("%d×%v", j-i, evs[i]))
		} else {
			parts = append(parts, evs[i].String())
		}
		i = j
	}
	return strings.Join(parts, ", ")
}
