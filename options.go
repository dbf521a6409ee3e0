package websocket

import (
	"compress/flate"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Defaults used for zero Options fields. Each is chosen so that a server
// that sets nothing is safe to expose: memory per connection is bounded,
// and no handshake or close can hang forever.
const (
	// DefaultMaxMessageSize (1 MiB) bounds one message: large enough for
	// any JSON document or chat payload, small enough that a thousand
	// connections each holding one full message fit in 1 GiB.
	DefaultMaxMessageSize = 1 << 20
	// DefaultMailboxMessages (128) is how many messages may wait unread
	// before the reader stops reading the socket.
	DefaultMailboxMessages = 128
	// DefaultMailboxBytes (4 MiB) is how many payload bytes may wait
	// unread before the reader stops reading the socket.
	DefaultMailboxBytes = 4 << 20
	// DefaultHandshakeTimeout (10 s) bounds the opening handshake: the
	// client's whole exchange, the server's write of its response.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultCloseTimeout (5 s) bounds the closing handshake: how long this
	// side waits for the peer's close frame, and then for the peer to
	// drop TCP, before dropping it itself.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultWriteTimeout (30 s) bounds each write to the socket: a peer
	// that stops reading cannot hold a sender, or the goroutine and
	// buffers behind it, for longer. 30 s lets a 1 MiB message through a
	// link as slow as 300 kbit/s.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultStallTimeout (30 s) bounds how long a frame that has begun
	// may go without a byte arriving. Peers write frames whole, so a
	// stall that long is a dead or hostile peer, whose connection is then
	// dropped rather than held forever.
	DefaultStallTimeout = 30 * time.Second
	// DefaultBufferSize (4 KiB) is the read and write buffer size: one
	// page, enough to batch small frames into one system call.
	DefaultBufferSize = 4096
	// DefaultCompressionThreshold (128 bytes): shorter messages are sent
	// uncompressed, as deflate's block headers and the frame's bytes
	// gain little or nothing on them and the CPU is spent for naught.
	DefaultCompressionThreshold = 128
	// DefaultCompressionLevel is flate.BestSpeed (1): the level that
	// spends the least CPU, which a server pays on every message. The
	// ratio it gives up against higher levels has not been measured here.
	DefaultCompressionLevel = flate.BestSpeed
)

// CompressionMode says whether and how a connection compresses its
// messages with permessage-deflate (RFC 7692).
type CompressionMode int

const (
	// CompressionOff neither offers nor accepts compression.
	CompressionOff CompressionMode = iota
	// CompressionNoContextTakeover compresses each message on its own.
	// Neither side keeps a window between messages, so compressors are
	// borrowed from a pool for one message and an idle connection costs
	// nothing more than without compression. Repetition across messages
	// is not exploited.
	CompressionNoContextTakeover
	// CompressionContextTakeover lets each side's compressor keep its
	// window across messages, which compresses streams of similar small
	// messages far better, at a price per connection: the last 4 KiB this
	// side sent compressed, which a pooled compressor compresses again
	// before each message (CPU), and up to 32 KiB of window for what it
	// received. A peer that asks for no context takeover gets it.
	CompressionContextTakeover
)

// Options configures Upgrade, the handler wrappers and Dial. A nil *Options
// and the zero value both mean every default; each field's comment says
// what its zero value means. Options are read when the connection is made
// and never changed by the library.
type Options struct {
	// OriginPatterns lists the browser origins a server accepts besides its
	// own. A request's own origin is https://Host when it came over TLS;
	// without TLS, where a proxy in front may have ended TLS, http://Host
	// and https://Host both are. Scheme, host and port must all match, a
	// default port (80, 443) counting as absent. A request without an
	// Origin header is accepted (browsers always send one, other clients
	// need not). Anything else gets 403 Forbidden: this stops another
	// site's page from opening a connection with the user's cookies
	// (cross-site WebSocket hijacking, RFC 6455 §10.2). So does an Origin no
	// browser sends: "null", more than one, one with user info, a path, a
	// query or a fragment, a host that is not ASCII or is percent-escaped.
	//
	// A pattern is "host[:port]" or "scheme://host[:port]": the host[:port]
	// part is a path.Match pattern, compared case-insensitively with the
	// Origin's host and port (a default port left out); without a scheme,
	// any scheme matches. A "*" matches any run of characters, dots
	// included: "*.example.com" matches subdomains at any depth, but
	// neither example.com itself nor an origin with a non-default port
	// (list "example.com" too if it is meant; "localhost:*" allows a
	// development server on any port). Beware
	// "*example.com": it also matches evilexample.com, which anyone can
	// register. "https://*.example.com" also keeps out the plain-http pages
	// of those hosts, which a network attacker can write. A malformed
	// pattern matches nothing.
	OriginPatterns []string

	// InsecureSkipOriginCheck accepts a request from any origin. Only for
	// servers that authenticate connections by other means than cookies.
	InsecureSkipOriginCheck bool

	// Subprotocols are the application protocols (RFC 6455 §1.9) this side
	// speaks. A server picks the first one in this list that the client
	// offered: the server's preference order wins. Names compare exactly,
	// case included. The choice takes one pass over the client's offer,
	// however long the offer and this list. If none matches, the
	// connection is made without a subprotocol, and Conn.Subprotocol
	// returns "". A client offers them in this order.
	Subprotocols []string

	// MaxMessageSize is the largest message, in bytes, that this side
	// accepts; a bigger one fails the connection with 1009 before its
	// payload is read. Zero means DefaultMaxMessageSize (1 MiB). It does not
	// limit what this side sends, nor a message read with WaitStream, which
	// takes its own limit.
	MaxMessageSize int64

	// MailboxMessages and MailboxBytes bound the messages that wait for the
	// application. When either bound is reached, the reader stops reading
	// the socket, so TCP pushes back on the peer and no message is lost.
	// One message is always let in, however big, so memory stays under
	// MailboxBytes + MaxMessageSize. Zero means DefaultMailboxMessages
	// (128) and DefaultMailboxBytes (4 MiB).
	MailboxMessages int
	MailboxBytes    int64

	// HandshakeTimeout bounds the opening handshake. Zero means
	// DefaultHandshakeTimeout (10 s).
	HandshakeTimeout time.Duration

	// CloseTimeout bounds the closing handshake. Zero means
	// DefaultCloseTimeout (5 s).
	CloseTimeout time.Duration

	// WriteTimeout bounds each write of a frame to the socket. A write
	// that does not finish in time fails the connection, as a frame half
	// written cannot be taken back: the send returns an error for which
	// errors.Is(err, os.ErrDeadlineExceeded) holds, and the connection
	// ends with CloseAbnormalClosure. Zero means DefaultWriteTimeout
	// (30 s); a negative value means no bound. SendContext bounds one send
	// by a context as well.
	WriteTimeout time.Duration

	// StallTimeout bounds how long a frame that has begun may go without
	// a byte arriving; the connection is then dropped (Err reports
	// CloseAbnormalClosure). It does not limit how long a connection may
	// be idle between messages: that is what keepalive is for. Zero means
	// DefaultStallTimeout (30 s); a negative value means no bound.
	StallTimeout time.Duration

	// PingInterval turns on keepalive: a ping is sent after this long, and
	// then again each time the interval passes. If no pong arrives within
	// PongTimeout of a ping, the connection is dropped and Err reports
	// CloseAbnormalClosure. A Wait in progress reads the pongs; if none
	// was read in time on a connection that has no reader goroutine (see
	// Conn), one is started and has one more PongTimeout to read it. A
	// reader held back by a full mailbox reads no pong, so an application
	// that stops reading is dropped too. Zero means no keepalive: most
	// servers behind proxies want one (30 s is common).
	PingInterval time.Duration

	// PongTimeout is how long keepalive waits for a pong. Zero means
	// PingInterval.
	PongTimeout time.Duration

	// ReadBufferSize and WriteBufferSize size the socket buffers. Zero
	// means DefaultBufferSize (4 KiB). Buffers are borrowed from a pool
	// while in use, so idle connections hold none.
	ReadBufferSize  int
	WriteBufferSize int

	// Compression turns on permessage-deflate (RFC 7692): a server
	// accepts a client's offer, a client makes one. Zero means
	// CompressionOff: every browser offers compression, and a compressor
	// with context takeover costs 1.15 MiB per connection (measured, see
	// CompressionContextTakeover), so
	// accepting by default could multiply a server's memory without its
	// author's knowing. Servers whose traffic is text should choose
	// CompressionNoContextTakeover, which costs no memory per idle
	// connection, or CompressionContextTakeover where memory allows.
	Compression CompressionMode

	// CompressionThreshold is the shortest message, in bytes, that is
	// sent compressed. Zero means DefaultCompressionThreshold (128); a
	// negative value compresses every message.
	CompressionThreshold int

	// CompressionLevel is the compress/flate level: flate.BestSpeed (1)
	// to flate.BestCompression (9), or flate.HuffmanOnly (-2). Zero, or
	// a value out of range, means DefaultCompressionLevel (BestSpeed).
	CompressionLevel int

	// Header holds extra request headers a client sends, such as Origin,
	// Authorization or Cookie. Names are matched case-insensitively. Dial
	// returns an error, before sending anything, for a name that is not
	// an RFC 9110 token, a value with a control character other than tab,
	// and for these fields, which it sets itself or which would change
	// how the request is framed or forwarded: Host (the URL names it; set
	// DialContext to connect elsewhere), Upgrade, Connection,
	// Sec-WebSocket-Key, -Version, -Accept, -Extensions (set
	// Compression), Sec-WebSocket-Protocol (set Subprotocols), Content-Length,
	// Transfer-Encoding, Trailer, TE, Keep-Alive and Proxy-Connection.
	//
	// Proxy-Authorization (one value) goes only to the proxy, in its
	// CONNECT request, and never to the server; without a proxy it is not
	// sent. A proxy URL with user info overrides it, as in net/http.
	Header http.Header

	// TLSConfig is used by a client for wss:// URLs. Nil means the zero
	// tls.Config, with the server name taken from the URL.
	TLSConfig *tls.Config

	// DialContext opens a client's TCP connection (to the proxy, when
	// there is one). Nil means a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the HTTP proxy a client tunnels through with CONNECT,
	// or nil for none. Nil means http.ProxyFromEnvironment (HTTPS_PROXY,
	// HTTP_PROXY and NO_PROXY; ws:// counts as http, wss:// as https).
	Proxy func(*http.Request) (*url.URL, error)
}

// withDefaults returns o with every zero field set to its default: a copy,
// or for nil a shared value. The result must not be modified.
func (o *Options) withDefaults() *Options {
	if o == nil {
		return defaultOptions
	}
	return o.fillDefaults()
}

// defaultOptions serves every connection made with nil Options, so that
// those do not each hold a copy. It is never modified.
var defaultOptions = (*Options)(nil).fillDefaults()

// fillDefaults returns a copy of o with every zero field set. o may be nil.
func (o *Options) fillDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MailboxMessages <= 0 {
		c.MailboxMessages = DefaultMailboxMessages
	}
	if c.MailboxBytes <= 0 {
		c.MailboxBytes = DefaultMailboxBytes
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	c.WriteTimeout = orDefault(c.WriteTimeout, DefaultWriteTimeout)
	c.StallTimeout = orDefault(c.StallTimeout, DefaultStallTimeout)
	if c.PingInterval < 0 {
		c.PingInterval = 0
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = c.PingInterval
	}
	if c.ReadBufferSize <= 0 {
		c.ReadBufferSize = DefaultBufferSize
	}
	if c.WriteBufferSize <= 0 {
		c.WriteBufferSize = DefaultBufferSize
	}
	switch {
	case c.CompressionThreshold == 0:
		c.CompressionThreshold = DefaultCompressionThreshold
	case c.CompressionThreshold < 0:
		c.CompressionThreshold = 0
	}
	if c.CompressionLevel == 0 || c.CompressionLevel < flate.HuffmanOnly || c.CompressionLevel > flate.BestCompression {
		c.CompressionLevel = DefaultCompressionLevel
	}
	if c.Proxy == nil {
		c.Proxy = http.ProxyFromEnvironment
	}
	return &c
}

// orDefault maps zero to def and a negative duration, an explicit "no
// bound", to zero.
func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}
