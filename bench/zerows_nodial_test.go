package bench

import "context"

// zerowsClient is nil until the library has Dial; the client-side cases
// (Send role=client, Echo, Handshake) skip zerows until then.
var zerowsClient func(ctx context.Context, url string, dial dialFunc) (endpoint, error)
