package websocket

import (
	"errors"
	"net"
	neturl "net/url"
	"strings"
)

// parseURL checks that s is a WebSocket URI (RFC 6455 §3) whose host Dial
// can send as it is.
func parseURL(s string) (*neturl.URL, error) {
	u, err := neturl.Parse(s)
	if err != nil {
		// url.Error repeats the whole URL, password and query included:
		// keep only what it says is wrong.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &dialError{step: "invalid URL", err: err}
	}
	fail := func(msg string) (*neturl.URL, error) {
		return nil, &dialError{url: redactURL(u), err: errors.New(msg)}
	}
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss":
		return fail("URL scheme " + quoteText(u.Scheme, maxQuoteBytes) + " is not ws or wss")
	case u.Host == "" || u.Hostname() == "":
		return fail("URL has no host")
	case u.User != nil:
		// Browsers do not send it either; credentials go in Options.Header.
		return fail("URL has user info; set an Authorization header instead")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fail("URL has a fragment, which RFC 6455 §3 forbids")
	case !isASCII(u.Host):
		// The Host header and TLS's server name need the ASCII form of an
		// internationalized name (RFC 5890), and the standard library has
		// no IDNA conversion to make it.
		return fail("URL host " + quoteText(u.Hostname(), maxQuoteBytes) +
			` is not ASCII: write an internationalized domain name in its punycode form ("xn--…"); Go's standard library cannot convert it`)
	}
	return u, nil
}

// redactURL returns u as error messages show it: scheme, host and path,
// without user info, query or fragment, which may hold credentials (a
// token in the query is common). A query or fragment that was there shows
// as "?…" or "#…".
func redactURL(u *neturl.URL) string {
	r := neturl.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := r.String()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?…"
	}
	if u.Fragment != "" {
		s += "#…"
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hostPort joins host and port, with the scheme's default port.
func hostPort(host, port string, secure bool) string {
	if port == "" {
		port = "80"
		if secure {
			port = "443"
		}
	}
	return net.JoinHostPort(host, port)
}

// isToken reports whether s is an RFC 9110 §5.6.2 token, as header names
// and subprotocols must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
