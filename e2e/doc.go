// Package e2e drives headless chromium against the examples: the demo's
// download, echoes from the browser's own WebSocket, and a chat between
// two tabs. It speaks the DevTools protocol through this library's own
// client, so it needs nothing but the standard library; the driver lives
// in its test files, and the library itself has no DevTools code.
//
//	go test ./e2e
//
// compression_test.go checks permessage-deflate with chromium and with
// Node's ws (pinned by node/package-lock.json, installed by npm ci into the
// user's cache directory on first use).
//
// Without chromium, or node and npm, the tests skip;
// ZEROWS_BROWSER_REQUIRED=1 makes that a failure. Screenshots go to $ZEROWS_ARTIFACTS, or by default to
// zerows-e2e under the system's temporary directory.
package e2e
