package autobahn

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/zerows/websocket/internal/wstest"
)

// The peer's side of permessage-deflate (RFC 7692) for sections 12 and 13:
// the offers and answers Autobahn makes, the peer's own compression with
// compress/flate, and the checks on what the testee compresses. The
// parsing here is the peer's own: it never uses the library's.

// deflateParams are one permessage-deflate offer or response, named as in
// RFC 7692 §7.1. A window of 0 means the parameter is absent; -1 is
// client_max_window_bits without a value (an offer's "you may limit me").
type deflateParams struct {
	serverNoContext, clientNoContext bool
	serverWindow, clientWindow       int
}

func (d deflateParams) String() string {
	s := "permessage-deflate"
	if d.clientNoContext {
		s += "; client_no_context_takeover"
	}
	switch {
	case d.clientWindow < 0:
		s += "; client_max_window_bits"
	case d.clientWindow > 0:
		s += "; client_max_window_bits=" + strconv.Itoa(d.clientWindow)
	}
	if d.serverNoContext {
		s += "; server_no_context_takeover"
	}
	if d.serverWindow > 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(d.serverWindow)
	}
	return s
}

// parseDeflate parses one extension element; it fails on another
// extension, an unknown or repeated parameter, or a bad value.
func parseDeflate(element string) (deflateParams, error) {
	var d deflateParams
	parts := strings.Split(element, ";")
	if strings.TrimSpace(parts[0]) != "permessage-deflate" {
		return d, fmt.Errorf("extension %q, not permessage-deflate", strings.TrimSpace(parts[0]))
	}
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		name, value, hasValue := strings.Cut(strings.TrimSpace(p), "=")
		name = strings.TrimSpace(name)
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if seen[name] {
			return d, fmt.Errorf("parameter %s twice", name)
		}
		seen[name] = true
		bits := -1
		if hasValue {
			n, err := strconv.Atoi(value)
			if err != nil || n < 8 || n > 15 {
				return d, fmt.Errorf("parameter %s=%q", name, value)
			}
			bits = n
		}
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return d, fmt.Errorf("parameter %s with a value", name)
			}
			if name[0] == 's' {
				d.serverNoContext = true
			} else {
				d.clientNoContext = true
			}
		case "server_max_window_bits":
			if !hasValue {
				return d, fmt.Errorf("parameter %s without a value", name)
			}
			d.serverWindow = bits
		case "client_max_window_bits":
			d.clientWindow = bits
		default:
			return d, fmt.Errorf("unknown parameter %q", name)
		}
	}
	return d, nil
}

// deflateCase is a case's negotiation, as Autobahn's CLIENT_OFFERS (the
// fuzzer as client: what it offers) and SERVER_ACCEPT (the fuzzer as
// server: how it answers the testee client's offers).
type deflateCase struct {
	offers []deflateParams
	accept func(offers []deflateParams) (deflateParams, bool)
	desc   string
}

// pmd is one connection's compression state, seen from the peer.
type pmd struct {
	ext         string // the negotiated extension, as the response put it
	sendContext bool   // the peer keeps its compression window between messages
	sendWindow  int    // window bits the peer's back-references must stay within
	recvContext bool   // the testee may refer to its earlier messages
	recvWindow  int    // window bits the testee's back-references must stay within

	fw      *flate.Writer // with sendContext
	out     bytes.Buffer
	history []byte // recvContext: the last 32 KiB the testee sent

	compressedIn, messagesIn int          // the testee's data messages (guarded by the peer's mu)
	maxDistance              atomic.Int64 // the testee's longest back-reference
}

// negotiatedAsClient is the state when the peer is the client and the
// testee answered resp.
func negotiatedAsClient(resp deflateParams) *pmd {
	p := &pmd{
		ext:         resp.String(),
		sendContext: !resp.clientNoContext,
		sendWindow:  15,
		recvContext: !resp.serverNoContext,
		recvWindow:  15,
	}
	if resp.clientWindow > 0 {
		p.sendWindow = resp.clientWindow
	}
	if resp.serverWindow > 0 {
		p.recvWindow = resp.serverWindow
	}
	return p
}

// negotiatedAsServer is the state when the peer is the server and answered
// resp.
func negotiatedAsServer(resp deflateParams) *pmd {
	p := negotiatedAsClient(resp)
	p.sendContext, p.recvContext = p.recvContext, p.sendContext
	p.sendWindow, p.recvWindow = p.recvWindow, p.sendWindow
	return p
}

// checkResponse applies RFC 7692's rules for a server's answer to the
// offers it was given (§5.1, §7.1.1, §7.1.2): the answer must accept one
// of them as it stands, or with parameters a server may add.
func checkResponse(values []string, offers []deflateParams) (*pmd, error) {
	var elements []string
	for _, v := range values {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				elements = append(elements, e)
			}
		}
	}
	switch {
	case len(elements) == 0 && len(offers) == 0:
		return nil, nil
	case len(elements) == 0:
		return nil, errors.New("the testee declined every permessage-deflate offer")
	case len(offers) == 0:
		return nil, fmt.Errorf("the testee answered extensions %q to none offered", values)
	case len(elements) > 1:
		return nil, fmt.Errorf("the testee answered more than one extension: %q", values)
	}
	resp, err := parseDeflate(elements[0])
	if err != nil {
		return nil, fmt.Errorf("the testee's Sec-WebSocket-Extensions %q: %v", elements[0], err)
	}
	var why []string
	for _, o := range offers {
		switch {
		case o.serverNoContext && !resp.serverNoContext:
			why = append(why, o.String()+": server_no_context_takeover left out")
		case o.serverWindow > 0 && (resp.serverWindow == 0 || resp.serverWindow > o.serverWindow):
			why = append(why, o.String()+": server_max_window_bits missing or above the offer's")
		case resp.clientWindow != 0 && o.clientWindow == 0:
			why = append(why, o.String()+": client_max_window_bits not offered")
		default:
			return negotiatedAsClient(resp), nil
		}
	}
	return nil, fmt.Errorf("the testee's answer %q accepts none of the offers (%s)", elements[0], strings.Join(why, "; "))
}

// Autobahn's server answers for section 13 (accept1 ... accept7): each
// takes the first permessage-deflate offer it can, echoing what the offer
// asks of the server and asking the client for no context takeover
// and/or a window. A server may always ask for client_no_context_takeover;
// a window only of an offer with client_max_window_bits. An offer that
// does not allow what is asked is passed over; with none left the fuzzer
// declines compression.
func acceptAs(noContext bool, window int) func([]deflateParams) (deflateParams, bool) {
	return func(offers []deflateParams) (deflateParams, bool) {
		for _, o := range offers {
			if window > 0 && o.clientWindow == 0 {
				continue
			}
			r := deflateParams{serverNoContext: o.serverNoContext, serverWindow: o.serverWindow,
				clientNoContext: noContext, clientWindow: window}
			return r, true
		}
		return deflateParams{}, false
	}
}

// acceptFirst tries the answers in turn (accept7).
func acceptFirst(as ...func([]deflateParams) (deflateParams, bool)) func([]deflateParams) (deflateParams, bool) {
	return func(offers []deflateParams) (deflateParams, bool) {
		for _, a := range as {
			if r, ok := a(offers); ok {
				return r, true
			}
		}
		return deflateParams{}, false
	}
}

// serverHandshake is the raw server's opening handshake: wstest's, plus
// the permessage-deflate answer of dc (nil: no extension, whatever the
// client offers).
func serverHandshake(nc net.Conn, dc *deflateCase) (*bufio.Reader, *pmd, error) {
	br := bufio.NewReaderSize(nc, 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, err
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 || req.Method != http.MethodGet ||
		req.Header.Get("Sec-WebSocket-Version") != "13" || !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") ||
		!strings.Contains(strings.ToLower(req.Header.Get("Connection")), "upgrade") {
		nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
		return nil, nil, fmt.Errorf("handshake: bad request %v", req.Header)
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wstest.AcceptKey(key) + "\r\n"
	var state *pmd
	if dc != nil {
		var offers []deflateParams
		for _, v := range req.Header.Values("Sec-WebSocket-Extensions") {
			for _, e := range strings.Split(v, ",") {
				if o, err := parseDeflate(e); err == nil {
					offers = append(offers, o)
				} else if strings.HasPrefix(strings.TrimSpace(e), "permessage-deflate") {
					return nil, nil, fmt.Errorf("the testee's offer %q: %v", e, err)
				}
			}
		}
		if len(offers) == 0 {
			return nil, nil, fmt.Errorf("the testee offered no permessage-deflate (Sec-WebSocket-Extensions %q)", req.Header.Values("Sec-WebSocket-Extensions"))
		}
		r, ok := dc.accept(offers)
		if !ok {
			return nil, nil, fmt.Errorf("none of the testee's offers %v allows the answer of %s", offers, dc.desc)
		}
		state = negotiatedAsServer(r)
		resp += "Sec-WebSocket-Extensions: " + state.ext + "\r\n"
	}
	if _, err := nc.Write([]byte(resp + "\r\n")); err != nil {
		return nil, nil, err
	}
	return br, state, nil
}

// compress returns msg as the peer sends it: compressed, or as it is when
// the window the testee allows is too small for it to be compressed on
// its own (compress/flate always may reach 32 KiB back, but never before
// the start of its input).
func (d *pmd) compress(msg []byte) (payload []byte, compressed bool) {
	if d.sendWindow < 15 && len(msg) > 1<<d.sendWindow {
		return msg, false
	}
	d.out.Reset()
	fw := d.fw
	if fw == nil || !d.sendContext || d.sendWindow < 15 {
		fw, _ = flate.NewWriter(&d.out, peerLevel(len(msg)))
		if d.sendContext && d.sendWindow == 15 {
			d.fw = fw
		}
	}
	fw.Write(msg)
	fw.Flush()
	b := d.out.Bytes()
	if !bytes.HasSuffix(b, []byte{0, 0, 0xff, 0xff}) {
		panic("compress/flate's flush did not end in 00 00 ff ff")
	}
	return bytes.Clone(b[:len(b)-4]), true
}

// peerLevel is the peer's compression level for a message of n octets:
// zlib's default level, as Autobahn's, for short messages, and the fast
// one for long messages, which would otherwise take most of the suite's
// time; the two make differently shaped blocks for the testee to inflate.
// With context takeover the first message's level stays.
func peerLevel(n int) int {
	if n <= 4<<10 {
		return flate.DefaultCompression
	}
	return flate.BestSpeed
}

// inflate decodes a compressed message from the testee twice: with
// compress/flate, and with the naive decoder that checks the window and
// the context rules. They must agree.
func (d *pmd) inflate(payload []byte) ([]byte, error) {
	var history []byte
	if d.recvContext {
		history = d.history
	}
	fr := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})), history)
	msg, err := io.ReadAll(fr)
	if err != nil {
		return nil, fmt.Errorf("compress/flate cannot inflate the message: %v", err)
	}
	checked, st, err := inflateChecked(history, payload, 1<<d.recvWindow)
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, d.ext)
	}
	if !bytes.Equal(checked, msg) {
		return nil, errors.New("compress/flate and the naive decoder disagree on the message")
	}
	d.maxDistance.Store(max(d.maxDistance.Load(), int64(st.maxDistance)))
	if d.recvContext {
		d.history = append(d.history, msg...)
		if n := len(d.history) - 32<<10; n > 0 {
			d.history = append(d.history[:0], d.history[n:]...)
		}
	}
	return msg, nil
}

// sendMessage sends one data message, compressed when the connection
// compresses, in frames of at most frag octets of payload (0: one frame),
// as Autobahn's autoFragmentSize does.
func (p *peer) sendMessage(binary bool, msg []byte, frag int) {
	op := byte(wstest.OpText)
	if binary {
		op = wstest.OpBinary
	}
	payload, compressed := msg, false
	if p.pmd != nil {
		payload, compressed = p.pmd.compress(msg)
	}
	var frames []wstest.Frame
	if frag > 0 && len(payload) > frag {
		frames = fragments(op, payload, frag)
	} else {
		frames = []wstest.Frame{frame(op, true, payload)}
	}
	if compressed {
		frames[0].Rsv = 4
	}
	p.send(oneChop, frames...)
}
