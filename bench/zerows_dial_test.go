package bench

import (
	"context"
	"net"
	"net/http"
	"net/url"

	"github.com/zerows/websocket"
)

// zerowsClient dials with the library's Dial over the given dialer, with
// no proxy (the benchmarks' traffic stays on 127.0.0.1 or in memory), and
// keeps the dialed conn so that close can drop it.
func zerowsClient(ctx context.Context, u string, dial dialFunc) (endpoint, error) {
	return zerowsDial(ctx, u, dial, zerowsOpts)
}

// zerowsDial is zerowsClient with the given options.
func zerowsDial(ctx context.Context, u string, dial dialFunc, opts *websocket.Options) (endpoint, error) {
	var nc net.Conn
	o := *opts
	o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		nc = c
		return c, err
	}
	o.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	c, _, err := websocket.Dial(ctx, u, &o)
	if err != nil {
		return nil, err
	}
	return &zerowsEP{c: c, nc: nc}, nil
}
