// Package wasm tests Dial under js/wasm, where it speaks through the
// JavaScript environment's WebSocket, by running Go built for GOOS=js
// GOARCH=wasm under Node.js with the wasm_exec_node.js that Go ships.
//
// TestDialUnderNode builds the program in testdata/client, starts the
// servers it talks to on 127.0.0.1 with this library, and runs it. The
// program checks echoes of text and binary messages up to 1 MiB,
// subprotocols, close codes both ways, the server's pings, MaxMessageSize,
// a refused connection and the options a page cannot apply; and, against a
// stand-in for the WebSocket class that it drives itself, the receive
// queue's bound, the close codes a page may not send, the wait for the
// browser's send buffer and the handshake's bounds. TestPackageUnderNode
// builds the root package's tests for js/wasm and runs those named
// TestBrowser (the frame translation under Dial).
//
//	go test ./wasm
//
// It needs Node.js 20 or later: 20 with --experimental-websocket, which
// the test passes; 22 and later have the WebSocket class by default.
// Without node on PATH, or without a WebSocket in it, the tests skip;
// ZEROWS_WASM_REQUIRED=1 makes that a failure. ZEROWS_NODE names another
// node binary.
package wasm
