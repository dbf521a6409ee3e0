package websocket

import (
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"strings"
)

// parseURL checks that s is a WebSocket URI (RFC 6455 §3).
func parseURL(s string) (*neturl.URL, error) {
	u, err := neturl.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	switch {
	case u.Scheme != "ws" && u.Scheme != "wss":
		return nil, errors.New("websocket: URL scheme " + quote(u.Scheme) + " is not ws or wss")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("websocket: URL " + quote(s) + " has no host")
	case u.User != nil:
		// Browsers do not send it either; credentials go in Options.Header.
		return nil, errors.New("websocket: URL has user info; set an Authorization header instead")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, errors.New("websocket: URL has a fragment, which RFC 6455 §3 forbids")
	}
	return u, nil
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
