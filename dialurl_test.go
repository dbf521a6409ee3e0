package websocket

import (
	"context"
	"errors"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ws://example.com/chat", "ws://example.com/chat"},
		{"wss://u:s3cret@example.com:8443/a%2Fb/c?token=s3cret#s3cret", "wss://example.com:8443/a%2Fb/c?…#…"},
		{"ws://example.com/?", "ws://example.com/?…"},
		{"ws://[::1]:80/p?q", "ws://[::1]:80/p?…"},
		{"ws:s3cret@example.com", "ws:"},
	} {
		u, err := neturl.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := redactURL(u); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDialErrorRedactsURL: whichever step fails, over real TCP where
// there is one, the error names the URL without its password, query or
// fragment.
func TestDialErrorRedactsURL(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: one that was free a moment ago.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()
	silent := startRawServer(t, func(c net.Conn) {
		readUpgradeRequest(c) // and never answer
		waitClosed(c)
	})

	const q = "/p?token=s3cret"
	for _, tc := range []struct {
		name string
		url  string
		opts *Options
		want string // in the error
	}{
		{"not a URL", "ws://u:s3cret@[::1" + q, nil, "websocket: dial: invalid URL: missing ']'"},
		{"bad escape", "ws://u:s3cret@127.0.0.1/%zz?token=s3cret", nil, "invalid URL"},
		{"user info", "ws://u:s3cret@127.0.0.1" + q, nil, "websocket: dial ws://127.0.0.1/p?…: URL has user info"},
		{"no host", "ws://u:s3cret@" + q, nil, "websocket: dial ws:///p?…: URL has no host"},
		{"fragment", "ws://127.0.0.1" + q + "#s3cret", nil, "ws://127.0.0.1/p?…#…: URL has a fragment"},
		{"scheme", "http://127.0.0.1" + q, nil, "http://127.0.0.1/p?…: URL scheme"},
		{"non-ASCII host", "ws://bü.example" + q, nil, "ws://b%C3%BC.example/p?…: URL host \"bü.example\" is not ASCII"},
		{"bad header", "ws://127.0.0.1" + q, &Options{Header: map[string][]string{"X": {"\x1b"}}}, "ws://127.0.0.1/p?…: Options.Header"},
		{"connection refused", "ws://" + closedAddr + q, nil, "websocket: dial ws://" + closedAddr + "/p?…: dialing: "},
		{"timeout", "ws://" + silent.addr() + q, &Options{HandshakeTimeout: 50 * time.Millisecond},
			"websocket: dial ws://" + silent.addr() + "/p?…: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			if opts == nil {
				opts = &Options{}
			}
			opts.Proxy = func(r *http.Request) (*neturl.URL, error) { return nil, nil }
			_, _, err := Dial(context.Background(), tc.url, opts)
			if err == nil {
				t.Fatal("Dial succeeded")
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "token") {
				t.Errorf("error %q shows the URL's secrets", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	var ue *neturl.Error
	if _, _, err := Dial(context.Background(), "ws://u:s3cret@[::1/", nil); errors.As(err, &ue) {
		t.Errorf("Dial error %v wraps a *url.Error, whose message has the whole URL", err)
	}
}
