package websocket

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strings"
)

// handshakeBufferSize sizes the response reader: large enough for a usual
// 101 response with a few cookies, and for the frames sent right after it.
const handshakeBufferSize = 4096

// readResponse reads the response to req: a plain 101 by readSwitching,
// anything else by http.ReadResponse.
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if resp := readSwitching(br, req); resp != nil {
		return resp, nil
	}
	return readFinalResponse(br, req)
}

// readFinalResponse reads the response to req, skipping interim 1xx
// responses other than 101 as HTTP asks (RFC 9110 §15.2).
func readFinalResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 != 1 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// switchingPrefix starts every response readSwitching parses.
const switchingPrefix = "HTTP/1.1 101"

// readSwitching reads from br the response to req when it is a plain 101:
// "HTTP/1.1 101", lines that end in CRLF, headers of the form "Name: value"
// with a token for a name and no control characters in the value, none
// that would give the response a body or change how the connection is
// kept (Content-Length, Transfer-Encoding, Trailer, Pragma, "Connection:
// close"), all within br's buffer. That is every 101 a WebSocket server
// sends, and it parses to what http.ReadResponse would return, with one
// allocation for all the strings, one for the header map and one for its
// values.
//
// For anything else, readSwitching returns nil, having consumed nothing,
// and http.ReadResponse reads the response from br with all of HTTP's
// rules and errors. readSwitching waits for more bytes only while what br
// holds could still become such a response, and never once a read fails.
func readSwitching(br *bufio.Reader, req *http.Request) *http.Response {
	head := peekSwitching(br)
	if head == nil {
		return nil
	}
	s := string(head) // every string of the response points into this one
	status, rest, _ := strings.Cut(s, "\r\n")
	rest = rest[:len(rest)-2] // the empty line
	if len(status) > len(switchingPrefix) && status[len(switchingPrefix)] != ' ' || strings.IndexByte(status, '\r') >= 0 {
		return nil
	}

	n := strings.Count(rest, "\r\n")
	h := make(http.Header, n)
	values := make([]string, n) // backing array of h's values, cut as needed
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\r\n")
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) || !validHeaderValue(value) {
			return nil
		}
		name = canonicalName(name)
		switch name {
		case "Content-Length", "Transfer-Encoding", "Trailer", "Pragma":
			return nil
		}
		values[0] = strings.Trim(value, " \t")
		if vv := h[name]; vv != nil {
			h[name] = append(vv, values[0])
		} else {
			h[name] = values[:1:1]
		}
		values = values[1:]
	}
	if headerHasToken(h[hdrConnection], "close") {
		return nil
	}
	br.Discard(len(head))
	return &http.Response{
		Status:     status[len("HTTP/1.1 "):],
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Body:       http.NoBody,
		Request:    req,
	}
}

// peekSwitching returns the buffered bytes of a response that starts with
// switchingPrefix, up to and including the empty line that ends its
// headers, with every LF in a CRLF; or nil, as soon as the bytes show that
// the response is not one, or a read fails, or the buffer is full.
func peekSwitching(br *bufio.Reader) []byte {
	for {
		buf, _ := br.Peek(br.Buffered())
		n := min(len(buf), len(switchingPrefix))
		if string(buf[:n]) != switchingPrefix[:n] {
			return nil
		}
		for i := bytes.IndexByte(buf, '\n'); i >= 0; {
			if i == 0 || buf[i-1] != '\r' {
				return nil // a bare LF, which ReadResponse takes as a line's end
			}
			if i >= 3 && string(buf[i-3:i+1]) == "\r\n\r\n" {
				return buf[:i+1]
			}
			j := bytes.IndexByte(buf[i+1:], '\n')
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if len(buf) == br.Size() {
			return nil
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil
		}
	}
}

// validHeaderValue reports whether a header value holds only the bytes
// HTTP allows in one (RFC 9110 §5.5): no control characters but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// switchingHeaders are the canonical names of the headers a 101 response
// usually has, which canonicalName returns without allocating whatever
// their case in the response.
var switchingHeaders = []string{
	hdrUpgrade, hdrConnection, hdrAccept, hdrProtocol, hdrExtensions,
	"Date", "Server", "Set-Cookie",
}

// canonicalName returns the canonical form of a header name, a token, as
// textproto.CanonicalMIMEHeaderKey does.
func canonicalName(name string) string {
	for _, h := range switchingHeaders {
		if strings.EqualFold(name, h) {
			return h
		}
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}
