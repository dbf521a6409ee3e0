// Package wasm tests Dial under js/wasm, where it speaks through the
// JavaScript environment's WebSocket: TestDialUnderNode builds the program
// in testdata/client for GOOS=js GOARCH=wasm, starts the servers it talks
// to on 127.0.0.1, and runs it under Node.js with the wasm_exec_node.js
// that Go ships. The program checks echoes of text and binary messages up
// to 1 MiB, subprotocols, close codes both ways, MaxMessageSize, a refused
// connection and the options a page cannot apply, and, against a stand-in
// for the WebSocket class, the receive queue's bound, the close codes a
// page may not send and the wait for the browser's send buffer.
//
//	go test ./wasm
//
// It needs Node.js 20 or later: 20 with --experimental-websocket, which
// the test passes, 22 and later have the WebSocket class by default.
// Without node on PATH, or without a WebSocket in it, the test skips;
// ZEROWS_WASM_REQUIRED=1 makes that a failure. Set ZEROWS_NODE to use
// another node binary.
package wasm
