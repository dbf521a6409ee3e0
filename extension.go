package websocket

import (
	"errors"
	"strconv"
	"strings"
)

// This file negotiates permessage-deflate (RFC 7692 §5, §7.1): parsing the
// Sec-WebSocket-Extensions header, the server's choice among the client's
// offers, and the client's check of the server's answer.

const extDeflate = "permessage-deflate"

// maxWindowBits is the LZ77 window compress/flate always uses: 32 KiB.
const maxWindowBits = 15

// deflateParams are one permessage-deflate offer or response. A window
// of 0 means the parameter is absent; clientWindow is -1 when an offer
// names client_max_window_bits without a value.
type deflateParams struct {
	serverNoContext bool
	clientNoContext bool
	serverWindow    int
	clientWindow    int
}

// parseDeflateParams parses the parameters of one permessage-deflate
// element ("permessage-deflate; a; b=1" without the name). It fails on an
// unknown parameter, one given twice, and a value that is missing, not
// allowed or out of range (RFC 7692 §7.1); response says the element is a
// server's, in which client_max_window_bits needs a value.
func parseDeflateParams(params string, response bool) (deflateParams, error) {
	var p deflateParams
	seen := map[string]bool{}
	for params != "" {
		var param string
		param, params, _ = strings.Cut(params, ";")
		name, value, hasValue := strings.Cut(param, "=")
		name = strings.Trim(name, " \t")
		if hasValue {
			var ok bool
			if value, ok = unquoteParam(strings.Trim(value, " \t")); !ok {
				return p, errors.New("parameter " + quoteText(name, maxQuoteBytes) + " has a malformed value")
			}
		}
		if !isToken(name) {
			return p, errors.New("malformed parameter " + quoteText(param, maxQuoteBytes))
		}
		name = strings.ToLower(name)
		if seen[name] {
			return p, errors.New("parameter " + name + " given twice")
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return p, errors.New("parameter " + name + " takes no value")
			}
			if name[0] == 's' {
				p.serverNoContext = true
			} else {
				p.clientNoContext = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits := -1
			if hasValue {
				bits = parseWindowBits(value)
				if bits == 0 {
					return p, errors.New("parameter " + name + " is not a number from 8 to 15")
				}
			} else if name[0] == 's' || response {
				return p, errors.New("parameter " + name + " needs a value")
			}
			if name[0] == 's' {
				p.serverWindow = bits
			} else {
				p.clientWindow = bits
			}
		default:
			return p, errors.New("unknown parameter " + quoteText(name, maxQuoteBytes))
		}
	}
	return p, nil
}

// parseWindowBits returns the window bits in s, a decimal from 8 to 15
// without leading zeros, or 0.
func parseWindowBits(s string) int {
	if len(s) == 0 || len(s) > 2 || s[0] == '0' {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 8 || n > maxWindowBits || strconv.Itoa(n) != s {
		return 0
	}
	return n
}

// unquoteParam returns an extension parameter's value: a token, or a
// quoted-string whose unescaped content is a token (RFC 6455 §9.1).
func unquoteParam(v string) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(v)-1; i++ {
			c := v[i]
			if c == '\\' {
				if i++; i == len(v)-1 {
					return "", false
				}
				c = v[i]
			}
			b.WriteByte(c)
		}
		v = b.String()
	}
	return v, isToken(v)
}

// splitExtension splits one element of the header into its name and the
// rest, its parameters.
func splitExtension(element string) (name, params string) {
	name, params, _ = strings.Cut(element, ";")
	return strings.Trim(name, " \t"), params
}

// deflateNegotiated is what both sides of a connection agreed to, seen
// from this side: whether each direction keeps its context between
// messages, and the window this side may compress with.
type deflateNegotiated struct {
	sendContext bool // this side's compressor keeps its window
	recvContext bool // the peer's compressor keeps its window
	sendWindow  int  // window bits this side's back-references must stay within
}

// acceptDeflate picks the first of the client's permessage-deflate offers
// that this server can honour, and returns the response's parameters.
// Offers that are malformed, or name a parameter twice or one unknown, are
// declined one by one (RFC 7692 §5.1): a bad offer never fails the
// handshake. ok is false when no offer is taken.
func acceptDeflate(values []string, mode CompressionMode) (resp string, n deflateNegotiated, ok bool) {
	if mode == CompressionOff {
		return "", n, false
	}
	l := tokenList{values: values}
	for element, more := l.next(); more; element, more = l.next() {
		name, params := splitExtension(element)
		if !strings.EqualFold(name, extDeflate) {
			continue
		}
		offer, err := parseDeflateParams(params, false)
		if err != nil {
			continue
		}
		n = deflateNegotiated{
			sendContext: mode == CompressionContextTakeover && !offer.serverNoContext,
			recvContext: mode == CompressionContextTakeover && !offer.clientNoContext,
			sendWindow:  maxWindowBits,
		}
		if offer.serverWindow > 0 {
			// Honoured by compressing only messages no longer than the
			// window, each on its own: see deflater.
			n.sendWindow = offer.serverWindow
			n.sendContext = n.sendContext && offer.serverWindow == maxWindowBits
		}
		resp = extDeflate
		if !n.sendContext {
			// Allowed even when not offered (RFC 7692 §7.1.1.1): the
			// client need keep no window for this side's messages.
			resp += "; server_no_context_takeover"
		}
		if !n.recvContext {
			resp += "; client_no_context_takeover"
		}
		if offer.serverWindow > 0 {
			resp += "; server_max_window_bits=" + strconv.Itoa(offer.serverWindow)
		}
		return resp, n, true
	}
	return "", deflateNegotiated{}, false
}

// deflateOffer is the client's offer for mode, "" for none. It always
// lets the server limit the client's window (client_max_window_bits):
// any window can be honoured. Without context takeover it asks the
// server for none either way, so that neither side keeps a window.
func deflateOffer(mode CompressionMode) string {
	switch mode {
	case CompressionNoContextTakeover:
		return extDeflate + "; server_no_context_takeover; client_no_context_takeover; client_max_window_bits"
	case CompressionContextTakeover:
		return extDeflate + "; client_max_window_bits"
	}
	return ""
}

// checkDeflateResponse applies the client's rules of RFC 7692 §5 and §7.1
// to the server's Sec-WebSocket-Extensions. It returns ok false when the
// server declined compression, and an error for an extension not
// offered, more than one, or a malformed or duplicated parameter.
func checkDeflateResponse(values []string, mode CompressionMode) (n deflateNegotiated, ok bool, err error) {
	elements := headerTokens(values)
	if len(elements) == 0 {
		return n, false, nil
	}
	if mode == CompressionOff {
		return n, false, errors.New("the server selected extensions " + quoteText(strings.Join(values, ", "), maxQuoteBytes) + ", but none were offered")
	}
	if len(elements) > 1 {
		return n, false, errors.New("the server selected more than one extension: " + quoteText(strings.Join(values, ", "), maxQuoteBytes))
	}
	name, params := splitExtension(elements[0])
	if !strings.EqualFold(name, extDeflate) {
		return n, false, errors.New("the server selected extension " + quoteText(name, maxQuoteBytes) + ", which was not offered")
	}
	p, err := parseDeflateParams(params, true)
	if err != nil {
		return n, false, errors.New("the server's permessage-deflate response is invalid: " + err.Error())
	}
	// The server's own window (server_max_window_bits) needs nothing: the
	// inflater's 32 KiB window holds any smaller one. A server that ignored
	// the offer's server_no_context_takeover is taken as it is: this side
	// keeps a window for it.
	n = deflateNegotiated{
		sendContext: mode == CompressionContextTakeover && !p.clientNoContext,
		recvContext: !p.serverNoContext,
		sendWindow:  maxWindowBits,
	}
	if p.clientWindow > 0 {
		n.sendWindow = p.clientWindow
		n.sendContext = n.sendContext && p.clientWindow == maxWindowBits
	}
	return n, true, nil
}
