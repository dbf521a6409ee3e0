// Package fuzz holds fuzz targets for the opening handshake of
// github.com/zerows/websocket, written against its exported API only: what
// a peer on the other end of the wire can do to it. It has no code of its
// own; the targets are in handshake_test.go. The frame codec, the UTF-8
// validator, masking, close payloads and whole connections are fuzzed in
// the package itself (fuzz_test.go at the repository root), where the
// unexported code is in reach.
//
// # Targets
//
// FuzzUpgradeRequest sends raw bytes, as an HTTP/1.1 request, to an
// http.Server serving websocket.Require over an in-memory connection (two
// net.Pipes, so the client can end its direction as TCP's FIN would and
// still read the answer). Whatever the bytes: no panic, no hang (an answer
// or a closed connection within 5 s), no goroutine left behind. When the
// handler ran, the answer is 101 or one of the documented 400, 403, 405,
// 426 (never a 5xx), it agrees with RFC 6455 §4.2.1 and the documented
// Origin policy on the request as net/http parsed it, and a 101 carries
// the Sec-WebSocket-Accept of the key sent and the subprotocol the
// server's preference order selects. Answers net/http gives on its own,
// before any handler runs (400, 431, 505 for malformed requests), are
// net/http's business and not checked.
//
// FuzzDialResponse answers websocket.Dial's request, over the same kind of
// in-memory connection handed to Dial through Options.DialContext, with
// raw bytes, then ends the server's direction. The text {{accept}} in the
// bytes is replaced with the Sec-WebSocket-Accept value of the key Dial
// sent, so that the fuzzer can reach valid 101 responses. Dial must return
// within 5 s (it must never wait for its 10 s handshake timeout once the
// server has closed), without panicking, and either an error, with the
// connection closed, a *HandshakeError whose Status is the response's for
// any response that is not a valid upgrade, and nothing accepted that RFC
// 6455 §4.1 refuses; or a working Conn: the response a valid 101 by RFC
// 6455 §4.1, the subprotocol the one the server picked, a text message
// sent arriving masked at the server, and the Conn done within 5 s after
// the server's direction ends. Every goroutine must be gone afterwards.
//
// # Running
//
// `go test ./...` replays the seeds in testdata/fuzz/<Target>/ (named for
// what they exercise) in well under a second. To fuzz one target, with
// one worker per core:
//
//	go test ./fuzz -run='^$' -fuzz='^FuzzUpgradeRequest$' -fuzztime=60s -parallel=2
//	go test ./fuzz -run='^$' -fuzz='^FuzzDialResponse$' -fuzztime=60s -parallel=2
//
// and, at the repository root, for the package's own targets
// (FuzzParseHeader, FuzzUTF8Validator, FuzzMaskChunked, FuzzClosePayload,
// FuzzServerStream, FuzzClientStream, and FuzzReadSwitching, which checks
// Dial's parser of plain 101 responses against http.ReadResponse):
//
//	go test . -run='^$' -fuzz='^FuzzServerStream$' -fuzztime=60s -parallel=2
//
// A failing input is written to testdata/fuzz/<Target>/; rename it for
// what it shows and keep it, so that `go test` replays it from then on.
// -fuzzminimizetime=10s keeps the minimization of long new inputs from
// eating a short run.
package fuzz
