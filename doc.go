// Package websocket implements the WebSocket protocol (RFC 6455) for
// servers and clients with nothing but the standard library.
//
// Its model is Django's dwebsocket: a handler either accepts WebSocket,
// serving plain HTTP and WebSocket on one URL, or requires it; and a
// connection is a mailbox. The application waits for a message (Wait,
// WaitContext, the Messages iterator), polls for one (Read, HasMessages,
// CountMessages), and sends whole messages back (Send, SendText); the
// connection answers pings and handles the closing handshake itself.
//
//	http.Handle("/echo", websocket.Require(func(ws *websocket.Conn, r *http.Request) {
//		for m := range ws.Messages() { // ends when the peer closes
//			ws.SendMessage(m)
//		}
//	}, nil)) // returning closes the connection with 1000
//
// Accept hands the handler a nil *Conn for plain HTTP requests, so a page
// and its live feed can share a URL. The wrappers run a WebSocket handler on
// a goroutine of its own and let the HTTP handler return, so that net/http
// frees the buffers of the HTTP exchange; the handler's request context
// ends when the connection does. Middleware upgrades any URL behind it
// and FromRequest finds the connection. Upgrade is the primitive they share;
// Dial opens a client connection with the same mailbox.
//
// # Concurrency
//
// Every method of Conn is safe for concurrent use: any number of goroutines
// may call Send, SendText, Wait, Read, Ping and CloseWith at once. Each
// message is written whole, as one frame or as the fragments of a stream,
// never interleaved with another. There is no one-reader-one-writer rule
// to keep.
//
// Who reads the socket depends on what the application asks for. A Wait
// (or the Messages iterator) reads it itself while nothing else does, so a
// message goes from the socket to the application with no goroutine
// hand-off, and an idle connection costs one goroutine: the handler's. The
// calls that need the socket read while the application is not waiting
// (Read, CountMessages, HasMessages, WaitContext, WaitTimeout, Ping, Done,
// Err, a keepalive pong not read in time, a second Wait at once) start a
// reader goroutine that owns the socket from then on and queues messages
// in the mailbox. CloseWith reads the peer's answer itself when nothing
// else reads. Send starts nothing: a connection only ever sent on, as with
// other libraries, answers no pings and learns of the peer's close when a
// write fails; call Done to have it read.
//
// # Streamed messages
//
// A message too large to hold in memory, or larger than MaxMessageSize,
// can be sent and received as a stream. SendStream returns an
// io.WriteCloser whose every Write goes out at once as fragments (RFC
// 6455 §5.4) and whose Close ends the message. While it is open, other
// data messages wait for it rather than interleave, as no data frame may
// go between fragments; control frames do go between them, so pongs,
// pings and the closing handshake are never held up by a long message. A
// streamed message is sent uncompressed.
//
// WaitStream returns the next message as an io.ReadCloser that reads it
// from the socket as it arrives, under a size limit of its own that may
// pass MaxMessageSize, checking text as UTF-8 across fragments and
// inflating a compressed message as it goes. A stream is only ever taken
// from the socket by the goroutine that asks for it, as Wait reads it,
// never from the mailbox: once the reader goroutine has started (see
// Concurrency), WaitStream returns ErrStreamUnavailable, and until then
// nothing is queued. A message taken as a stream and not read to its end
// is discarded by the next call that takes a message, or by CloseWith.
// BenchmarkStreamMessage sends and receives a 1 GiB message over TCP with
// the heap under 1 MiB (bench/README.md, "Streams").
//
// # Byte streams
//
// NetConn turns a Conn into a net.Conn that carries bytes in binary
// messages, for protocols written against sockets (HTTP, TLS, SSH, a
// database's wire protocol) that must cross a path where only WebSocket
// passes: Read spans messages, deadlines behave as on TCP (a read that
// times out leaves the connection usable), and Close does the closing
// handshake.
//
// # Transports
//
// Besides the HTTP/1.1 upgrade, Upgrade, Accept, Require and Middleware
// serve WebSocket over HTTP/2 (RFC 8441): an extended CONNECT with
// ":protocol: websocket", on the stream itself, nothing hijacked. Go's
// HTTP/2 server offers it when the process starts with
// GODEBUG=http2xconnect=1. The stream ends when the HTTP handler returns,
// so the wrappers run the application's function on the handler's
// goroutine over HTTP/2, and a handler that calls Upgrade itself must not
// return while it uses the connection.
//
// Built for js/wasm, Dial opens the JavaScript environment's WebSocket (a
// browser's, or Node.js's) and returns the same Conn. The options a page
// cannot apply (Header, TLSConfig, DialContext, Proxy, Compression,
// PingInterval) fail Dial with an error that names them, and Ping fails:
// the browser answers pings itself but cannot send one.
//
// # Limits and defaults
//
// The zero Options are safe to expose to the internet, on a server that
// bounds how long a request's headers may take (http.Server's
// ReadHeaderTimeout, which net/http leaves unlimited): NewServer returns
// one, with the reason for each of its defaults.
//
//   - A message may be at most 1 MiB (MaxMessageSize); a larger one fails
//     the connection with 1009 before its payload is read. Memory for a
//     message grows with the bytes that arrive, so a header that declares
//     a long payload and then stalls costs at most 16 KiB of payload
//     buffer (TestStalledHeaderCostsLittle measures it).
//   - At most 128 messages or 4 MiB wait unread (MailboxMessages,
//     MailboxBytes). When the mailbox is full the reader stops reading the
//     socket, so TCP pushes back on the peer: no message is ever dropped,
//     and a connection holds at most MailboxBytes + MaxMessageSize. While
//     the reader waits for room it answers nothing, pings and close frames
//     included: a peer's keepalive may then give up on an application that
//     does not read.
//   - A browser page from another origin is refused with 403; OriginPatterns
//     allows more origins, InsecureSkipOriginCheck allows all.
//   - The opening handshake is bounded by 10 s (HandshakeTimeout) and the
//     closing handshake by 5 s (CloseTimeout).
//   - A write that does not finish in 30 s (WriteTimeout) fails the
//     connection: a peer that stops reading cannot hold a sender forever.
//     SendContext bounds one send by a context as well.
//   - A peer that stops in the middle of a frame for 30 s (StallTimeout)
//     is dropped; a connection idle between messages is not.
//   - Keepalive pings are off unless PingInterval is set: TCP keepalive,
//     which Go turns on for every connection, already finds hosts that
//     have gone; pings find peers that stop answering, and keep proxies
//     from closing idle connections. Keepalive never waits behind a send:
//     a peer that neither reads nor answers is dropped at PingInterval +
//     PongTimeout even while a Send to it is blocked, and only a pong
//     that echoes the ping counts.
//
// Messages returned by Wait, Read and Messages belong to the caller. Send
// does not keep or change the slice it is given; a client masks a copy.
//
// # Shutdown
//
// Shutdown(ctx, srv) stops srv gracefully, WebSockets included: it closes
// every WebSocket srv upgraded with 1001 (going away), cancels their
// handlers' request contexts, calls srv.Shutdown, and waits, bounded by
// ctx, until the connections have closed and the handlers of Accept,
// Require and Middleware have returned. A server from NewServer also sends
// the 1001 on a plain srv.Shutdown. A handler's request context outlives
// the HTTP exchange, so it cannot end with the server's BaseContext on its
// own: ConnContext, which NewServer sets, passes that cancellation on.
//
// # Conformance
//
// The package follows RFC 6455 throughout, including the rules that other
// libraries leave to the application: text is checked to be UTF-8 as it
// arrives, fragment by fragment, and fails the connection with 1007 on the
// first bad byte; close codes and reasons are validated; control frames may
// arrive between fragments. The autobahn folder holds a conformance suite,
// organised by Autobahn TestSuite case, that runs with go test, and the
// testee server and client for the Autobahn TestSuite itself.
//
// # Compression
//
// permessage-deflate (RFC 7692) is off unless Options.Compression turns it
// on, as it costs CPU on every message and, with context takeover, memory
// on every connection. With CompressionNoContextTakeover each message is
// compressed on its own with pooled compress/flate writers and readers,
// and an idle connection holds nothing more; with
// CompressionContextTakeover each side keeps its window across messages:
// the receiver its inflated history, up to 32 KiB, the sender only the
// last 4 KiB of what it sent, with which a pooled writer is primed for the
// next message.
// All four parameters are negotiated. A peer that asks this side for a
// window under 32 KiB (server_max_window_bits or client_max_window_bits)
// gets messages no longer than that window compressed on their own, and
// longer ones uncompressed, since compress/flate always reaches back up to
// 32 KiB. A compressed message is inflated as it arrives, bounded by
// MaxMessageSize and checked as UTF-8 if text, so a small message that
// inflates past the bound fails with 1009 before its memory is spent.
package websocket
