package bench

import (
	"context"
	"net/http"
	"slices"
)

// peer is one library as the benchmarks drive it. Each library's file
// fills one in with that library's own fastest documented style.
type peer struct {
	name string
	// server upgrades r, hijacking the conn behind w.
	server func(w http.ResponseWriter, r *http.Request) (endpoint, error)
	// client performs the library's client handshake to url over a conn
	// obtained from dial.
	client func(ctx context.Context, url string, dial dialFunc) (endpoint, error)
	// broadcast sends p as one binary message to every endpoint in eps
	// (all made by this peer), framing it once where the library can.
	broadcast func(eps []endpoint, p []byte) error
}

// endpoint is one side of an open WebSocket connection.
type endpoint interface {
	// recv reads n whole messages. fn, if not nil, sees each payload; the
	// slice is only valid during the call, as buffers are reused.
	recv(n int, fn func([]byte)) error
	// send writes p as one binary message.
	send(p []byte) error
	// echo sends every message it receives back, until the conn fails.
	echo() error
	// close tears the connection down as fast as the library allows.
	close() error
}

// readLimit is the message size limit set on every library that has one,
// so that 1 MiB messages pass everywhere.
const readLimit = 4 << 20

var registry []peer

func register(p peer) { registry = append(registry, p) }

// order fixes the column order; zerows comes first once it is registered.
var order = []string{"zerows", "gorilla", "coder", "gobwas", "gws"}

func peers() []peer {
	ps := slices.Clone(registry)
	slices.SortFunc(ps, func(a, b peer) int {
		return slices.Index(order, a.name) - slices.Index(order, b.name)
	})
	return ps
}
