// Package autobahn holds the conformance tooling for
// github.com/zerows/websocket.
//
// Two ways to check the library against RFC 6455:
//
//   - The Autobahn TestSuite (https://github.com/crossbario/autobahn-testsuite),
//     run by run.sh against the testee server (autobahn/server) and the testee
//     client (autobahn/client), with Docker or a local wstest. See README.md.
//
//   - A Go-native conformance suite in this package's tests, which needs
//     neither: `go test ./autobahn/...`. It follows the Autobahn cases of
//     sections 1 (framing), 2 (ping/pong), 3 (reserved bits), 4 (opcodes),
//     5 (fragmentation), 6 (UTF-8), 7 (close handling), 9 (limits and
//     performance, scaled down unless -full is given), 10 (automatic
//     fragmentation), 12 and 13 (permessage-deflate, with fewer messages
//     per case), under the same case ids, plus a few extra cases
//     (ids starting with "x") for rules Autobahn does not probe, such as
//     masking direction and non-minimal length encodings.
//
// The suite plays the fuzzer's part with its own deliberately naive codec
// (internal/wstest), which can write frames no correct implementation would:
// it never uses the library's frame code. Each case runs against the library
// as a server (a raw TCP client talks to every echo path of
// autobahn/echo.Handler) and as a client (websocket.Dial against a raw TCP
// server that sends the case's frames unmasked and expects masked echoes),
// and checks what the Autobahn case checks: the exact echoes and pongs, the
// close code (within Autobahn's allowed set), that a bad frame fails the
// connection fast, and that the TCP connection is closed after the closing
// handshake.
//
// Useful invocations:
//
//	go test ./autobahn/...                          # whole suite, scaled section 9
//	go test ./autobahn -v -run 'TestServer/wait'    # per-section tables in the log
//	go test ./autobahn -run 'Test(Server|Client)/.*/6' -v
//	go test ./autobahn -full -timeout 30m           # section 9 at Autobahn's sizes
package autobahn
