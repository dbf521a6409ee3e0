//go:build go1.24

package wstest

// netHTTPHasXConnect: net/http's HTTP/2 server and client know extended
// CONNECT (RFC 8441) from Go 1.24 on, off unless XConnectSetting is given.
const netHTTPHasXConnect = true
